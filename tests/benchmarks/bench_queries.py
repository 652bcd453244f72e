"""Query-plan and latency benchmark for the ticket list, search and stats on PostgreSQL.

Usage: TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
       python tests/benchmarks/bench_queries.py [--rows 100000]

Creates a scratch database beside TEST_DATABASE_URL's, migrates it, fills it with generated
tickets (COPY) and tags (issue 24: `vip` on 5% of tickets, `refund-request` on 30%, one of
2,000 `acct-NNNN` tags on every other ticket), then captures the exact SQL the service layer
sends for a search, a filtered list, the tag filters, the stats (with their tag counts) and
the tag autocomplete, prints `EXPLAIN (ANALYZE, BUFFERS)` for each, and the median/p95 latency
of each service call over repeated runs. The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.database import scratch_postgres_database
from ticket_app.cli.bench_data import WORDS
from ticket_app.models import ActorKind, Category, Priority, Status
from ticket_app.schemas import TicketFilters
from ticket_app.services import counts, stats, tags, ticket_query
from ticket_app.services import tickets as service
from ticket_app.services.access import Actor
from ticket_app.services.database import use_database
from ticket_app.services.migrations import upgrade_database

BENCH = Actor.process(ActorKind.SYSTEM, "bench")
# Tags by ticket id, set-based: a common tag, a very common one and a long tail.
TAGS = """
    INSERT INTO ticket_tags (ticket_id, tag)
    SELECT id, 'vip' FROM tickets WHERE id % 20 = 0
    UNION ALL SELECT id, 'refund-request' FROM tickets WHERE id % 10 < 3
    UNION ALL SELECT id, 'acct-' || lpad((id / 2 % 2000)::text, 4, '0')
        FROM tickets WHERE id % 2 = 0
"""


def generate_rows(count: int, seed: int = 7) -> list[dict[str, object]]:
    """`count` random tickets spread over the last 365 days.

    Text mixes common support words with a long tail of 20,000 product/error codes, so a search
    for a rare term matches about as few rows as it would in a real queue.
    """
    rng = random.Random(seed)
    tail = [f"{rng.choice(['sku', 'err', 'inv', 'ord'])}{n:05d}" for n in range(20_000)]
    now = datetime.now(timezone.utc)
    rows = []
    for _ in range(count):
        created = now - timedelta(seconds=rng.randrange(365 * 86400))
        rows.append(
            {
                "title": " ".join(rng.choices(WORDS, k=4) + rng.choices(tail, k=1)).capitalize(),
                "description": " ".join(rng.choices(WORDS, k=30) + rng.choices(tail, k=5)),
                "category": rng.choice(list(Category)).value,
                "priority": rng.choice(list(Priority)).value,
                "status": rng.choice(list(Status)).value,
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def capture_sql(engine: sa.Engine, call: Callable[[], object]) -> list[tuple[str, object]]:
    """Run `call` and return the (statement, parameters) pairs it sent to the database."""
    statements: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return statements


def timed(call: Callable[[], object], repeat: int = 30) -> tuple[float, float]:
    """Median and p95 wall time of `call` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    """Build the scratch database, print plans and latencies, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        sys.exit("set TEST_DATABASE_URL to a PostgreSQL URL")
    with scratch_postgres_database(base, prefix="triage_bench") as url:
        run_benchmark(url, args.rows)


def run_benchmark(url: str, rows_wanted: int) -> None:
    """Fill the database at `url` with `rows_wanted` tickets and print plans and latencies."""
    try:
        upgrade_database(url)
        engine = use_database(url)
        rows = generate_rows(rows_wanted)
        start = time.perf_counter()
        columns = list(rows[0])
        with engine.begin() as connection:
            connection.execute(sa.text("SET LOCAL statement_timeout = 0"))  # the app's is 5 s
            raw = connection.connection.driver_connection
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY tickets ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row([row[column] for column in columns])
            connection.execute(sa.text(TAGS))
        # The tag rows' counts arrive as one batch of deltas; fold them as the worker would.
        counts.fold_count_deltas()
        with engine.begin() as connection:
            connection.execute(
                sa.text("ANALYZE tickets, ticket_tags, ticket_tag_counts, ticket_tag_count_deltas")
            )
        print(
            f"inserted {rows_wanted} tickets and their tags in "
            f"{time.perf_counter() - start:.1f} s\n"
        )
        with engine.connect() as connection:
            deep_cursor_id = connection.execute(
                sa.text(
                    "SELECT id FROM tickets ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"
                ),
                {"n": int(rows_wanted * 0.9)},
            ).scalar_one()

        cases: dict[str, Callable[[], object]] = {
            "search 'err01234' (rare term, first page)": lambda: service.list_tickets(
                TicketFilters(search="err01234"), limit=50
            ),
            "search 'ERR0123' + status=open": lambda: service.list_tickets(
                TicketFilters(search="ERR0123", status=Status.OPEN), limit=50
            ),
            "search 'password' (common word, 60% of rows)": lambda: service.list_tickets(
                TicketFilters(search="password"), limit=50
            ),
            "filtered list category=billing&status=open": lambda: service.list_tickets(
                TicketFilters(category=Category.BILLING, status=Status.OPEN), limit=50
            ),
            "unfiltered list, page 2": lambda: service.list_tickets(
                limit=50, cursor=service.list_tickets(limit=50).next_cursor
            ),
            "unfiltered list, deep page (after 90% of the tickets)": lambda: service.list_tickets(
                limit=50, cursor=ticket_query.encode_cursor(deep_cursor_id)
            ),
            "tag=vip (5% of tickets, first page)": lambda: service.list_tickets(
                TicketFilters(tag="vip"), limit=50
            ),
            "tag=acct-0042 (0.025%)": lambda: service.list_tickets(
                TicketFilters(tag="acct-0042"), limit=50
            ),
            "tag=vip,refund-request + status=open": lambda: service.list_tickets(
                TicketFilters(tag="vip,refund-request", status=Status.OPEN), limit=50
            ),
            "tag=-refund-request (excluded, 70% match)": lambda: service.list_tickets(
                TicketFilters(tag="-refund-request"), limit=50
            ),
            "stats (all)": lambda: stats.ticket_stats(),
            "stats priority=critical": lambda: stats.ticket_stats(
                TicketFilters(priority=Priority.CRITICAL)
            ),
            "stats status=open&category=billing": lambda: stats.ticket_stats(
                TicketFilters(status=Status.OPEN, category=Category.BILLING)
            ),
            "tag autocomplete, no prefix": lambda: tags.suggest_tags(None, actor=BENCH),
            "tag autocomplete, prefix 'acct-01'": lambda: tags.suggest_tags("acct-01", actor=BENCH),
        }
        for label, call in cases.items():
            median, p95 = timed(call)
            print(f"=== {label}: median {median:.1f} ms, p95 {p95:.1f} ms (service call, 30 runs)")
            for statement, parameters in capture_sql(engine, call):
                if "tickets.id = %(pk_1)s" in statement:
                    continue  # the primary-key lookup that validates the cursor
                if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue  # session settings (SET LOCAL ...), not a query
                with engine.connect() as connection:
                    plan = connection.exec_driver_sql(
                        f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters
                    ).scalars()
                    print("\n".join(plan))
                print()
    finally:
        use_database("sqlite://")  # close the pool so the database can be dropped


if __name__ == "__main__":
    main()
