"""Service levels on stored tickets: each ticket's due and breach instants, kept current.

`refresh_tickets_sla(session, ticket_ids, now)` reads the tickets' histories (status, priority
and category changes from `ticket_events`, replies and customer messages from
`ticket_comments`; an auto-reply such as an out-of-office mail is not a customer message),
runs the pure clock (`ticket_app.sla.clock.compute_sla_state`) with the
policy matching each ticket, and stores the result on the ticket in the caller's transaction,
with what the SLA report aggregates (`ticket_app.sla.measures`).
Every single-ticket write path calls it (ticket create and update, comments, inbound mail,
merges); bulk changes, imports and policy or calendar edits leave their tickets to the
background check (`services.sla_check`), which calls it too.

A refresh stores each ticket's next check instant (`sla_next_check_at`): the next instant
something must be recorded, that is a running clock's warning instant (SLA_WARNING_RATIO of its
target) or its due instant. Each breach is recorded once as an `sla_breached` audit event
(field: the target; old value: the instant it ran out; new value: the target minutes), each
warning once per target and cycle as an `sla_warning` event (field: the target; old value:
when the clock or next-response cycle started, which identifies the cycle; new value: the
assignee's id, or none when unassigned). Both are written by the system actor `sla`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import (
    NO_DUE_TIME,
    ActorKind,
    EventKind,
    MailKind,
    MailMessage,
    NotificationKind,
    SlaCalendar,
    SlaPolicy,
    Ticket,
    TicketComment,
    TicketEvent,
    utc_now,
)
from ticket_app.services.access import Actor
from ticket_app.services.audit import event_row
from ticket_app.services.notifications import Notice, notice, notify_many, team_ids
from ticket_app.settings import get_settings
from ticket_app.sla.calendar import BusinessCalendar
from ticket_app.sla.clock import (
    ClockState,
    SlaState,
    SlaTargets,
    TargetClock,
    TicketHistory,
    compute_sla_state,
)
from ticket_app.sla.history import CLOCK_FIELDS, CommentFact, FieldChange, build_history
from ticket_app.sla.measures import report_measures

SLA_ACTOR = Actor.process(ActorKind.SYSTEM, "sla")
"""Who records breaches and warnings in the audit trail."""
TARGET_NAMES = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}
"""How a notification names the target it is about."""

_SLA_EVENT_KINDS = (EventKind.SLA_BREACHED.value, EventKind.SLA_WARNING.value)
_NO_TARGETS = SlaTargets()


def calendar_from_row(row: SlaCalendar | sa.Row[Any]) -> BusinessCalendar:
    """The `BusinessCalendar` a stored calendar describes (CalendarError if it is invalid).

    `row` is the calendar, or any row with its settings' columns under their own names.
    """
    return BusinessCalendar.from_dict(
        {
            "time_zone": row.time_zone,
            "weekly_hours": json.loads(row.weekly_hours),
            "holiday_country": row.holiday_country,
            "holiday_subdivision": row.holiday_subdivision,
            "closed_dates": json.loads(row.closed_dates),
        }
    )


def targets_of(policy: SlaPolicy | None) -> SlaTargets:
    """A policy's targets; none for no policy or a disabled one."""
    if policy is None or not policy.enabled:
        return _NO_TARGETS
    return SlaTargets(
        first_response_minutes=policy.first_response_minutes,
        next_response_minutes=policy.next_response_minutes,
        resolution_minutes=policy.resolution_minutes,
    )


_POLICY_NAMES = tuple(column.name for column in SlaPolicy.__table__.columns)
_BOOK_QUERY = (
    sa.select(
        *SlaPolicy.__table__.columns,
        SlaCalendar.time_zone,
        SlaCalendar.weekly_hours,
        SlaCalendar.holiday_country,
        SlaCalendar.holiday_subdivision,
        SlaCalendar.closed_dates,
    )
    .join(SlaCalendar, SlaCalendar.id == SlaPolicy.calendar_id)
    .where(SlaPolicy.retired_at.is_(None))
    .order_by(SlaPolicy.id)
)
"""Everything a `PolicyBook` is built from: each current policy with its calendar's settings."""
_last_book: tuple[tuple[tuple[Any, ...], ...], PolicyBook] | None = None
"""The book `PolicyBook.load` built last, with the rows of `_BOOK_QUERY` it was built from."""


@dataclass(frozen=True)
class PolicyBook:
    """Every policy with its calendar, loaded once for a batch of tickets.

    `policies` maps (priority, category or None) to a policy; `calendars` maps a calendar id to
    its `BusinessCalendar`, for each calendar a policy counts in. One book may be shared by
    every thread of the process (`load`): it and its policies are read-only.
    """

    policies: dict[tuple[str, str | None], SlaPolicy]
    calendars: dict[int, BusinessCalendar]

    @classmethod
    def load(cls, session: Session) -> PolicyBook:
        """The stored policies and their calendars, as `session`'s transaction reads them.

        One read (the policies joined to their calendars). When its rows equal those the
        previous book was built from, that book is returned, its calendars' per-day caches
        warm; otherwise a new one is built. Comparing the rows in full keeps the book exact
        whoever changed them (another process, or plain SQL), at the cost of that one read.
        """
        global _last_book  # one book per process, replaced whole (a single assignment)
        rows = session.execute(_BOOK_QUERY).all()
        key = tuple(tuple(row) for row in rows)
        last = _last_book
        if last is not None and last[0] == key:
            return last[1]
        policies: dict[tuple[str, str | None], SlaPolicy] = {}
        calendars: dict[int, BusinessCalendar] = {}
        for row in rows:
            policy = SlaPolicy(**{name: row._mapping[name] for name in _POLICY_NAMES})
            policies[(str(policy.priority), policy.category and str(policy.category))] = policy
            if policy.calendar_id not in calendars:
                calendars[policy.calendar_id] = calendar_from_row(row)
        book = cls(policies, calendars)
        _last_book = (key, book)
        return book

    def policy_for(self, priority: str, category: str) -> SlaPolicy | None:
        """The policy for these labels: the one naming both, else the priority's default."""
        return self.policies.get((str(priority), str(category))) or self.policies.get(
            (str(priority), None)
        )

    def targets_for(self, priority: str, category: str) -> SlaTargets:
        """The matching policy's targets (none without an enabled policy)."""
        return targets_of(self.policy_for(priority, category))

    def calendar_for(self, policy: SlaPolicy | None) -> BusinessCalendar:
        """The policy's calendar (24/7 UTC without a policy)."""
        if policy is None:
            return BusinessCalendar()
        return self.calendars[policy.calendar_id]


@dataclass
class _Facts:
    """What the database holds of one ticket's history and of its recorded SLA events."""

    changes: list[FieldChange]
    comments: list[CommentFact]
    breaches: dict[str, int]
    warnings: set[tuple[str, str | None]]


_COMMENT_KIND = "comment"
"""The `kind` of the comment rows `_load_facts` reads beside the audit events."""


def _load_facts(session: Session, ticket_ids: Sequence[int]) -> dict[int, _Facts]:
    """What the clock needs of each ticket's history: changes, comments, breaches, warnings.

    Its audited label and status changes in order, its comments (automatic replies left out),
    and its recorded breaches and warnings. One round trip: the events and the comments are
    read as one `UNION ALL`, the comments' rows padded with NULLs and marked `_COMMENT_KIND`
    (a PATCH or comment refreshes one ticket, and paid two round trips for its facts before).
    """
    facts = {ticket_id: _Facts([], [], defaultdict(int), set()) for ticket_id in ticket_ids}
    events = sa.select(
        TicketEvent.ticket_id,
        TicketEvent.id.label("event_id"),
        TicketEvent.kind,
        TicketEvent.field,
        TicketEvent.old_value,
        TicketEvent.new_value,
        TicketEvent.created_at,
        sa.null().label("public"),
        sa.null().label("by_staff"),
    ).where(
        TicketEvent.ticket_id.in_(ticket_ids),
        sa.or_(
            sa.and_(
                TicketEvent.kind == EventKind.CHANGED.value,
                TicketEvent.field.in_(CLOCK_FIELDS),
            ),
            TicketEvent.kind.in_(_SLA_EVENT_KINDS),
        ),
    )
    comments = (
        sa.select(
            TicketComment.ticket_id,
            sa.null(),
            sa.literal(_COMMENT_KIND),
            sa.null(),
            sa.null(),
            sa.null(),
            TicketComment.created_at,
            TicketComment.public,
            TicketComment.author_user_id.is_not(None),
        )
        .outerjoin(MailMessage, MailMessage.comment_id == TicketComment.id)
        .where(TicketComment.ticket_id.in_(ticket_ids))
        .where(sa.or_(MailMessage.kind.is_(None), MailMessage.kind != MailKind.AUTOMATIC.value))
    )
    both = sa.union_all(events, comments).subquery("facts")
    rows = session.execute(sa.select(both).order_by(both.c.event_id.asc().nulls_last()))
    for ticket_id, _, kind, field, old, new, at, public, by_staff in rows:
        known = facts[ticket_id]
        if kind == _COMMENT_KIND:
            known.comments.append(CommentFact(at, bool(public), bool(by_staff)))
        elif kind == EventKind.CHANGED.value:
            known.changes.append(FieldChange(at, field, old, new))
        elif kind == EventKind.SLA_BREACHED.value:
            known.breaches[field] += 1
        else:
            known.warnings.add((field, old))
    return facts


_TICKET_COLUMNS = (
    Ticket.id,
    Ticket.created_at,
    Ticket.status,
    Ticket.priority,
    Ticket.category,
    Ticket.assignee_id,
)
SLA_COLUMNS = (
    "sla_policy_id",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "first_response_breached_at",
    "next_response_breached_at",
    "resolution_breached_at",
    "sla_due_at",
    "sla_order_at",
    "sla_breached_at",
    "sla_paused",
    "sla_next_check_at",
    "first_response_business_minutes",
    "resolution_business_minutes",
    "next_responses_met",
    "next_responses_breached",
)
"""The ticket columns `refresh_tickets_sla` writes."""
_UPDATE = (
    sa.update(Ticket)
    .where(Ticket.id == sa.bindparam("ticket_id"))
    .values({name: sa.bindparam(f"new_{name}") for name in SLA_COLUMNS})
    .execution_options(synchronize_session=False)
)


def _history(ticket: sa.Row | Ticket, facts: _Facts, book: PolicyBook) -> TicketHistory:
    return build_history(
        created_at=ticket.created_at,
        status=str(ticket.status),
        priority=str(ticket.priority),
        category=str(ticket.category),
        changes=facts.changes,
        comments=facts.comments,
        targets_for=book.targets_for,
    )


def history_of(session: Session, ticket_id: int) -> TicketHistory:
    """The clock's view of a stored ticket (its creation, labels, replies, customer messages).

    Raises LookupError when no ticket has this id.
    """
    ticket = session.execute(sa.select(*_TICKET_COLUMNS).where(Ticket.id == ticket_id)).first()
    if ticket is None:
        raise LookupError(ticket_id)
    return _history(ticket, _load_facts(session, [ticket_id])[ticket_id], PolicyBook.load(session))


def _cycle_key(clock: TargetClock) -> str | None:
    return clock.started_at.isoformat() if clock.started_at is not None else None


def _stored_values(
    ticket: sa.Row | Ticket,
    policy: SlaPolicy | None,
    state: SlaState,
    facts: _Facts,
    now: datetime,
    quiet_before: datetime | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[NotificationKind, str]]]:
    """The ticket's SLA columns, its unrecorded breach and warning events, and their notices.

    The notices are (kind, target) for each event, except breaches before `quiet_before`.
    """
    clocks = (state.first_response, state.next_response, state.resolution)
    values: dict[str, Any] = {
        "sla_policy_id": policy.id if policy is not None and policy.enabled else None,
        "sla_due_at": state.nearest_due_at,
        "sla_order_at": state.nearest_due_at or NO_DUE_TIME,
        "sla_paused": state.paused,
    }
    for clock in clocks:
        values[f"{clock.target.value}_due_at"] = clock.due_at
        values[f"{clock.target.value}_breached_at"] = clock.breached_at
    late = [
        clock.breached_at
        for clock in clocks
        if clock.breached_at is not None and clock.state in (ClockState.RUNNING, ClockState.PAUSED)
    ]
    values["sla_breached_at"] = min(late, default=None)
    values.update(asdict(report_measures(state, str(ticket.status))))

    events: list[dict[str, Any]] = []
    notices: list[tuple[NotificationKind, str]] = []
    seen: dict[str, int] = defaultdict(int)
    for breach in state.breaches:
        target = breach.target.value
        seen[target] += 1
        if seen[target] > facts.breaches[target]:
            facts.breaches[target] += 1
            events.append(
                _event(
                    ticket.id,
                    EventKind.SLA_BREACHED,
                    target,
                    now,
                    old=breach.at.isoformat(),
                    new=f"{breach.target_minutes:g}",
                )
            )
            if quiet_before is None or breach.at >= quiet_before:
                notices.append((NotificationKind.SLA_BREACHED, target))
    upcoming: list[datetime] = []
    for clock in clocks:
        if clock.state is not ClockState.RUNNING:
            continue
        key = (clock.target.value, _cycle_key(clock))
        warn_at = clock.warning_at if clock.breached_at is None else None
        if warn_at is not None and key not in facts.warnings:
            if warn_at <= now:
                facts.warnings.add(key)
                events.append(
                    _event(
                        ticket.id,
                        EventKind.SLA_WARNING,
                        clock.target.value,
                        now,
                        old=key[1],
                        new=ticket.assignee_id,
                    )
                )
                notices.append((NotificationKind.SLA_WARNING, clock.target.value))
            else:
                upcoming.append(warn_at)
        if clock.due_at is not None and clock.due_at > now:
            upcoming.append(clock.due_at)
    values["sla_next_check_at"] = min(upcoming, default=None)
    return values, events, notices


def _event(
    ticket_id: int, kind: EventKind, target: str, now: datetime, *, old: str | None, new: Any
) -> dict[str, Any]:
    row = event_row(SLA_ACTOR, kind, ticket_id=ticket_id, field=target, old=old, new=new)
    return {**row, "created_at": now}


def _judge(
    ticket: sa.Row | Ticket,
    book: PolicyBook,
    facts: _Facts,
    now: datetime,
    quiet_before: datetime | None = None,
) -> tuple[SlaState, dict[str, Any], list[dict[str, Any]], list[tuple[NotificationKind, str]]]:
    """One ticket's clock state, SLA column values, unrecorded events and their notices."""
    policy = book.policy_for(str(ticket.priority), str(ticket.category))
    settings = get_settings()
    state = compute_sla_state(
        _history(ticket, facts, book),
        book.calendar_for(policy),
        now,
        resolved_pauses=settings.sla_resolved_pauses,
        warning_fraction=settings.sla_warning_ratio,
    )
    values, events, notices = _stored_values(ticket, policy, state, facts, now, quiet_before)
    return state, values, events, notices


def _notices(
    session: Session,
    ticket: sa.Row | Ticket,
    notices: list[tuple[NotificationKind, str]],
    team: list[int] | None,
) -> tuple[list[Notice], list[int] | None]:
    """The ticket's notices, for its assignee or, while it has none, the whole team.

    The team is read once (on the first unowned ticket) and returned for reuse.
    """
    told: list[Notice] = []
    for kind, target in notices:
        if ticket.assignee_id is None and team is None:
            team = team_ids(session)
        recipients = [ticket.assignee_id] if ticket.assignee_id is not None else team or []
        told.append(
            notice(
                recipients,
                kind,
                int(ticket.id),
                actor_label="service levels",
                detail=TARGET_NAMES[target],
            )
        )
    return told, team


def refresh_tickets_sla(
    session: Session,
    ticket_ids: Iterable[int],
    now: datetime | None = None,
    *,
    book: PolicyBook | None = None,
    quiet_before: datetime | None = None,
) -> dict[int, SlaState]:
    """Recompute and store the SLA columns of these tickets, in the caller's transaction.

    Records each new breach and each warning due by `now` (default: the current time) once,
    and notifies the assignee (or the team) of each, except of breaches that happened before
    `quiet_before`: a policy edit's recheck passes the edit's time, so a shorter target records
    the breaches it makes retroactive in the audit trail without a flood of stale alerts, while
    one that runs out from now on is told as usual. Returns each ticket's state; ids naming no
    ticket are skipped. Core statements, whatever the number of tickets: three reads (tickets,
    their clock-relevant events, their comments), one executemany UPDATE of the tickets whose
    values changed (each such update writes every index of `tickets`, so unchanged rows are
    skipped), one INSERT of the new events and one of their notifications (with a read of
    e-mail preferences per kind; `notifications.notify_many`), plus the policies unless `book`
    is given, and the team once when an unowned ticket is to be notified. Tickets loaded in
    `session` are not refreshed: callers returning one refresh it.
    """
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    now = now or utc_now()
    book = book or PolicyBook.load(session)
    stored = [getattr(Ticket, name) for name in SLA_COLUMNS]
    tickets = session.execute(sa.select(*_TICKET_COLUMNS, *stored).where(Ticket.id.in_(ids))).all()
    facts = _load_facts(session, [ticket.id for ticket in tickets])
    states: dict[int, SlaState] = {}
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    told: list[Notice] = []
    team: list[int] | None = None
    for ticket in tickets:
        state, values, recorded, notices = _judge(ticket, book, facts[ticket.id], now, quiet_before)
        if any(values[name] != getattr(ticket, name) for name in SLA_COLUMNS):
            update = {f"new_{name}": values[name] for name in SLA_COLUMNS}
            updates.append({"ticket_id": ticket.id, **update})
        events.extend(recorded)
        ticket_notices, team = _notices(session, ticket, notices, team)
        told.extend(ticket_notices)
        states[ticket.id] = state
    if updates:
        session.connection().execute(_UPDATE, updates)
    if events:
        session.execute(sa.insert(TicketEvent), events)
    notify_many(session, told)
    return states


def refresh_loaded_ticket_sla(session: Session, ticket: Ticket, now: datetime) -> SlaState:
    """`refresh_ticket_sla` for a ticket loaded in `session` whose field changes are not flushed.

    The SLA columns are computed from the ticket's values in memory and set on it, so the
    caller's next flush writes its own changes and these in one UPDATE: each UPDATE of a ticket
    writes every index of `tickets` (search indexes included) and fires its statement
    triggers; one instead of two took a status PATCH's WAL from 21-24 to 14 KB
    (docs/performance.md). The audit events of the changes the clock depends on must already
    be flushed (`_load_facts` reads them). New breach and warning events are inserted and
    notified as `refresh_tickets_sla` does; their insert flushes the ticket.
    """
    with session.no_autoflush:
        book = PolicyBook.load(session)
        facts = _load_facts(session, [int(ticket.id)])[int(ticket.id)]
    state, values, events, notices = _judge(ticket, book, facts, now)
    for name, value in values.items():
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)
    if events:
        session.execute(sa.insert(TicketEvent), events)
    notify_many(session, _notices(session, ticket, notices, None)[0])
    return state


def initial_sla_values(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    """The SLA columns of `ticket`, about to be inserted with no history but its creation.

    What `refresh_tickets_sla` would store right after the INSERT, computed before it, so a new
    ticket is written once: the UPDATE that followed every create wrote every index of
    `tickets` a second time. One read (`PolicyBook.load`). None when the creation
    instant itself already owes a warning or a breach (a target shorter than the clock's
    resolution): those events need the ticket's id, so the caller refreshes after the INSERT.
    """
    book = PolicyBook.load(session)
    policy = book.policy_for(str(ticket.priority), str(ticket.category))
    created_at = ticket.created_at
    history = build_history(
        created_at=created_at,
        status=str(ticket.status),
        priority=str(ticket.priority),
        category=str(ticket.category),
        changes=[],
        comments=[],
        targets_for=book.targets_for,
    )
    settings = get_settings()
    state = compute_sla_state(
        history,
        book.calendar_for(policy),
        created_at,
        resolved_pauses=settings.sla_resolved_pauses,
        warning_fraction=settings.sla_warning_ratio,
    )
    values, events, _ = _stored_values(
        ticket, policy, state, _Facts([], [], defaultdict(int), set()), created_at
    )
    return None if events else values


def refresh_ticket_sla(session: Session, ticket_id: int, now: datetime | None = None) -> SlaState:
    """`refresh_tickets_sla` for one ticket; LookupError when no ticket has this id."""
    states = refresh_tickets_sla(session, [ticket_id], now)
    if ticket_id not in states:
        raise LookupError(ticket_id)
    return states[ticket_id]
