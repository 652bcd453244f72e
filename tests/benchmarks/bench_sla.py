"""Service-level benchmark on PostgreSQL: the backfill, the background check, the SLA queries.

Usage: TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
       python tests/benchmarks/bench_sla.py [--tickets 200000]

Creates a scratch database beside TEST_DATABASE_URL's, migrates it to 0012, COPYs N generated
tickets created over the last 14 days (30% open, 20% in progress, 10% pending, 20% resolved,
20% closed; priorities uniform) and a public staff reply on 10% of them, then prints:

1. migration 0013's upgrade (its backfill of every ticket from its history), in seconds;
2. the background check of all open tickets: every unclosed ticket marked for the check (what a
   calendar or policy edit does) and `services.sla_check.check_due` run over them;
3. the every-minute check as it runs in steady state (the tickets due in the next minute);
4. `EXPLAIN (ANALYZE, BUFFERS)` of "due soon" (`sla_due_at <= now() + 1 hour ORDER BY
   sla_due_at, id LIMIT 50`) and "breached" (`sla_breached_at IS NOT NULL ORDER BY
   sla_breached_at, id LIMIT 50`), the first pages of the console's views.

The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.conftest import SYSTEM, TEST_PASSWORD
from tests.support.database import scratch_postgres_database
from ticket_app.models import utc_now
from ticket_app.services import sla_check
from ticket_app.services.database import create_db_engine, use_database
from ticket_app.services.identity import users
from ticket_app.services.migrations import upgrade_database

STATUSES = ["open"] * 3 + ["in_progress"] * 2 + ["pending"] + ["resolved"] * 2 + ["closed"] * 2
PRIORITIES = ["low", "medium", "high", "critical"]
CATEGORIES = ["billing", "technical", "account", "general"]
DUE_SOON = (
    "SELECT id FROM tickets WHERE sla_due_at <= now() + interval '1 hour' "
    "ORDER BY sla_due_at, id LIMIT 50"
)
BREACHED = (
    "SELECT id FROM tickets WHERE sla_breached_at IS NOT NULL ORDER BY sla_breached_at, id LIMIT 50"
)


def load(engine: sa.Engine, count: int, staff_id: int, now: datetime) -> None:
    """COPY `count` tickets and a public staff reply on every tenth into the database."""
    rng = random.Random(22)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        columns = "title, description, category, priority, status, created_at, updated_at"
        with raw.cursor() as cursor, cursor.copy(f"COPY tickets ({columns}) FROM STDIN") as copy:
            for number in range(count):
                created = now - timedelta(seconds=rng.randrange(14 * 86400))
                copy.write_row(
                    (
                        f"Ticket {number}",
                        "Generated for the service-level benchmark.",
                        rng.choice(CATEGORIES),
                        rng.choice(PRIORITIES),
                        rng.choice(STATUSES),
                        created,
                        created,
                    )
                )
        connection.commit()
        connection.exec_driver_sql(
            "INSERT INTO ticket_comments (ticket_id, author_user_id, author_label, body, public, "
            f"channel, created_at) SELECT id, {staff_id}, 'agent@example.com', 'On it', true, "
            "'api', created_at + interval '30 minutes' FROM tickets WHERE mod(id, 10) = 0"
        )
        connection.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE tickets, ticket_comments")


def explain(engine: sa.Engine, query: str) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
        plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {query}").scalars().all()
    print(f"\n{query}")
    for line in plan:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200_000, help="tickets to generate")
    args = parser.parse_args()
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        sys.exit("set TEST_DATABASE_URL to a PostgreSQL server")
    with scratch_postgres_database(base_url, prefix="bench_sla") as url:
        upgrade_database(url, "0012")
        engine = use_database(url)
        staff = users.create_user("agent@example.com", "agent", TEST_PASSWORD, actor=SYSTEM)
        now = datetime.now(timezone.utc)
        started = time.perf_counter()
        loader = create_db_engine(url, statement_timeout_ms=0)
        load(loader, args.tickets, staff.id, now)
        print(f"{args.tickets:,} tickets loaded in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        upgrade_database(url)
        print(f"migration 0013 (backfill of every ticket): {time.perf_counter() - started:.1f} s")
        engine = use_database(url)
        with loader.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE tickets")
            unclosed = connection.exec_driver_sql(
                "SELECT count(*) FROM tickets WHERE status <> 'closed'"
            ).scalar_one()

        started = time.perf_counter()
        with loader.begin() as connection:
            sla_check.mark_for_check(connection, sa.true(), utc_now())
        refreshed = sla_check.check_due()
        seconds = time.perf_counter() - started
        print(
            f"check of all open tickets ({unclosed:,} unclosed, {refreshed:,} refreshed): "
            f"{seconds:.1f} s ({refreshed / seconds:,.0f} tickets/s)"
        )

        with engine.connect() as connection:
            upcoming = connection.exec_driver_sql(
                "SELECT count(*) FROM tickets "
                "WHERE sla_next_check_at <= now() + interval '1 minute'"
            ).scalar_one()
        started = time.perf_counter()
        refreshed = sla_check.check_due(utc_now() + timedelta(minutes=1))
        print(
            f"every-minute check, steady state ({upcoming:,} due within the minute, "
            f"{refreshed:,} refreshed): {time.perf_counter() - started:.3f} s"
        )
        started = time.perf_counter()
        sla_check.check_due(utc_now() + timedelta(minutes=1))
        print(f"the same check run again (nothing due): {time.perf_counter() - started:.3f} s")

        explain(engine, DUE_SOON)
        explain(engine, BREACHED)
        engine.dispose()
        loader.dispose()


if __name__ == "__main__":
    main()
