"""The service-level background check on a large database: every minute, and a full recheck.

Usage: python tests/benchmarks/bench_sla_check.py --database-url URL [--recent-days 5]
       [--recheck 16000]

URL names a database filled by `python -m ticket_app bench` (1,000,000 generated tickets
created over a year, oldest first). Its tickets were loaded without service-level columns, so
first the tickets of the last `--recent-days` days get theirs (`services.sla.check_due` after
`mark_for_check`): with the default policies (24/7, the longest target 4 days) every older
ticket's targets have all run out, and a computed one would have no next check instant either,
so the check's index then holds what it would hold in steady state. Then it prints:

1. how many unclosed tickets there are and how many have a next check instant;
2. the every-minute check (`check_due`) at each of the next five minutes: tickets due, time;
3. the same check with nothing due, and the EXPLAIN of its index read;
4. with `--recheck N`: N unclosed tickets marked as a policy or calendar edit marks them, then
   checked, in tickets per second, with where the time went (`cProfile`: the UPDATE of the
   ticket rows against the rest).

Tickets get their service-level columns and audit events and stay; run it on a benchmark
database of its own.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ticket_app.models import Ticket, utc_now
from ticket_app.services import sla
from ticket_app.services.database import use_database

NEXT_CHECKS = (
    "EXPLAIN (ANALYZE, BUFFERS) SELECT sla_next_check_at, id FROM tickets "
    "WHERE sla_next_check_at <= now() + interval '1 minute' "
    "ORDER BY sla_next_check_at, id LIMIT 500"
)


def count(engine: sa.Engine, sql: str, **params: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql), params).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a `bench` database")
    parser.add_argument("--recent-days", type=int, default=5, help="days of tickets to compute")
    parser.add_argument("--recheck", type=int, default=0, help="unclosed tickets to re-check")
    args = parser.parse_args()
    engine = use_database(args.database_url)

    now = utc_now()
    with engine.begin() as connection:
        marked = sla.mark_for_check(
            connection, Ticket.created_at >= now - timedelta(days=args.recent_days), now
        )
    started = time.perf_counter()
    refreshed = sla.check_due()
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
        checked = sla.check_due(at)
        elapsed = (time.perf_counter() - started) * 1000
        print(f"every-minute check at now + {minute} min: {due} due, {checked} checked, ", end="")
        print(f"{elapsed:.1f} ms")
    started = time.perf_counter()
    checked = sla.check_due(at)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"the same check, nothing due: {checked} checked, {elapsed:.1f} ms")
    with engine.connect() as connection:
        for line in connection.execute(sa.text(NEXT_CHECKS)).scalars():
            print(f"  {line}")

    if args.recheck:
        oldest = count(
            engine,
            "SELECT min(id) FROM (SELECT id FROM tickets WHERE status <> 'closed' "
            "ORDER BY id DESC LIMIT :n) AS newest",
            n=args.recheck,
        )
        with engine.begin() as connection:
            marked = sla.mark_for_check(connection, Ticket.id >= oldest, utc_now())
        profile = cProfile.Profile()
        started = time.perf_counter()
        checked = profile.runcall(sla.check_due)
        elapsed = time.perf_counter() - started
        stats = pstats.Stats(profile)
        updating = sum(
            timing[3]
            for (_, _, name), timing in stats.stats.items()  # type: ignore[attr-defined]
            if name == "do_executemany"
        )
        print(
            f"full re-check of {marked:,} marked tickets: {checked:,} in {elapsed:.1f} s under "
            f"cProfile ({checked / elapsed:,.0f} tickets/s), {updating:.1f} s of it in the "
            f"executemany UPDATE of the ticket rows; all {unclosed:,} unclosed tickets at this "
            f"rate: {unclosed / (checked / elapsed) / 60:.1f} min"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
