"""REST routes for service levels: `/api/sla/policies/`, `/api/sla/calendars/` and the report.

Anyone who may read tickets reads them; an admin's session writes them (no token: a service
level is the team's promise, set by a person). A change writes no ticket: the background check
recomputes the affected open tickets' due times, keeping the business time already spent,
within a minute for tens of thousands of them (about 1,400 tickets a second at a million).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from ticket_app.api.auth import require
from ticket_app.api.deps import ERROR_RESPONSES, Filters
from ticket_app.api.errors import documented_errors
from ticket_app.api.routing import slash_routes
from ticket_app.schemas import (
    SlaCalendarRead,
    SlaCalendarWrite,
    SlaPolicyCreate,
    SlaPolicyRead,
    SlaPolicyWrite,
    SlaRecheckRead,
    SlaReport,
)
from ticket_app.services import sla_policies, sla_report
from ticket_app.services.access import Action, Actor

router = APIRouter(prefix="/api/sla", tags=["service levels"])
_route = slash_routes(router, ERROR_RESPONSES)
_CONFLICT = documented_errors([409])

Reader = Annotated[Actor, Depends(require(Action.TICKETS_READ))]
SlaAdmin = Annotated[Actor, Depends(require(Action.SLA_MANAGE))]
PolicyId = Annotated[int, Path(ge=1, description="A policy's id.")]
CalendarId = Annotated[int, Path(ge=1, description="A calendar's id.")]


@_route("GET", "/policies", response_model=list[SlaPolicyRead], summary="SLA policies")
def list_policies(actor: Reader) -> list[SlaPolicyRead]:
    """Every policy: critical first, each priority's default before its category policies.

    A ticket follows the policy naming its priority and category, else its priority's default.
    """
    return sla_policies.list_policies(actor=actor)


@_route(
    "POST",
    "/policies",
    response_model=SlaPolicyRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a category's policy",
    responses=_CONFLICT,
)
def create_policy(payload: SlaPolicyCreate, actor: SlaAdmin) -> SlaPolicyRead:
    """A policy for one priority and category, winning over the priority's default.

    409 naming `name` when the name is taken, `category` when that pair has a policy; 422
    naming `calendar_id` when no such calendar exists.
    """
    return sla_policies.create_policy(payload, actor=actor)


@_route(
    "PUT",
    "/policies/{policy_id:int}",
    response_model=SlaPolicyRead,
    summary="Change a policy",
    responses=_CONFLICT,
)
def update_policy(policy_id: PolicyId, payload: SlaPolicyWrite, actor: SlaAdmin) -> SlaPolicyRead:
    """Replace a policy's name, calendar, targets and switch (its priority and category stay).

    Each change is an audit event; the policy's open tickets are recomputed by the background
    check (within a minute for tens of thousands).
    """
    return sla_policies.update_policy(policy_id, payload, actor=actor)


@_route(
    "DELETE",
    "/policies/{policy_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a category's policy",
    responses=_CONFLICT,
)
def delete_policy(policy_id: PolicyId, actor: SlaAdmin) -> Response:
    """Remove a category's policy; its open tickets follow the priority's default again.

    Their due times move at the background check (as after an edit); closed tickets keep
    the `sla_policy_id` they were measured under, and the removed policy is no longer listed.
    A priority's default policy cannot be removed (409): disable it instead.
    """
    sla_policies.delete_policy(policy_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@_route(
    "GET",
    "/rechecks",
    response_model=list[SlaRecheckRead],
    summary="Edits still being applied to open tickets",
)
def list_rechecks(actor: Reader) -> list[SlaRecheckRead]:
    """Policy and calendar edits whose open tickets the background check is still recomputing.

    Oldest first; empty when every edit has reached every ticket. A client that changed a
    policy can poll this to know when all due times follow it.
    """
    return sla_policies.list_rechecks(actor=actor)


@_route("GET", "/calendars", response_model=list[SlaCalendarRead], summary="Business calendars")
def list_calendars(actor: Reader) -> list[SlaCalendarRead]:
    """Every business calendar, by name (`24/7` exists from the start)."""
    return sla_policies.list_calendars(actor=actor)


@_route(
    "POST",
    "/calendars",
    response_model=SlaCalendarRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a business calendar",
    responses=_CONFLICT,
)
def create_calendar(payload: SlaCalendarWrite, actor: SlaAdmin) -> SlaCalendarRead:
    """A calendar: time zone, weekly opening hours, public holidays and closed dates.

    What the calendar refuses is a 422 naming the field (`time_zone`, `weekly_hours.monday.0`,
    `holiday_country`, `closed_dates.0`); a taken name is a 409.
    """
    return sla_policies.create_calendar(payload, actor=actor)


@_route(
    "PUT",
    "/calendars/{calendar_id:int}",
    response_model=SlaCalendarRead,
    summary="Change a business calendar",
    responses=_CONFLICT,
)
def update_calendar(
    calendar_id: CalendarId, payload: SlaCalendarWrite, actor: SlaAdmin
) -> SlaCalendarRead:
    """Replace a calendar's settings.

    The open tickets counted in it are recomputed by the background check, keeping the
    business time they have already spent.
    """
    return sla_policies.update_calendar(calendar_id, payload, actor=actor)


@_route("GET", "/report", response_model=SlaReport, summary="SLA report")
def report(actor: Reader, filters: Filters) -> SlaReport:
    """Compliance per target and priority, business-hour times and breaches per assignee.

    Over the tickets matching the list's filters (the same query parameters as
    `GET /api/tickets/`). Each figure's definition is in the schema: first response and
    resolution count tickets, next response counts reply cycles; times are in business hours
    of each ticket's policy calendar.
    """
    return sla_report.sla_report(filters)
