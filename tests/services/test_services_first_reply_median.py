"""The dashboard's median time to first reply: the middle of the waits, read from their index
on PostgreSQL (migration 0031), equal to the plain median on both dialects."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ticket_app.models import Category
from ticket_app.schemas import TicketFilters
from ticket_app.services import stats

START = datetime(2026, 11, 1, tzinfo=UTC)
ROW = (
    "INSERT INTO tickets (title, description, category, priority, status, created_at, "
    "updated_at, requester_email, first_public_reply_at) VALUES ('t', 'd', :category, 'low', "
    "'open', :created_at, :created_at, :requester_email, :first_public_reply_at)"
)


def insert_waits(db: Engine, number: int, seed: int) -> dict[str, list[float]]:
    """Tickets with random waits; some unanswered, some without an address. Returns the waits
    (seconds) that count, per category."""
    rng = random.Random(seed)
    rows, counted = [], {category.value: [] for category in Category}
    for n in range(number):
        created = START + timedelta(minutes=n)
        wait = rng.randint(1, 500_000) + rng.random()
        category = rng.choice(list(Category)).value
        answered, addressed = rng.random() < 0.8, rng.random() < 0.8
        rows.append(
            {
                "category": category,
                "created_at": created,
                "requester_email": f"c{n}@example.com" if addressed else None,
                "first_public_reply_at": created + timedelta(seconds=wait) if answered else None,
            }
        )
        if answered and addressed:
            counted[category].append(round(wait, 6))
    with db.begin() as connection:
        connection.execute(sa.text(ROW), rows)
    return counted


def median(db: Engine, filters: TicketFilters | None = None) -> float | None:
    return stats.ticket_stats(filters, workload=True).median_first_reply_seconds


@pytest.mark.parametrize("number", [1, 2, 57, 58])
def test_the_median_is_the_middle_wait_for_odd_and_even_counts(db: Engine, number: int) -> None:
    counted = insert_waits(db, number, seed=number)
    waits = [wait for per_category in counted.values() for wait in per_category]
    expected = round(statistics.median(waits), 3) if waits else None
    assert median(db) == (pytest.approx(expected, abs=0.002) if waits else None)
    for category, category_waits in counted.items():
        filtered = median(db, TicketFilters(category=category))
        if category_waits:
            assert filtered == pytest.approx(statistics.median(category_waits), abs=0.002)
        else:
            assert filtered is None


def test_no_reply_means_no_median(db: Engine) -> None:
    assert median(db) is None
    with db.begin() as connection:
        connection.execute(
            sa.text(ROW),
            {
                "category": "billing",
                "created_at": START,
                "requester_email": None,
                "first_public_reply_at": START + timedelta(hours=1),
            },
        )
    assert median(db) is None


def test_the_median_reads_the_waits_index_not_the_table(db: Engine) -> None:
    """PostgreSQL: the statement walks `ix_tickets_first_reply_wait` in order; no table scan
    and no sort (sequential scans forced off, as the table is tiny here)."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite takes the median in Python")
    insert_waits(db, 40, seed=7)
    seen: list[tuple[str, dict]] = []

    def record(_conn, _cursor, statement, params, _context, _many) -> None:
        if "OFFSET" in statement and "first_public_reply_at" in statement:
            seen.append((statement, params))

    sa.event.listen(db, "before_cursor_execute", record)
    try:
        median(db)
    finally:
        sa.event.remove(db, "before_cursor_execute", record)
    [(statement, params)] = seen
    with db.begin() as connection:
        connection.execute(sa.text("ANALYZE tickets"))
        connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(f"EXPLAIN {statement}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_tickets_first_reply_wait" in plan
    assert "Seq Scan on tickets" not in plan
    assert "Sort" not in plan
