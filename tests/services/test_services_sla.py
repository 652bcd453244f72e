"""Service levels on stored tickets, on both databases: due times kept current by every write,
breaches and warnings recorded once by the background check, policy edits recomputed."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.auth import actor_of, add_ticket, add_user, set_columns
from tests.support.database import statements_sent
from ticket_app.enums import EventKind, Role
from ticket_app.models import Notification, SlaPolicy, Ticket, TicketComment, TicketEvent, utc_now
from ticket_app.schemas import (
    BulkRequest,
    CommentCreate,
    SlaCalendarWrite,
    SlaPolicyWrite,
    TicketUpdate,
)
from ticket_app.services import (
    comments,
    notifications,
    similarity,
    sla,
    sla_check,
    sla_policies,
    tickets,
)
from ticket_app.services.bulk import bulk_update
from ticket_app.services.database import service_session
from ticket_app.services.imports.write import import_records

MINUTE = timedelta(minutes=1)


def stored(ticket_id: int) -> Ticket:
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id)
        session.expunge(ticket)
        return ticket


def sla_events(ticket_id: int, kind: EventKind) -> list[tuple[str | None, str | None, str | None]]:
    with service_session() as session:
        return [
            tuple(row)
            for row in session.execute(
                sa.select(TicketEvent.field, TicketEvent.old_value, TicketEvent.new_value)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind.value)
                .order_by(TicketEvent.id)
            )
        ]


def backdate(engine: Engine, ticket_id: int, by: timedelta) -> datetime:
    """Move a ticket's creation, events and comments `by` into the past; its new creation."""
    created = stored(ticket_id).created_at - by
    set_columns(engine, Ticket, Ticket.id == ticket_id, created_at=created)
    with service_session() as session:
        for table in (TicketEvent, TicketComment):
            for row in session.execute(sa.select(table).where(table.ticket_id == ticket_id)):
                row[0].created_at -= by
    return created


def policy_of(priority: str) -> SlaPolicy:
    with service_session() as session:
        policy = session.execute(
            sa.select(SlaPolicy).where(SlaPolicy.priority == priority, SlaPolicy.category.is_(None))
        ).scalar_one()
        session.expunge(policy)
        return policy


def test_create_stores_due_times_from_the_priority_default_policy(db: Engine) -> None:
    ticket = stored(add_ticket(priority="high"))

    created = ticket.created_at
    assert ticket.sla_policy_id == policy_of("high").id
    assert ticket.first_response_due_at == created + 240 * MINUTE
    assert ticket.resolution_due_at == created + 1440 * MINUTE
    assert ticket.next_response_due_at is None
    assert ticket.sla_due_at == ticket.first_response_due_at
    assert ticket.sla_breached_at is None
    assert not ticket.sla_paused
    assert ticket.sla_next_check_at == created + 192 * MINUTE  # 80% of the first response


def test_public_reply_stops_the_first_response_clock_an_internal_note_does_not(db: Engine) -> None:
    agent = actor_of(add_user(Role.AGENT).email)
    noted = add_ticket("Printer jammed")
    answered = add_ticket("Printer smoking")

    comments.add_comment(noted, CommentCreate(body="Checking logs", public=False), actor=agent)
    comments.add_comment(answered, CommentCreate(body="On our way", public=True), actor=agent)

    assert stored(noted).first_response_due_at is not None
    replied = stored(answered)
    assert replied.first_response_due_at is None
    assert replied.sla_due_at == replied.resolution_due_at


def test_priority_change_keeps_the_business_time_already_spent(db: Engine) -> None:
    ticket_id = add_ticket(priority="high")
    created = backdate(db, ticket_id, 100 * MINUTE)

    tickets.update_ticket(ticket_id, TicketUpdate(priority="medium"), actor=SYSTEM)

    ticket = stored(ticket_id)
    assert ticket.sla_policy_id == policy_of("medium").id
    assert ticket.first_response_due_at == created + 480 * MINUTE
    assert ticket.resolution_due_at == created + 2880 * MINUTE


def test_a_breach_is_recorded_once_with_its_target(db: Engine) -> None:
    ticket_id = add_ticket(priority="critical")
    created = stored(ticket_id).created_at
    later = created + 61 * MINUTE

    assert sla_check.check_due(later) == 1
    assert sla_check.check_due(later) == 0
    assert sla_check.check_due(later + 5 * MINUTE) == 0

    breaches = sla_events(ticket_id, EventKind.SLA_BREACHED)
    due = created + 60 * MINUTE
    assert breaches == [("first_response", due.isoformat(), "60")]
    ticket = stored(ticket_id)
    assert ticket.first_response_breached_at == due
    assert ticket.sla_breached_at == due


def test_a_warning_at_80_percent_is_recorded_once_naming_the_assignee(db: Engine) -> None:
    agent = add_user(Role.AGENT)
    ticket_id = add_ticket(priority="critical", assignee_id=agent.id)
    created = stored(ticket_id).created_at

    assert sla_check.check_due(created + 47 * MINUTE) == 0
    assert sla_check.check_due(created + 48 * MINUTE) == 1
    assert sla_check.check_due(created + 49 * MINUTE) == 0

    assert sla_events(ticket_id, EventKind.SLA_WARNING) == [
        ("first_response", created.isoformat(), str(agent.id))
    ]
    assert stored(ticket_id).sla_next_check_at == created + 60 * MINUTE


def test_policy_edit_recomputes_the_open_tickets_at_the_next_check(db: Engine) -> None:
    admin = actor_of(add_user(Role.ADMIN).email)
    open_id = add_ticket(priority="high")
    closed_id = add_ticket(priority="high", status="closed")
    created = stored(open_id).created_at
    high = policy_of("high")

    sla_policies.update_policy(
        high.id,
        SlaPolicyWrite(
            name=high.name,
            calendar_id=high.calendar_id,
            first_response_minutes=30,
            next_response_minutes=high.next_response_minutes,
            resolution_minutes=high.resolution_minutes,
        ),
        actor=admin,
    )
    sla_check.check_due()

    assert stored(open_id).first_response_due_at == created + 30 * MINUTE
    assert stored(closed_id).sla_next_check_at is None
    with service_session() as session:
        audited = session.execute(
            sa.select(TicketEvent.field, TicketEvent.old_value, TicketEvent.new_value).where(
                TicketEvent.kind == EventKind.SLA_POLICY_CHANGED.value
            )
        ).all()
    assert [tuple(row) for row in audited] == [
        (f"policy {high.id}.first_response_minutes", "240", "30")
    ]


def test_a_disabled_policy_sets_no_due_times(db: Engine) -> None:
    admin = actor_of(add_user(Role.ADMIN).email)
    low = policy_of("low")
    sla_policies.update_policy(
        low.id,
        SlaPolicyWrite(name=low.name, calendar_id=low.calendar_id, enabled=False),
        actor=admin,
    )

    ticket = stored(add_ticket(priority="low"))

    assert ticket.sla_policy_id is None
    assert ticket.sla_due_at is None
    assert ticket.sla_next_check_at is None


def test_history_of_reads_replies_customer_mail_and_label_changes(db: Engine) -> None:
    agent = actor_of(add_user(Role.AGENT).email)
    ticket_id = add_ticket(priority="high")
    comments.add_comment(ticket_id, CommentCreate(body="Hello", public=True), actor=agent)
    tickets.update_ticket(ticket_id, TicketUpdate(priority="low"), actor=SYSTEM)

    with service_session() as session:
        history = sla.history_of(session, ticket_id)

    kinds = [type(event).__name__ for event in history.events]
    assert history.targets.first_response_minutes == 240
    assert sorted(kinds) == ["StaffReplied", "TargetsChanged"]


def test_pending_stops_resolution_but_not_the_first_response(db: Engine) -> None:
    ticket_id = add_ticket(priority="high")
    created = backdate(db, ticket_id, 100 * MINUTE)

    tickets.update_ticket(ticket_id, TicketUpdate(status="pending"), actor=SYSTEM)

    waiting = stored(ticket_id)
    assert waiting.sla_paused
    assert waiting.resolution_due_at is None
    assert waiting.first_response_due_at == created + 240 * MINUTE
    sla_check.check_due(created + 2000 * MINUTE)
    assert [field for field, _, _ in sla_events(ticket_id, EventKind.SLA_BREACHED)] == [
        "first_response"
    ]
    assert stored(ticket_id).resolution_breached_at is None


def test_a_pending_ticket_resumes_where_its_clock_stopped(db: Engine) -> None:
    ticket_id = add_ticket(priority="high")
    backdate(db, ticket_id, 100 * MINUTE)
    tickets.update_ticket(ticket_id, TicketUpdate(status="pending"), actor=SYSTEM)
    backdate(db, ticket_id, 500 * MINUTE)

    tickets.update_ticket(ticket_id, TicketUpdate(status="open"), actor=SYSTEM)

    with service_session() as session:
        paused_at, reopened_at = session.execute(
            sa.select(TicketEvent.created_at)
            .where(TicketEvent.field == "status")
            .order_by(TicketEvent.id)
        ).scalars()
    ticket = stored(ticket_id)
    spent = paused_at - ticket.created_at  # 100 minutes and the test's own few milliseconds
    assert not ticket.sla_paused
    assert ticket.resolution_due_at == reopened_at + 1440 * MINUTE - spent


def test_bulk_changes_are_recomputed_by_the_next_check_and_merges_at_once(db: Engine) -> None:
    first, second, duplicate = (add_ticket(f"Printer {n}", priority="high") for n in range(3))
    request = BulkRequest.model_validate({"ids": [first, second], "changes": {"priority": "low"}})

    bulk_update(request, actor=SYSTEM)
    marked = stored(first)
    assert marked.sla_next_check_at is not None and marked.sla_next_check_at <= utc_now()
    similarity.merge_ticket(duplicate, first, actor=SYSTEM)
    sla_check.check_due()

    for ticket_id in (first, second):
        ticket = stored(ticket_id)
        assert ticket.first_response_due_at == ticket.created_at + 1440 * MINUTE
    merged = stored(duplicate)
    assert merged.status == "closed" and merged.sla_due_at is None


def test_imported_tickets_get_their_due_times_from_the_next_check(db: Engine) -> None:
    rows = [{"title": "Old outage", "description": "Down", "priority": "critical"}]

    import_records(enumerate(rows, start=1), classify=False)

    with service_session() as session:
        [ticket_id] = session.execute(sa.select(Ticket.id)).scalars()
    assert stored(ticket_id).sla_next_check_at is not None
    assert stored(ticket_id).sla_due_at is None
    sla_check.check_due()
    ticket = stored(ticket_id)
    assert ticket.first_response_due_at == ticket.created_at + 60 * MINUTE


def test_a_new_ticket_is_written_once_with_what_a_refresh_would_store(db: Engine) -> None:
    """Create computes the clock before its INSERT; a refresh right after changes nothing."""
    office = sla_policies.create_calendar(
        SlaCalendarWrite(
            name="Office with lunch",
            time_zone="Europe/Berlin",
            weekly_hours={"monday": [("09:00", "12:00"), ("13:00", "17:00")]},
        ),
        actor=SYSTEM,
    )
    low = policy_of("low")
    sla_policies.update_policy(
        low.id,
        SlaPolicyWrite(
            name=low.name,
            calendar_id=office.id,
            first_response_minutes=30,
            resolution_minutes=600,
        ),
        actor=SYSTEM,
    )
    created = [
        add_ticket(priority=priority, status=status)
        for priority in ("critical", "low")
        for status in ("open", "pending", "resolved")
    ]
    with service_session() as session:
        before = {ticket_id: stored(ticket_id) for ticket_id in created}
        states = sla.refresh_tickets_sla(session, created, before[created[0]].created_at)
    for ticket_id in created:
        after = stored(ticket_id)
        assert {name: getattr(after, name) for name in sla.SLA_COLUMNS} == {
            name: getattr(before[ticket_id], name) for name in sla.SLA_COLUMNS
        }
        assert states[ticket_id].nearest_due_at == after.sla_due_at
    low_open = stored(created[3])
    assert low_open.sla_policy_id == low.id and low_open.first_response_due_at is not None
    assert low_open.first_response_due_at.astimezone().weekday() == 0  # the next Monday


def test_create_writes_the_ticket_row_once(db: Engine) -> None:
    """No UPDATE of `tickets` follows the INSERT: each one rewrote every index of the table."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()[:2]).upper())

    sa.event.listen(db, "before_cursor_execute", record)
    try:
        add_ticket(priority="critical", assignee_id=None)
    finally:
        sa.event.remove(db, "before_cursor_execute", record)
    assert "INSERT INTO" in statements
    assert "UPDATE TICKETS" not in statements


def test_edits_and_replies_write_the_ticket_row_once_with_what_a_refresh_would_store(
    db: Engine,
) -> None:
    """A PATCH or a comment stores its change and the service levels in one UPDATE of the
    ticket (a second rewrote every index of `tickets` again); a refresh after changes nothing."""
    agent = actor_of(add_user(Role.AGENT).email)
    ticket_id = add_ticket(priority="high")
    created = backdate(db, ticket_id, 100 * MINUTE)
    writes = [
        lambda: tickets.update_ticket(ticket_id, TicketUpdate(priority="critical"), actor=agent),
        lambda: tickets.update_ticket(ticket_id, TicketUpdate(status="pending"), actor=agent),
        lambda: comments.add_comment(
            ticket_id, CommentCreate(body="Any news?", public=True), actor=agent
        ),
    ]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()[:2]).upper())

    for write in writes:
        statements.clear()
        sa.event.listen(db, "before_cursor_execute", record)
        try:
            write()
        finally:
            sa.event.remove(db, "before_cursor_execute", record)
        assert statements.count("UPDATE TICKETS") == 1

    ticket = stored(ticket_id)
    assert ticket.priority == "critical" and ticket.first_response_due_at is None
    assert ticket.first_response_breached_at == created + 60 * MINUTE
    assert sla_events(ticket_id, EventKind.SLA_BREACHED) == [
        ("first_response", (created + 60 * MINUTE).isoformat(), "60")
    ]
    with service_session() as session:
        sla.refresh_tickets_sla(session, [ticket_id], ticket.updated_at)
    after = stored(ticket_id)
    assert {name: getattr(after, name) for name in sla.SLA_COLUMNS} == {
        name: getattr(ticket, name) for name in sla.SLA_COLUMNS
    }


def test_a_status_change_reads_the_tickets_history_in_one_statement(db: Engine) -> None:
    """Its audited changes and its comments, which the clocks are computed from, in one round
    trip (two before); the reply still stops the first-response clock."""
    agent = actor_of(add_user(Role.AGENT).email)
    ticket_id = add_ticket(priority="high")
    comments.add_comment(ticket_id, CommentCreate(body="On it", public=True), actor=agent)

    with statements_sent(db, containing="ticket_comments") as reads:
        tickets.update_ticket(ticket_id, TicketUpdate(status="in_progress"), actor=agent)

    assert len(reads) == 1 and "ticket_events" in reads[0][0]
    ticket = stored(ticket_id)
    assert ticket.status == "in_progress" and ticket.first_response_due_at is None


def _statements_of_check(engine: Engine, ticket_ids: list[int], at: datetime) -> int:
    """How many statements one run of the check sends to tell `ticket_ids`, due at `at`."""
    with statements_sent(engine) as sent:
        assert sla_check.check_due(at) == len(ticket_ids)
    return len(sent)


def test_the_check_tells_a_batch_of_owners_and_the_team_in_a_fixed_number_of_statements(
    db: Engine,
) -> None:
    agents = [add_user(Role.AGENT, f"agent{n}@example.com") for n in range(3)]
    small = [add_ticket(priority="critical", assignee_id=agents[0].id), add_ticket()]
    large = [add_ticket(priority="critical", assignee_id=agents[n % 3].id) for n in range(6)]
    large += [add_ticket(priority="low") for _ in range(4)]
    later = utc_now() + timedelta(days=60)
    set_columns(db, Ticket, Ticket.id.in_(large), sla_next_check_at=later)

    statements = _statements_of_check(db, small, later - MINUTE)
    assert _statements_of_check(db, large, later) == statements

    with service_session() as session:
        team = set(notifications.team_ids(session))
        told = sorted(
            session.execute(
                sa.select(Notification.user_id, Notification.kind, Notification.ticket_id).where(
                    Notification.ticket_id.in_(small + large), Notification.kind.like("sla_%")
                )
            ).all()
        )
    expected = []
    for ticket_id in small + large:
        owner = stored(ticket_id).assignee_id
        for kind in (EventKind.SLA_BREACHED, EventKind.SLA_WARNING):
            for _ in sla_events(ticket_id, kind):
                for user_id in [owner] if owner is not None else team:
                    expected.append((user_id, kind.value, ticket_id))
    assert told == sorted(expected)
    assert team == {agent.id for agent in agents} and len(told) > len(small + large)
