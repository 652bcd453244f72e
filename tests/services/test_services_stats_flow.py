"""The dashboard's created-versus-resolved per day (issue 25, item 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from ticket_app.models import Category, Priority, Status, TicketEvent
from ticket_app.models.audit import RESOLVED_EVENT_PREDICATE
from ticket_app.schemas import TicketCreate, TicketFilters, TicketUpdate
from ticket_app.services import stats, tickets
from ticket_app.services.errors import InvalidInputError
from ticket_app.services.stats import DayFlow, created_and_resolved_per_day


def _create(priority: Priority = Priority.LOW) -> int:
    ticket = tickets.create_ticket(
        TicketCreate(
            title="Flow",
            description="Counted per day",
            category=Category.GENERAL,
            priority=priority,
        ),
        actor=SYSTEM,
    )
    return ticket.id


def _status(ticket_id: int, status: Status) -> None:
    tickets.update_ticket(ticket_id, TicketUpdate(status=status), actor=SYSTEM)


def _move(engine: Engine, ticket_id: int, when: datetime) -> None:
    """Backdate a ticket and every event of it to `when`."""
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE tickets SET created_at = :when WHERE id = :id"),
            {"when": when, "id": ticket_id},
        )
        connection.execute(
            sa.update(TicketEvent).where(TicketEvent.ticket_id == ticket_id).values(created_at=when)
        )


def test_created_and_resolved_per_day_covers_every_day_of_the_period(db: Engine) -> None:
    today = datetime.now(UTC).date()
    two_days_ago = datetime.combine(today - timedelta(days=2), datetime.min.time(), UTC)
    old = _create(Priority.CRITICAL)
    _status(old, Status.RESOLVED)
    _status(old, Status.CLOSED)  # resolved then closed: resolved once
    _move(db, old, two_days_ago + timedelta(hours=10))
    reopened = _create()
    _status(reopened, Status.CLOSED)
    _status(reopened, Status.OPEN)
    _status(reopened, Status.RESOLVED)  # closed, reopened, resolved: twice
    _create()
    _move(db, _create(), two_days_ago - timedelta(days=30))  # before the period

    flows = created_and_resolved_per_day(days=3)

    assert flows == [
        DayFlow(today - timedelta(days=2), created=1, resolved=1),
        DayFlow(today - timedelta(days=1), created=0, resolved=0),
        DayFlow(today, created=2, resolved=2),
    ]
    critical = created_and_resolved_per_day(TicketFilters(priority=Priority.CRITICAL), days=3)
    assert [(f.created, f.resolved) for f in critical] == [(1, 1), (0, 0), (0, 0)]


@pytest.mark.parametrize("days", [0, stats.MAX_FLOW_DAYS + 1])
def test_a_period_out_of_range_is_refused(db: Engine, days: int) -> None:
    with pytest.raises(InvalidInputError):
        created_and_resolved_per_day(days=days)


def test_the_resolved_count_reads_the_partial_index(db: Engine) -> None:
    """The period's status changes are found through the index, not by reading the trail."""
    query = (
        "SELECT count(*) FROM ticket_events WHERE "
        + RESOLVED_EVENT_PREDICATE
        + " AND created_at >= :start"
    )
    prefix = "EXPLAIN QUERY PLAN " if db.dialect.name == "sqlite" else "EXPLAIN "
    with db.connect() as connection:
        if db.dialect.name == "postgresql":
            connection.execute(sa.text("SET enable_seqscan = off"))
        plan = " ".join(
            str(row)
            for row in connection.execute(
                sa.text(prefix + query), {"start": datetime(2026, 1, 1, tzinfo=UTC)}
            )
        )
    assert "ix_ticket_events_resolved_at" in plan
