"""Full-text search benchmark on PostgreSQL: what the index costs writes, and the query plans.

Usage: python tests/benchmarks/bench_search.py --database-url URL [--writes 300] [--plans FILE]

Run it on a database the benchmark command filled (`python -m ticket_app bench --tickets
1000000 --database-url URL`: one million tickets with three comments each). It prints:

1. the p50 and p95 of creating a ticket and of adding a comment through the service layer, in
   alternating blocks of 25 with the search triggers (migration 0016) on and off, and their
   ratio (issue 23 allows the index at most 2x the create and comment p50). The tickets and
   comments written with the triggers off get their documents built afterwards;
2. `EXPLAIN (ANALYZE, BUFFERS)` of the first page of a common word, a rare word, a phrase and a
   no-hit search, newest first and by relevance, as the list runs them (written to `--plans`
   too when given).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ticket_app.cli.bench_data import COMMON_TERM, NO_HIT_TERM, PHRASE, RARE_TERM
from ticket_app.models import ActorKind, Ticket
from ticket_app.schemas import CommentCreate, TicketCreate, TicketFilters, TicketSort
from ticket_app.services.access import Actor
from ticket_app.services.comments import add_comment
from ticket_app.services.database import service_session, use_database
from ticket_app.services.ticket_query import sorted_query
from ticket_app.services.tickets import create_ticket

ACTOR = Actor.process(ActorKind.SYSTEM, "bench-search")
TRIGGERS = (
    ("tickets", "tr_tickets_search_document"),
    ("ticket_comments", "tr_comments_search_document"),
)
BLOCK = 25


def _set_triggers(engine: sa.Engine, enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    with engine.begin() as connection:
        for table, trigger in TRIGGERS:
            connection.exec_driver_sql(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")


def measure_writes(engine: sa.Engine, writes: int) -> dict[tuple[str, bool], list[float]]:
    """Create and comment latencies (ms), by (kind, triggers on), in alternating blocks."""
    timings: dict[tuple[str, bool], list[float]] = {}
    touched: list[int] = []
    n = 0
    while n < writes:
        for enabled in (True, False):
            _set_triggers(engine, enabled)
            for _ in range(BLOCK):
                n += 1
                data = TicketCreate(
                    title=f"Bench search {n}: invoice refund failing",
                    description=f"Customer {n} says the password reset e-mail never arrives.",
                    category="billing",
                    priority="medium",
                )
                started = time.perf_counter()
                ticket_id = create_ticket(data, actor=ACTOR).id
                timings.setdefault(("create", enabled), []).append(
                    (time.perf_counter() - started) * 1000
                )
                body = CommentCreate(
                    body=f"Checked the payment logs for customer {n}.", public=False
                )
                started = time.perf_counter()
                add_comment(ticket_id, body, actor=ACTOR)
                timings.setdefault(("comment", enabled), []).append(
                    (time.perf_counter() - started) * 1000
                )
                if not enabled:
                    touched.append(ticket_id)
    _set_triggers(engine, True)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE tickets SET search_document = td_ticket_search_document(id) "
                "WHERE id = ANY(:ids)"
            ),
            {"ids": touched},
        )
    return timings


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def explain_searches(engine: sa.Engine) -> str:
    """EXPLAIN ANALYZE of each search's first page (50 rows), newest first and by relevance."""
    searches = {
        "common word": COMMON_TERM,
        "rare word": RARE_TERM,
        "phrase": f'"{PHRASE}"',
        "no hit": NO_HIT_TERM,
    }
    lines: list[str] = []
    with service_session() as session:
        for name, text in searches.items():
            for sort in (TicketSort.NEWEST, TicketSort.RELEVANCE):
                query = sorted_query(session, TicketFilters(search=text), sort).limit(51)
                compiled = query.compile(
                    dialect=engine.dialect, compile_kwargs={"literal_binds": True}
                )
                plan = session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"))
                lines.append(f"=== {name} ({text}), sort {sort.value}")
                lines.extend(row[0] for row in plan)
                lines.append("")
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--plans", type=Path)
    args = parser.parse_args()
    engine = use_database(args.database_url)
    with service_session() as session:
        tickets = session.execute(sa.select(sa.func.count()).select_from(Ticket)).scalar_one()
        comments = session.execute(sa.text("SELECT count(*) FROM ticket_comments")).scalar_one()
    print(f"{tickets:,} tickets, {comments:,} comments on {engine.dialect.name}")
    timings = measure_writes(engine, args.writes)
    print("| write | search index | n | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for (kind, enabled), values in sorted(timings.items()):
        on = "on" if enabled else "off"
        p50, p95 = statistics.median(values), _percentile(values, 0.95)
        print(f"| {kind} | {on} | {len(values)} | {p50:.1f} | {p95:.1f} |")
    for kind in ("create", "comment"):
        ratio = statistics.median(timings[(kind, True)]) / statistics.median(timings[(kind, False)])
        print(f"{kind}: p50 with the index / without = {ratio:.2f}x")
    plans = explain_searches(engine)
    print(plans)
    if args.plans:
        args.plans.write_text(plans, encoding="utf-8")


if __name__ == "__main__":
    main()
