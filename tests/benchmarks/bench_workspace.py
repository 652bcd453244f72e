"""Query plans of the agent workspace's list views at 100,000 tickets on PostgreSQL.

Usage: TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
       python tests/benchmarks/bench_workspace.py [--rows 100000] [--out FILE]

Creates a scratch database beside TEST_DATABASE_URL's, migrates it, fills it with the tickets of
`bench_queries.generate_rows` plus ten agents holding 60% of them (40% unassigned), then for
every list view (all open, assigned to me, unassigned) and every sort captures the SQL the
service layer sends for the first page and for a page after a cursor, and writes
`EXPLAIN (ANALYZE, BUFFERS)` of each statement with its execution time to `--out`. A first
page's database time is that of all its statements (the page, then the capped count or its
planner estimate, see `services.counts`). The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_queries import capture_sql, generate_rows
from tests.support.database import scratch_postgres_database
from ticket_app.schemas import TicketFilters, TicketSort
from ticket_app.services import tickets as service
from ticket_app.services.database import use_database
from ticket_app.services.migrations import upgrade_database

AGENTS = 10
ASSIGNED_SHARE = 0.6
BUDGET_MS = 20.0
RUNS = 5


def add_agents(connection: sa.Connection) -> list[int]:
    """Insert AGENTS staff users (role agent) and return their ids."""
    table = sa.table(
        "staff_users", *(sa.column(c) for c in ("email", "name", "role", "password_hash"))
    )
    rows = [
        {"email": f"agent{n}@example.com", "name": f"Agent {n}", "role": "agent",
         "password_hash": "-"}
        for n in range(AGENTS)
    ]  # fmt: skip
    connection.execute(table.insert(), rows)
    return list(connection.execute(sa.text("SELECT id FROM staff_users ORDER BY id")).scalars())


def _analyzed(engine: sa.Engine, statement: str, parameters: object) -> tuple[list[str], float]:
    if statement.startswith("EXPLAIN"):
        # The capped count's planner estimate (services.counts): planning only, timed whole.
        with engine.connect() as connection:
            start = time.perf_counter()
            connection.exec_driver_sql(statement, parameters).all()
            elapsed = (time.perf_counter() - start) * 1000
        return [f"(a planner estimate, timed round trip: {elapsed:.2f} ms)"], elapsed
    with engine.connect() as connection:
        plan = list(
            connection.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters
            ).scalars()
        )
    (line,) = [row for row in plan if row.startswith("Execution Time")]
    return plan, float(line.split(":")[1].split()[0])


def explain(engine: sa.Engine, call: Callable[[], object]) -> list[tuple[str, float]]:
    """(plan text, execution ms) of each ticket query `call` sends: the fastest of RUNS.

    The fastest run is what the query costs the database; slower ones measure the other
    processes sharing the machine.
    """
    results = []
    for statement, parameters in capture_sql(engine, call):
        if "tickets.id = %(pk_1)s" in statement:
            continue  # the primary-key lookup of a newest-first cursor
        plan, ms = min(
            (_analyzed(engine, statement, parameters) for _ in range(RUNS)), key=lambda r: r[1]
        )
        results.append(("\n".join([statement, str(parameters), *plan]), ms))
    return results


def _kind(text: str) -> str:
    if text.startswith("EXPLAIN"):
        return "count estimate"
    return "page query" if "ORDER BY" in text else "count"


def views(me: int) -> dict[str, TicketFilters]:
    """The workspace's built-in views, as the list asks for them (me: one agent's id)."""
    return {
        "all tickets": TicketFilters(),
        "all open": TicketFilters(status="open"),
        "assigned to me": TicketFilters(assignee=str(me)),
        "assigned to me, open": TicketFilters(assignee=str(me), status="open"),
        "unassigned": TicketFilters(assignee="none"),
        "unassigned, open": TicketFilters(assignee="none", status="open"),
    }


def run(url: str, rows_wanted: int, out: Path) -> None:
    """Fill the database at `url`, write the plans to `out`, print the first-page times."""
    try:
        upgrade_database(url)
        engine = use_database(url)
        rng = random.Random(11)
        with engine.begin() as connection:
            agents = add_agents(connection)
            rows = generate_rows(rows_wanted)
            for row in rows:
                row["assignee_id"] = rng.choice(agents) if rng.random() < ASSIGNED_SHARE else None
            columns = (sa.column(c) for c in rows[0])
            connection.execute(sa.table("tickets", *columns).insert(), rows)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE tickets"))
        lines = [
            f"Agent-workspace list views at {rows_wanted:,} tickets on PostgreSQL "
            f"({AGENTS} agents hold {ASSIGNED_SHARE:.0%}; statuses, priorities uniform).",
            "Generated by tests/benchmarks/bench_workspace.py. First page: every statement the "
            "list sends (page query, then the capped count or its estimate); next query: the "
            f"page query after a cursor. Each EXPLAIN ANALYZE is the fastest of {RUNS} runs; "
            "`total` is the list's X-Total-Count (exact, or an estimate where a count would pass "
            "10,000).",
            "",
        ]
        summary = []
        for view, filters in views(agents[0]).items():
            for sort in TicketSort:
                first = service.list_tickets(filters, limit=50, sort=sort)
                first_page = explain(engine, lambda f=filters, s=sort: service.list_tickets(
                    f, limit=50, sort=s
                ))  # fmt: skip
                next_page = explain(engine, lambda f=filters, s=sort, c=first.next_cursor: (
                    service.list_tickets(f, limit=50, sort=s, cursor=c)
                ))  # fmt: skip
                total_ms = sum(ms for _, ms in first_page)
                page_ms = [ms for text, ms in next_page if "ORDER BY" in text]
                summary.append((view, sort.value, first.total, total_ms, page_ms[0]))
                lines.append(f"===== {view}, sort={sort.value}: {first.total} tickets; first page "
                             f"{total_ms:.2f} ms (all its statements) =====")  # fmt: skip
                for page, statements in (("first page", first_page), ("after a cursor", next_page)):
                    for text, _ms in statements:
                        lines.extend([f"--- {page}: {_kind(text)}", text, ""])
        header = (
            f"{'view':<22} {'sort':<12} {'total':>8} {'first page ms':>14} {'next query ms':>14}"
        )
        table = [header] + [
            f"{view:<22} {sort:<12} {total:>8} {first_ms:>14.2f} {next_ms:>14.2f}"
            for view, sort, total, first_ms, next_ms in summary
        ]
        slowest = max(first_ms for *_, first_ms, _next in summary)
        verdict = f"slowest first page: {slowest:.2f} ms (budget {BUDGET_MS:.0f} ms)"
        out.write_text("\n".join([*lines[:3], *table, verdict, "", *lines[3:]]) + "\n")
        print("\n".join([*table, verdict]))
    finally:
        use_database("sqlite://")  # close the pool so the database can be dropped


def main() -> None:
    """Build the scratch database, write the plans, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("docs/query-plans-workspace-100k.txt"))
    args = parser.parse_args()
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        sys.exit("set TEST_DATABASE_URL to a PostgreSQL URL")
    with scratch_postgres_database(base, prefix="triage_bench") as url:
        run(url, args.rows, args.out)


if __name__ == "__main__":
    main()
