"""The dashboard's triage override figure from trigger-kept counts (migration 0030): exact
through every kind of write, repaired by `counts rebuild`, filled from existing tickets."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.services.test_services_counts import assert_counts_exact, random_labels
from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import TicketFilters, TicketUpdate
from ticket_app.services import counts, stats, tickets
from ticket_app.services.migrations import downgrade_database, upgrade_database

ROW = (
    "INSERT INTO tickets (title, description, category, priority, status, "
    "suggested_category, suggested_priority) "
    "VALUES ('t', 'd', :category, :priority, :status, :suggested_category, :suggested_priority)"
)
FILTERS = [
    TicketFilters(),
    TicketFilters(status=Status.OPEN),
    TicketFilters(category=Category.BILLING),
    TicketFilters(category=Category.TECHNICAL, priority=Priority.HIGH),
]
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def insert_tickets(db: Engine, number: int, seed: int) -> None:
    """Tickets with random labels and random suggestions (none, category only, or both)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(number):
        suggested = rng.choice([None, *Category])
        rows.append(
            {
                **random_labels(rng),
                "suggested_category": suggested and suggested.value,
                "suggested_priority": suggested and rng.choice([None, *Priority]),
            }
        )
    with db.begin() as connection:
        connection.execute(sa.text(ROW), rows)


def assert_figures_match_the_rows() -> None:
    """For each enum filter, the counted figure equals the row aggregate (a since bound older
    than every ticket filters nothing but takes the aggregate path)."""
    for filters in FILTERS:
        counted = stats.triage_override_stats(filters)
        aggregated = stats.triage_override_stats(
            filters.model_copy(update={"created_since": LONG_AGO})
        )
        assert counted == aggregated, filters


def test_override_counts_follow_every_write(db: Engine) -> None:
    """Inserts (one statement, many rows), label changes through the service, suggestions
    changed and cleared by hand, a bulk relabel and deletes: the figure stays exact."""
    insert_tickets(db, 120, seed=1)
    overview = stats.triage_override_stats()
    assert 0 < overview.overridden < overview.suggested < 120
    with db.connect() as connection:
        ids = list(connection.execute(sa.text("SELECT id FROM tickets ORDER BY id")).scalars())
    rng = random.Random(2)
    for ticket_id in rng.sample(ids, 15):
        labels = random_labels(rng)
        tickets.update_ticket(
            ticket_id,
            TicketUpdate(category=labels["category"], priority=labels["priority"]),
            actor=SYSTEM,
        )
    assert_figures_match_the_rows()
    with db.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE tickets SET suggested_category = 'billing', suggested_priority = 'high' "
                "WHERE id % 5 = 0"
            )
        )
        connection.execute(sa.text("UPDATE tickets SET suggested_category = NULL WHERE id % 7 = 0"))
        connection.execute(sa.text("UPDATE tickets SET category = 'billing' WHERE id % 3 = 0"))
        connection.execute(sa.text("DELETE FROM tickets WHERE id % 11 = 0"))
    assert_counts_exact(db)
    assert_figures_match_the_rows()
    counts.fold_count_deltas()
    assert_counts_exact(db)
    assert_figures_match_the_rows()
    assert counts.rebuild_counts().fixes == []


def test_rebuild_reports_and_repairs_drifted_override_counts(db: Engine) -> None:
    insert_tickets(db, 40, seed=3)
    counts.fold_count_deltas()
    expected = stats.triage_override_stats()
    with db.begin() as connection:
        # Triggers bypassed by hand: every key's override count inflated by 2.
        touched = connection.execute(
            sa.text("UPDATE ticket_count_totals SET overridden = overridden + 2")
        ).rowcount
    report = counts.rebuild_counts()
    assert {fix.table for fix in report.fixes} == {"ticket_count_totals.overridden"}
    assert len(report.fixes) == touched
    assert all(fix.stored == fix.actual + 2 for fix in report.fixes)
    assert stats.triage_override_stats() == expected
    assert_counts_exact(db)


def test_upgrade_fills_the_override_counts_from_existing_tickets(
    db: Engine, database_url: str
) -> None:
    """Tickets written before 0030 (some still pending as deltas on PostgreSQL) are counted
    by the upgrade; down and up again keeps every count exact."""
    insert_tickets(db, 30, seed=4)
    try:
        downgrade_database(database_url, "0029")
        db.dispose()
        insert_tickets(db, 30, seed=5)
        with db.begin() as connection:
            connection.execute(sa.text("UPDATE tickets SET priority = 'low' WHERE id % 4 = 0"))
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert_counts_exact(db)
    assert_figures_match_the_rows()
    assert stats.triage_override_stats().suggested > 0
    insert_tickets(db, 10, seed=6)
    assert_counts_exact(db)
    assert counts.rebuild_counts().fixes == []
