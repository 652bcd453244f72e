"""The policies and calendars a create uses, on both databases: read by each create, rebuilt
only when they changed, and never stale, whoever changed them."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.auth import add_ticket, set_columns
from ticket_app.models import SlaCalendar, SlaPolicy, Ticket
from ticket_app.schemas import SlaCalendarWrite, SlaPolicyWrite
from ticket_app.services import sla, sla_policies
from ticket_app.services.database import service_session
from ticket_app.sla.calendar import BusinessCalendar

MINUTE = timedelta(minutes=1)


def high_policy() -> SlaPolicy:
    with service_session() as session:
        policy = session.execute(
            sa.select(SlaPolicy).where(SlaPolicy.priority == "high", SlaPolicy.category.is_(None))
        ).scalar_one()
        session.expunge(policy)
        return policy


def first_response_minutes(ticket_id: int) -> float:
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id)
        return (ticket.first_response_due_at - ticket.created_at) / MINUTE


def test_a_policy_edit_through_the_service_is_used_by_the_next_create(db: Engine) -> None:
    high = high_policy()
    assert first_response_minutes(add_ticket(priority="high")) == 240

    sla_policies.update_policy(
        high.id,
        SlaPolicyWrite(
            name=high.name,
            calendar_id=high.calendar_id,
            first_response_minutes=45,
            resolution_minutes=high.resolution_minutes,
        ),
        actor=SYSTEM,
    )

    assert first_response_minutes(add_ticket(priority="high")) == 45


def test_edits_in_plain_sql_from_another_connection_are_used_by_the_next_create(
    db: Engine,
) -> None:
    """What another process writes, without the service and without touching `updated_at`."""
    high = high_policy()
    always = sla_policies.create_calendar(SlaCalendarWrite(name="Always"), actor=SYSTEM)
    assert first_response_minutes(add_ticket(priority="high")) == 240

    set_columns(
        db, SlaPolicy, SlaPolicy.id == high.id, first_response_minutes=30, calendar_id=always.id
    )
    assert first_response_minutes(add_ticket(priority="high")) == 30

    mondays = BusinessCalendar.from_dict({"weekly_hours": {"monday": [["09:00", "17:00"]]}})
    weekly_hours = json.dumps(mondays.to_dict()["weekly_hours"], sort_keys=True)
    set_columns(db, SlaCalendar, SlaCalendar.id == always.id, weekly_hours=weekly_hours)
    ticket_id = add_ticket(priority="high")

    with service_session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.first_response_due_at == mondays.add_business_minutes(ticket.created_at, 30)


def test_the_book_is_built_again_only_when_a_policy_or_calendar_changed(db: Engine) -> None:
    with service_session() as session:
        first = sla.PolicyBook.load(session)
    with service_session() as session:
        again = sla.PolicyBook.load(session)
    high = high_policy()
    set_columns(db, SlaPolicy, SlaPolicy.id == high.id, name="High, renamed")
    with service_session() as session:
        renamed = sla.PolicyBook.load(session)

    assert again is first
    assert renamed is not first
    assert renamed.policy_for("high", "technical").name == "High, renamed"
    assert renamed.calendars.keys() == first.calendars.keys()
