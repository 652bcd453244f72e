"""Policy and calendar edits queue their tickets' recomputation (`sla_rechecks`), on both
databases: the edit writes no ticket, the background check works through the queue in id order,
resumes where a stopped run left off and recomputes each ticket once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.services.test_services_sla import policy_of as default_policy
from tests.services.test_services_sla import stored
from tests.support.auth import add_ticket, add_user, set_columns
from ticket_app.enums import EventKind, Role
from ticket_app.models import Notification, SlaPolicy, SlaRecheck, Ticket, TicketEvent
from ticket_app.schemas import SlaCalendarWrite, SlaPolicyCreate, SlaPolicyWrite
from ticket_app.services import sla, sla_check, sla_policies
from ticket_app.services.database import service_session
from ticket_app.services.errors import NotFoundError
from ticket_app.services.migrations import downgrade_database, upgrade_database

MINUTE = timedelta(minutes=1)


def backdate(engine: Engine, ticket_id: int, by: timedelta) -> None:
    """Move a new ticket's creation `by` into the past and recompute its service levels."""
    created = stored(ticket_id).created_at - by
    set_columns(engine, Ticket, Ticket.id == ticket_id, created_at=created)
    with service_session() as session:
        sla.refresh_tickets_sla(session, [ticket_id])


def high_billing(first_response_minutes: int = 15) -> SlaPolicyCreate:
    """A category policy for high-priority billing tickets on the high default's calendar."""
    return SlaPolicyCreate(
        name="High billing",
        priority="high",
        category="billing",
        calendar_id=default_policy("high").calendar_id,
        first_response_minutes=first_response_minutes,
    )


def set_first_response(policy: SlaPolicy, minutes: int, calendar_id: int | None = None) -> None:
    sla_policies.update_policy(
        policy.id,
        SlaPolicyWrite(
            name=policy.name,
            calendar_id=calendar_id or policy.calendar_id,
            first_response_minutes=minutes,
            next_response_minutes=policy.next_response_minutes,
            resolution_minutes=policy.resolution_minutes,
        ),
        actor=SYSTEM,
    )


def queued() -> list[tuple[Any, ...]]:
    with service_session() as session:
        return [
            tuple(row)
            for row in session.execute(
                sa.select(
                    SlaRecheck.reason,
                    SlaRecheck.priority,
                    SlaRecheck.category,
                    SlaRecheck.calendar_id,
                    SlaRecheck.after_id,
                ).order_by(SlaRecheck.id)
            )
        ]


def test_a_policy_edit_writes_no_ticket_and_queues_one_recheck(db: Engine) -> None:
    ticket_id = add_ticket(priority="high")
    before = stored(ticket_id)
    high = default_policy("high")

    set_first_response(high, 30)

    after = stored(ticket_id)
    assert after.first_response_due_at == before.first_response_due_at
    assert after.sla_next_check_at == before.sla_next_check_at
    assert queued() == [(f"policy {high.id} changed", "high", None, None, 0)]

    assert sla_check.check_due() == 1
    assert stored(ticket_id).first_response_due_at == before.created_at + 30 * MINUTE
    assert queued() == []


def test_an_edit_that_changes_nothing_queues_nothing(db: Engine) -> None:
    high = default_policy("high")

    set_first_response(high, high.first_response_minutes or 60)

    assert queued() == []


def test_a_recheck_covers_only_its_scope_and_never_closed_tickets(db: Engine) -> None:
    high_open = add_ticket(priority="high")
    high_closed = add_ticket(priority="high", status="closed")
    low_open = add_ticket(priority="low")
    low_before = stored(low_open)
    closed_before = stored(high_closed)
    set_first_response(default_policy("high"), 30)

    assert sla_check.check_due() == 1

    assert stored(high_open).first_response_due_at == stored(high_open).created_at + 30 * MINUTE
    for ticket_id, before in ((low_open, low_before), (high_closed, closed_before)):
        after = stored(ticket_id)
        assert {name: getattr(after, name) for name in sla.SLA_COLUMNS} == {
            name: getattr(before, name) for name in sla.SLA_COLUMNS
        }


def test_a_category_policy_is_queued_with_its_category(db: Engine) -> None:
    billing = add_ticket(priority="high", category="billing")
    technical = add_ticket(priority="high", category="technical")
    technical_due = stored(technical).first_response_due_at

    created = sla_policies.create_policy(high_billing(), actor=SYSTEM)

    assert queued() == [(f"policy {created.id} added", "high", "billing", None, 0)]
    assert sla_check.check_due() == 1
    assert stored(billing).sla_policy_id == created.id
    assert stored(billing).first_response_due_at == stored(billing).created_at + 15 * MINUTE
    assert stored(technical).first_response_due_at == technical_due


def test_a_calendar_edit_rechecks_the_tickets_of_its_policies_only(db: Engine) -> None:
    office = sla_policies.create_calendar(
        SlaCalendarWrite(
            name="Office", time_zone="UTC", weekly_hours={"monday": [("09:00", "09:10")]}
        ),
        actor=SYSTEM,
    )
    low = default_policy("low")
    set_first_response(low, 30, calendar_id=office.id)
    sla_check.check_due()
    on_office = add_ticket(priority="low")
    elsewhere = add_ticket(priority="high")
    elsewhere_before = stored(elsewhere)
    office_due = stored(on_office).first_response_due_at
    assert (
        office_due is not None and office_due - stored(on_office).created_at > 7 * 24 * 60 * MINUTE
    )

    sla_policies.update_calendar(
        office.id,
        SlaCalendarWrite(name="Office", time_zone="UTC", weekly_hours=_every_day("00:00", "24:00")),
        actor=SYSTEM,
    )

    assert queued() == [(f"calendar {office.id} changed", None, None, office.id, 0)]
    assert sla_check.check_due() == 1
    assert stored(on_office).first_response_due_at == stored(on_office).created_at + 30 * MINUTE
    assert stored(elsewhere).sla_next_check_at == elsewhere_before.sla_next_check_at


def _every_day(start: str, end: str) -> dict[str, list[tuple[str, str]]]:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return {day: [(start, end)] for day in days}


def test_a_stopped_run_resumes_after_the_last_batch_it_committed(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [add_ticket(priority="high") for _ in range(5)]
    untouched_due = stored(ids[2]).first_response_due_at
    set_first_response(default_policy("high"), 30)
    refreshed: list[list[int]] = []
    real_refresh = sla_check.refresh_tickets_sla

    def refresh_then_stop(session: Any, ticket_ids: list[int], *args: Any, **kwargs: Any) -> Any:
        if len(refreshed) == 1:
            raise RuntimeError("worker stopped")
        refreshed.append(list(ticket_ids))
        return real_refresh(session, ticket_ids, *args, **kwargs)

    monkeypatch.setattr(sla_check, "refresh_tickets_sla", refresh_then_stop)
    with pytest.raises(RuntimeError):
        sla_check.run_rechecks(sla.utc_now(), batch_size=2)
    monkeypatch.setattr(sla_check, "refresh_tickets_sla", real_refresh)

    assert refreshed == [ids[:2]]
    assert queued()[0][-1] == ids[1]
    assert stored(ids[0]).first_response_due_at == stored(ids[0]).created_at + 30 * MINUTE
    assert stored(ids[2]).first_response_due_at == untouched_due

    assert sla_check.run_rechecks(sla.utc_now(), batch_size=2) == 3
    for ticket_id in ids:
        assert stored(ticket_id).first_response_due_at == (
            stored(ticket_id).created_at + 30 * MINUTE
        )
    assert queued() == []


def test_a_run_with_no_time_left_leaves_the_queue_for_the_next_minute(db: Engine) -> None:
    add_ticket(priority="high")
    set_first_response(default_policy("high"), 30)

    assert sla_check.check_due(recheck_seconds=0) == 0

    assert len(queued()) == 1
    assert sla_check.check_due(recheck_seconds=60) == 1
    assert queued() == []


def notified(user_id: int) -> list[tuple[str, int]]:
    with service_session() as session:
        return [
            tuple(row)
            for row in session.execute(
                sa.select(Notification.kind, Notification.ticket_id)
                .where(Notification.user_id == user_id, Notification.kind.like("sla_%"))
                .order_by(Notification.id)
            )
        ]


def test_a_shorter_target_records_past_breaches_but_only_alerts_on_live_ones(db: Engine) -> None:
    agent = add_user(Role.AGENT)
    old = add_ticket(priority="high", assignee_id=agent.id)
    backdate(db, old, 2 * 60 * MINUTE)
    young = add_ticket(priority="high", assignee_id=agent.id)
    backdate(db, young, 22 * MINUTE)
    sla_check.check_due()
    assert notified(agent.id) == []

    set_first_response(default_policy("high"), 25)
    sla_check.check_due()

    with service_session() as session:
        breaches = session.execute(
            sa.select(TicketEvent.ticket_id, TicketEvent.field).where(
                TicketEvent.kind == EventKind.SLA_BREACHED.value
            )
        ).all()
    assert [tuple(row) for row in breaches] == [(old, "first_response")]
    assert notified(agent.id) == [("sla_warning", young)]

    sla_check.check_due(sla.utc_now() + 6 * MINUTE)

    assert notified(agent.id) == [("sla_warning", young), ("sla_breached", young)]


def test_a_removed_policy_is_retired_and_its_open_tickets_move_to_the_default(
    db: Engine,
) -> None:
    high = default_policy("high")
    billing = high_billing()
    retired = sla_policies.create_policy(billing, actor=SYSTEM)
    open_id = add_ticket(priority="high", category="billing")
    closed_id = add_ticket(priority="high", category="billing", status="closed")
    assert stored(closed_id).sla_policy_id == retired.id

    sla_policies.delete_policy(retired.id, actor=SYSTEM)

    assert stored(open_id).sla_policy_id == retired.id  # the removal wrote no ticket
    assert [policy.id for policy in sla_policies.list_policies(actor=SYSTEM)].count(retired.id) == 0
    with pytest.raises(NotFoundError):
        sla_policies.delete_policy(retired.id, actor=SYSTEM)
    again = sla_policies.create_policy(billing, actor=SYSTEM)  # name and pair are free

    sla_policies.delete_policy(again.id, actor=SYSTEM)
    sla_check.check_due()

    assert stored(open_id).sla_policy_id == high.id
    assert stored(open_id).first_response_due_at == (
        stored(open_id).created_at + (high.first_response_minutes or 0) * MINUTE
    )
    assert stored(closed_id).sla_policy_id == retired.id  # measured under it, and says so
    assert queued() == []


def test_downgrade_moves_tickets_off_retired_policies_and_upgrade_restores_the_queue(
    db: Engine, database_url: str
) -> None:
    high = default_policy("high")
    retired = sla_policies.create_policy(high_billing(), actor=SYSTEM)
    closed_id = add_ticket(priority="high", category="billing", status="closed")
    sla_policies.delete_policy(retired.id, actor=SYSTEM)
    try:
        downgrade_database(database_url, "0027")
        db.dispose()
        with db.connect() as connection:
            assert (
                connection.execute(
                    sa.text("SELECT sla_policy_id FROM tickets WHERE id = :id"), {"id": closed_id}
                ).scalar_one()
                == high.id
            )
            assert (
                connection.execute(
                    sa.text("SELECT count(*) FROM sla_policies WHERE id = :id"), {"id": retired.id}
                ).scalar_one()
                == 0
            )
            assert "sla_rechecks" not in sa.inspect(connection).get_table_names()
    finally:
        upgrade_database(database_url)
        db.dispose()
    set_first_response(high, 30)
    assert len(queued()) == 1


def test_edits_in_quick_succession_restart_one_recheck_instead_of_queuing_more(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [add_ticket(priority="high") for _ in range(3)]
    high = default_policy("high")
    set_first_response(high, 30)
    real_refresh = sla_check.refresh_tickets_sla
    batches: list[int] = []

    def one_batch_then_stop(*args: Any, **kwargs: Any) -> Any:
        if batches:
            raise RuntimeError("worker stopped")
        batches.append(1)
        return real_refresh(*args, **kwargs)

    monkeypatch.setattr(sla_check, "refresh_tickets_sla", one_batch_then_stop)
    with pytest.raises(RuntimeError):
        sla_check.run_rechecks(sla.utc_now(), batch_size=2)
    monkeypatch.setattr(sla_check, "refresh_tickets_sla", real_refresh)
    assert queued()[0][-1] == ids[1]  # halfway

    set_first_response(high, 20)
    set_first_response(high, 25)

    assert queued() == [(f"policy {high.id} changed", "high", None, None, 0)]
    assert sla_check.check_due() == 3
    for ticket_id in ids:
        assert stored(ticket_id).first_response_due_at == (
            stored(ticket_id).created_at + 25 * MINUTE
        )
    assert queued() == []
