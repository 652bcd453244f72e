"""The service-level background check on a large database: every minute, and a policy edit.

Usage: python tests/benchmarks/bench_sla_check.py --database-url URL [--recent-days 5]
       [--due 1000,5000] [--recheck-seconds 30]

URL names a database filled by `python -m ticket_app bench` (1,000,000 generated tickets
created over a year, oldest first). Its tickets were loaded without service-level columns, so
first the tickets of the last `--recent-days` days get theirs (`services.sla_check.check_due` after
`mark_for_check`): with the default policies (24/7, the longest target 4 days) every older
ticket's targets have all run out, and a computed one would have no next check instant either,
so the check's index then holds what it would hold in steady state. Then it prints:

1. how many unclosed tickets there are and how many have a next check instant;
2. the every-minute check (`check_due`) at each of the next five minutes: tickets due, time;
3. the same check with nothing due, and the EXPLAIN of its index read;
4. with `--due N,...`: one run of the check with the next N tickets due at once (the instant of
   the Nth next check instant; their real warnings and breaches, recorded and notified), as a
   burst of tickets falling due in the same minute would make it, in seconds and per ticket,
   with the notifications it wrote;
5. with `--recheck-seconds S`: an edit of the high priority's policy through the service (its
   first-response target one minute shorter, then back), how long the edit took and how many
   open tickets it queued; then the queued recheck worked on for S seconds as the every-minute
   job does, in tickets per second, with where the time went (`cProfile`: the UPDATE of the
   ticket rows against the rest), and how long the whole queue takes at that rate.

Tickets get their service-level columns and audit events and stay; run it on a benchmark
database of its own.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.conftest import SYSTEM
from ticket_app.models import SlaPolicy, SlaRecheck, Ticket, TicketEvent, utc_now
from ticket_app.schemas import SlaPolicyWrite
from ticket_app.services import sla_check, sla_policies
from ticket_app.services.database import service_session, use_database

NEXT_CHECKS = (
    "EXPLAIN (ANALYZE, BUFFERS) SELECT sla_next_check_at, id FROM tickets "
    "WHERE sla_next_check_at <= now() + interval '1 minute' "
    "ORDER BY sla_next_check_at, id LIMIT 500"
)


def count(engine: sa.Engine, sql: str, **params: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql), params).scalar_one())


def instant_at(engine: sa.Engine, sql: str, **params: object) -> datetime | None:
    """The one instant `sql` selects, or None when it selects no row."""
    with engine.connect() as connection:
        return connection.execute(sa.text(sql), params).scalar_one_or_none()


def edit_high_policy(minutes_shorter: int) -> float:
    """Move the high default policy's first-response target; the edit's duration in seconds."""
    with service_session() as session:
        high = session.execute(
            sa.select(SlaPolicy).where(SlaPolicy.priority == "high", SlaPolicy.category.is_(None))
        ).scalar_one()
        session.expunge(high)
    started = time.perf_counter()
    sla_policies.update_policy(
        high.id,
        SlaPolicyWrite(
            name=high.name,
            calendar_id=high.calendar_id,
            first_response_minutes=(high.first_response_minutes or 240) - minutes_shorter,
            next_response_minutes=high.next_response_minutes,
            resolution_minutes=high.resolution_minutes,
        ),
        actor=SYSTEM,
    )
    return time.perf_counter() - started


def recheck_policy_edit(engine: sa.Engine, seconds: float) -> None:
    """Print what a policy edit costs: the edit itself, then its recheck for `seconds`."""
    queued = count(
        engine, "SELECT count(*) FROM tickets WHERE priority = 'high' AND status <> 'closed'"
    )
    took = edit_high_policy(1)
    print(
        f"policy edit (high, first response 1 min shorter): saved in {took * 1000:.1f} ms, ", end=""
    )
    print(f"{queued:,} open high-priority tickets queued")
    profile = cProfile.Profile()
    started = time.perf_counter()
    checked = profile.runcall(sla_check.run_rechecks, utc_now(), seconds=seconds)
    elapsed = time.perf_counter() - started
    stats = pstats.Stats(profile)
    updating = sum(
        timing[3]
        for (_, _, name), timing in stats.stats.items()  # type: ignore[attr-defined]
        if name == "do_executemany"
    )
    rate = checked / elapsed
    work = queued / rate
    print(
        f"its recheck for {seconds:g} s: {checked:,} tickets in {elapsed:.1f} s under cProfile "
        f"({rate:,.0f} tickets/s), {updating:.1f} s of it in the executemany UPDATE of the "
        f"ticket rows; all {queued:,} at this rate: {work / 60:.1f} min of work, done after "
        f"about {work / sla_check.RECHECK_SECONDS:.0f} runs of the every-minute job "
        f"({sla_check.RECHECK_SECONDS:g} s each)"
    )
    edit_high_policy(-1)
    with engine.begin() as connection:
        connection.execute(sa.delete(SlaRecheck))


def check_burst(engine: sa.Engine, due: int) -> None:
    """Print one run of the check at the instant the next `due` tickets' checks have come."""
    at = (
        instant_at(
            engine,
            "SELECT sla_next_check_at FROM tickets WHERE sla_next_check_at IS NOT NULL "
            "ORDER BY sla_next_check_at, id OFFSET :skip LIMIT 1",
            skip=due - 1,
        )
        if due > 0
        else None
    )
    if at is None:
        print(f"a burst of {due:,} due: fewer tickets than that have a next check instant")
        return
    waiting = count(engine, "SELECT count(*) FROM tickets WHERE sla_next_check_at <= :at", at=at)
    began = utc_now()
    started = time.perf_counter()
    checked = sla_check.check_due(at)
    elapsed = time.perf_counter() - started
    told = count(engine, "SELECT count(*) FROM notifications WHERE created_at >= :at", at=began)
    ahead = (at - utc_now()) / timedelta(hours=1)
    print(f"the check with {waiting:,} due at once (the next {ahead:.1f} h's): ", end="")
    print(
        f"{checked:,} checked in {elapsed:.2f} s, {elapsed * 1000 / max(checked, 1):.2f} ms each, ",
        end="",
    )
    print(f"{told:,} notifications")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a `bench` database")
    parser.add_argument("--recent-days", type=int, default=5, help="days of tickets to compute")
    parser.add_argument(
        "--due",
        default="",
        help="comma-separated burst sizes: tickets falling due in one run of the check",
    )
    parser.add_argument(
        "--recheck-seconds", type=float, default=0, help="time given to a policy edit's recheck"
    )
    args = parser.parse_args()
    engine = use_database(args.database_url)
    with engine.begin() as connection:
        connection.execute(sa.delete(SlaRecheck))
        # An earlier run's bursts recorded warnings and breaches dated in the future: removed,
        # so this run's bursts record theirs again rather than finding them known.
        connection.execute(
            sa.delete(TicketEvent).where(
                TicketEvent.kind.in_(["sla_breached", "sla_warning"]),
                TicketEvent.created_at > utc_now(),
            )
        )

    now = utc_now()
    with engine.begin() as connection:
        marked = sla_check.mark_for_check(
            connection, Ticket.created_at >= now - timedelta(days=args.recent_days), now
        )
    started = time.perf_counter()
    refreshed = sla_check.check_due()
    print(
        f"service levels of the last {args.recent_days} days' tickets: {marked:,} marked, "
        f"{refreshed:,} computed in {time.perf_counter() - started:.1f} s"
    )
    unclosed = count(engine, "SELECT count(*) FROM tickets WHERE status <> 'closed'")
    scheduled = count(engine, "SELECT count(*) FROM tickets WHERE sla_next_check_at IS NOT NULL")
    print(f"{unclosed:,} unclosed tickets, {scheduled:,} with a next check instant")

    at = utc_now()
    for minute in range(1, 6):
        at = utc_now() + timedelta(minutes=minute)
        due = count(engine, "SELECT count(*) FROM tickets WHERE sla_next_check_at <= :at", at=at)
        started = time.perf_counter()
        checked = sla_check.check_due(at)
        elapsed = (time.perf_counter() - started) * 1000
        print(f"every-minute check at now + {minute} min: {due} due, {checked} checked, ", end="")
        print(f"{elapsed:.1f} ms")
    started = time.perf_counter()
    checked = sla_check.check_due(at)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"the same check, nothing due: {checked} checked, {elapsed:.1f} ms")
    with engine.connect() as connection:
        for line in connection.execute(sa.text(NEXT_CHECKS)).scalars():
            print(f"  {line}")

    for due in (int(size) for size in args.due.split(",") if size.strip()):
        check_burst(engine, due)
    if args.recheck_seconds:
        recheck_policy_edit(engine, args.recheck_seconds)
    engine.dispose()


if __name__ == "__main__":
    main()
