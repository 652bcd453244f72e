"""The dashboard's workload reads: the median time to first reply (the middle of the waits,
read from their index on PostgreSQL, equal to the plain median on both dialects), open
tickets per assignee, each an index-only scan under enum filters (migration 0031), and the
SLA report's percentiles read from the nearer end, equal to `percentile_cont`."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.database import statements_sent
from ticket_app.models import Category
from ticket_app.schemas import TicketFilters
from ticket_app.services import stats
from ticket_app.services.sla_report import sla_report

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


def workload_plans(
    db: Engine, filters: TicketFilters, marker: str, read: Callable[[TicketFilters], object]
) -> list[str]:
    """The plans of the workload statements containing `marker`, with sequential and bitmap
    scans priced out, after a VACUUM (an index-only scan counts on the visibility map)."""
    with statements_sent(db, containing=marker) as seen:
        read(filters)
    plans = []
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE tickets"))
    with db.begin() as connection:
        connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
        connection.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        raw = connection.connection.driver_connection
        for statement, params in seen:
            with raw.cursor() as cursor:
                cursor.execute(f"EXPLAIN {statement}", params)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.parametrize(
    "filters",
    [TicketFilters(), TicketFilters(status="open"), TicketFilters(category="billing")],
    ids=["no filter", "status", "category"],
)
def test_the_workload_reads_only_its_indexes(db: Engine, filters: TicketFilters) -> None:
    """PostgreSQL: the median walks `ix_tickets_first_reply_wait` in order, with no sort, and
    both it and open tickets per assignee are index-only scans: they never read the table.
    (2,000 open tickets: enough that fetching rows costs the planner more than it saves.)"""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite takes the median in Python and has no INCLUDE columns")
    insert_waits(db, 2000, seed=7)
    [median_plan] = workload_plans(db, filters, "OFFSET", lambda f: median(db, f))
    assert "Index Only Scan using ix_tickets_first_reply_wait" in median_plan
    assert "Sort" not in median_plan and "Seq Scan" not in median_plan
    [assignee_plan] = workload_plans(db, filters, "staff_users", lambda f: median(db, f))
    assert "Index Only Scan using ix_tickets_assignee_id_status_created_at_id" in assignee_plan
    assert "Seq Scan on tickets" not in assignee_plan


TARGETS = ("first", "resolution")


def insert_durations(db: Engine, rows: list[dict]) -> None:
    """Resolved tickets with these business-minute durations (`first`, `resolution`; None:
    not measured) in these categories."""
    with db.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO tickets (title, description, category, priority, status, "
                "first_response_business_minutes, resolution_business_minutes) "
                "VALUES ('t', 'd', :category, 'low', 'resolved', :first, :resolution)"
            ),
            rows,
        )


def percentile_cont(values: list[float], p: float) -> float:
    """PostgreSQL's `percentile_cont`: linear interpolation between the two closest ranks."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    below = int(position)
    if below + 1 == len(ordered):
        return ordered[below]
    return ordered[below] + (ordered[below + 1] - ordered[below]) * (position - below)


@pytest.mark.parametrize("number", [1, 2, 7, 50, 51])
def test_the_sla_report_times_equal_percentile_cont(db: Engine, number: int) -> None:
    """Median and 90th percentile of measured durations, read from the nearer end of their
    order, equal `percentile_cont` over the matching tickets, with and without a filter."""
    rng = random.Random(number)
    rows = []
    measured = {target: {category.value: [] for category in Category} for target in TARGETS}
    for n in range(number + 5):
        category = rng.choice(list(Category)).value
        row = {"category": category, "first": None, "resolution": None}
        if n >= 5:
            for target in TARGETS:
                row[target] = round(rng.uniform(0, 10_000), 3)
                measured[target][category].append(row[target])
        rows.append(row)
    insert_durations(db, rows)
    for category in [None, *(category.value for category in Category)]:
        report = sla_report(TicketFilters(category=category))
        durations = {"first": report.first_response_time, "resolution": report.resolution_time}
        for target, duration in durations.items():
            by_category = measured[target]
            values = [v for c, vs in by_category.items() if category in (None, c) for v in vs]
            assert duration.tickets == len(values)
            if not values:
                assert (duration.median_hours, duration.p90_hours) == (None, None)
                continue
            expected = [round(percentile_cont(values, p) / 60, 2) for p in (0.5, 0.9)]
            assert [duration.median_hours, duration.p90_hours] == pytest.approx(expected, abs=0.011)


def test_the_sla_report_times_read_their_indexes_only(db: Engine) -> None:
    """PostgreSQL: under an enum filter each percentile read of the SLA report walks its
    duration's partial index, index-only, with no sort."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has no INCLUDE columns")
    insert_durations(
        db,
        [
            {"category": ("billing", "general")[n % 2], "first": n, "resolution": 2 * n}
            for n in range(2000)
        ],
    )
    plans = workload_plans(db, TicketFilters(category="billing"), "LIMIT", lambda f: sla_report(f))
    columns = ("first_response", "first_response", "resolution", "resolution")
    for plan, column in zip(plans, columns, strict=True):
        assert "Index Only Scan" in plan and f"ix_tickets_{column}_minutes" in plan, plan
        assert "Sort" not in plan
