"""SLA policies and business calendars: reads for anyone who may read tickets, writes for admins.

Every write is audited (`sla_policy_changed`, `sla_calendar_changed`; field `policy N.column`
or `calendar N.column` with the old and new value, or `policy N` with the whole row when one is
added or removed) and queues the tickets it may affect for the background check
(`services.sla_check.request_recheck`, one row whatever their number), which recomputes their due
times, keeping the business time they have already spent: within a minute for a few thousand
open tickets, in the following minutes for more. A calendar is checked by
`ticket_app.sla.calendar.BusinessCalendar`: what it refuses is an InvalidInputError naming the
field (`weekly_hours.monday.0`, `holiday_country`, `time_zone`).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import EventKind, SlaCalendar, SlaPolicy, SlaRecheck, utc_now
from ticket_app.schemas import (
    SlaCalendarRead,
    SlaCalendarWrite,
    SlaPolicyCreate,
    SlaPolicyRead,
    SlaPolicyWrite,
    SlaRecheckRead,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import ConflictError, InvalidInputError, NotFoundError
from ticket_app.services.sla_check import request_recheck
from ticket_app.services.ticket_query import is_row_id
from ticket_app.sla.calendar import BusinessCalendar, CalendarError

_POLICY_FIELDS = (
    "name",
    "calendar_id",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "enabled",
)
_CALENDAR_FIELDS = (
    "name",
    "time_zone",
    "weekly_hours",
    "holiday_country",
    "holiday_subdivision",
    "closed_dates",
)


def _calendar_read(row: SlaCalendar) -> SlaCalendarRead:
    return SlaCalendarRead(
        id=row.id,
        name=row.name,
        time_zone=row.time_zone,
        weekly_hours=json.loads(row.weekly_hours),
        holiday_country=row.holiday_country,
        holiday_subdivision=row.holiday_subdivision,
        closed_dates=json.loads(row.closed_dates),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def list_calendars(*, actor: Actor) -> list[SlaCalendarRead]:
    """Every calendar, by name. Raises PermissionDeniedError unless `actor` may read tickets."""
    actor.require(Action.TICKETS_READ)
    with service_session() as session:
        rows = session.execute(sa.select(SlaCalendar).order_by(SlaCalendar.name)).scalars()
        return [_calendar_read(row) for row in rows]


def list_policies(*, actor: Actor) -> list[SlaPolicyRead]:
    """Every current policy, by priority (critical first) then category (the default first).

    Retired (removed) policies are left out. Raises PermissionDeniedError unless `actor` may
    read tickets.
    """
    actor.require(Action.TICKETS_READ)
    rank = sa.case(
        {"critical": 0, "high": 1, "medium": 2, "low": 3}, value=SlaPolicy.priority, else_=4
    )
    with service_session() as session:
        rows = session.execute(
            sa.select(SlaPolicy)
            .where(SlaPolicy.retired_at.is_(None))
            .order_by(rank, SlaPolicy.category.is_not(None), SlaPolicy.category, SlaPolicy.id)
        ).scalars()
        return [SlaPolicyRead.model_validate(row) for row in rows]


def list_rechecks(*, actor: Actor) -> list[SlaRecheckRead]:
    """The edits still being applied to open tickets, oldest first (empty when all are done).

    Raises PermissionDeniedError unless `actor` may read tickets.
    """
    actor.require(Action.TICKETS_READ)
    with service_session() as session:
        rows = session.execute(sa.select(SlaRecheck).order_by(SlaRecheck.id)).scalars()
        return [SlaRecheckRead.model_validate(row) for row in rows]


def _checked_calendar(data: SlaCalendarWrite) -> dict[str, Any]:
    """The calendar's stored columns; InvalidInputError naming the field the calendar refuses."""
    shape = data.model_dump(exclude={"name"}, mode="json")
    try:
        calendar = BusinessCalendar.from_dict(shape)
    except CalendarError as error:
        raise InvalidInputError(error.field, error.reason) from None
    canonical = calendar.to_dict()
    return {
        "name": data.name,
        "time_zone": canonical["time_zone"],
        "weekly_hours": json.dumps(canonical["weekly_hours"], sort_keys=True),
        "holiday_country": canonical["holiday_country"],
        "holiday_subdivision": canonical["holiday_subdivision"],
        "closed_dates": json.dumps(canonical["closed_dates"]),
    }


def _unique_name(session: Session, model: type, name: str, own_id: int | None) -> None:
    query = sa.select(model.id).where(model.name == name)
    if model is SlaPolicy:
        query = query.where(SlaPolicy.retired_at.is_(None))
    if own_id is not None:
        query = query.where(model.id != own_id)
    if session.execute(query).first() is not None:
        raise ConflictError("name", f"the name {name!r} is taken")


def _load(session: Session, model: type, row_id: int, what: str) -> Any:
    """The row, locked; NotFoundError when there is none (or it is a retired policy)."""
    row = session.get(model, row_id, with_for_update=True) if is_row_id(row_id) else None
    if row is None or getattr(row, "retired_at", None) is not None:
        raise NotFoundError(f"{what} {row_id} does not exist")
    return row


def create_calendar(data: SlaCalendarWrite, *, actor: Actor) -> SlaCalendarRead:
    """Store a new calendar, audited.

    Raises PermissionDeniedError unless `actor` may manage service levels, InvalidInputError
    naming a field the calendar refuses, ConflictError (`name` taken).
    """
    actor.require(Action.SLA_MANAGE)
    values = _checked_calendar(data)
    with service_session() as session:
        _unique_name(session, SlaCalendar, data.name, None)
        row = SlaCalendar(**values)
        session.add(row)
        session.flush()
        record_event(
            session,
            actor,
            EventKind.SLA_CALENDAR_CHANGED,
            field=f"calendar {row.id}",
            new=json.dumps(values, sort_keys=True),
        )
        session.flush()
        session.refresh(row)
        return _calendar_read(row)


def update_calendar(calendar_id: int, data: SlaCalendarWrite, *, actor: Actor) -> SlaCalendarRead:
    """Replace a calendar's settings; one audit event per changed setting.

    The open tickets of the policies counting in it are recomputed by the next check.
    Raises as `create_calendar`, and NotFoundError.
    """
    actor.require(Action.SLA_MANAGE)
    values = _checked_calendar(data)
    now = utc_now()
    with service_session() as session:
        row = _load(session, SlaCalendar, calendar_id, "calendar")
        _unique_name(session, SlaCalendar, data.name, calendar_id)
        changed = {name: value for name, value in values.items() if getattr(row, name) != value}
        for name, value in changed.items():
            record_event(
                session,
                actor,
                EventKind.SLA_CALENDAR_CHANGED,
                field=f"calendar {calendar_id}.{name}",
                old=getattr(row, name),
                new=value,
            )
            setattr(row, name, value)
        if changed:
            row.updated_at = now
            session.add(row)
            session.flush()
            request_recheck(session, f"calendar {calendar_id} changed", calendar_id=calendar_id)
        session.refresh(row)
        return _calendar_read(row)


def _check_calendar_exists(session: Session, calendar_id: int) -> None:
    if session.get(SlaCalendar, calendar_id) is None:
        raise InvalidInputError("calendar_id", f"calendar {calendar_id} does not exist")


def _recheck_affected(session: Session, policy: SlaPolicy, what: str) -> None:
    """Queue the tickets a policy's change may move: its priority's (and category's, when set)."""
    request_recheck(
        session,
        f"policy {policy.id} {what}",
        priority=str(policy.priority),
        category=policy.category and str(policy.category),
    )


def _policy_values(policy: SlaPolicy) -> str:
    return json.dumps(
        {
            "priority": str(policy.priority),
            "category": policy.category and str(policy.category),
            **{name: getattr(policy, name) for name in _POLICY_FIELDS},
        },
        sort_keys=True,
    )


def create_policy(data: SlaPolicyCreate, *, actor: Actor) -> SlaPolicyRead:
    """Add a policy for one priority and category, audited; its tickets are recomputed soon.

    Raises PermissionDeniedError, InvalidInputError (`calendar_id` names no calendar),
    ConflictError (`name` taken, or `category`: that priority and category have a policy).
    """
    actor.require(Action.SLA_MANAGE)
    now = utc_now()
    with service_session() as session:
        _check_calendar_exists(session, data.calendar_id)
        _unique_name(session, SlaPolicy, data.name, None)
        taken = session.execute(
            sa.select(SlaPolicy.id).where(
                SlaPolicy.priority == data.priority.value,
                SlaPolicy.category == data.category.value,
                SlaPolicy.retired_at.is_(None),
            )
        ).first()
        if taken is not None:
            raise ConflictError(
                "category",
                f"{data.priority.value} tickets of category {data.category.value} already have "
                f"policy {taken.id}",
            )
        policy = SlaPolicy(**data.model_dump(), created_at=now, updated_at=now)
        session.add(policy)
        session.flush()
        record_event(
            session,
            actor,
            EventKind.SLA_POLICY_CHANGED,
            field=f"policy {policy.id}",
            new=_policy_values(policy),
        )
        _recheck_affected(session, policy, "added")
        session.flush()
        session.refresh(policy)
        return SlaPolicyRead.model_validate(policy)


def update_policy(policy_id: int, data: SlaPolicyWrite, *, actor: Actor) -> SlaPolicyRead:
    """Replace a policy's settings (not its priority or category); one audit event per change.

    Its open tickets are recomputed by the next check, keeping spent and paused time. Raises
    PermissionDeniedError, NotFoundError, InvalidInputError (`calendar_id`), ConflictError
    (`name` taken).
    """
    actor.require(Action.SLA_MANAGE)
    now = utc_now()
    values = data.model_dump()
    with service_session() as session:
        policy = _load(session, SlaPolicy, policy_id, "policy")
        _check_calendar_exists(session, data.calendar_id)
        _unique_name(session, SlaPolicy, data.name, policy_id)
        changed = {name: value for name, value in values.items() if getattr(policy, name) != value}
        for name, value in changed.items():
            record_event(
                session,
                actor,
                EventKind.SLA_POLICY_CHANGED,
                field=f"policy {policy_id}.{name}",
                old=getattr(policy, name),
                new=value,
            )
            setattr(policy, name, value)
        if changed:
            policy.updated_at = now
            session.add(policy)
            _recheck_affected(session, policy, "changed")
            session.flush()
        session.refresh(policy)
        return SlaPolicyRead.model_validate(policy)


def delete_policy(policy_id: int, *, actor: Actor) -> None:
    """Remove a category's policy (its tickets fall back to the priority's default), audited.

    The policy is retired, not deleted: tickets measured under it keep naming it, while the
    open ones move to the default at the background check (a recheck is queued), so the
    removal writes no ticket whatever their number. Its name and its priority and category
    are free for a new policy at once.

    Raises PermissionDeniedError, NotFoundError, ConflictError for a priority's default policy
    (edit or disable it instead).
    """
    actor.require(Action.SLA_MANAGE)
    with service_session() as session:
        policy = _load(session, SlaPolicy, policy_id, "policy")
        if policy.category is None:
            raise ConflictError(
                "id", f"policy {policy_id} is the {policy.priority} default: disable it instead"
            )
        record_event(
            session,
            actor,
            EventKind.SLA_POLICY_CHANGED,
            field=f"policy {policy_id}",
            old=_policy_values(policy),
        )
        policy.retired_at = utc_now()
        session.add(policy)
        _recheck_affected(session, policy, "removed")
