"""The blocking service calls the ticket list and ticket page states run in threads.

Reads that compose what a page shows (a list page, a ticket with its timeline, staff and mail
details) and the list's inline save. Each blocks on the database: handlers call them through
`asyncio.to_thread` (the `fetch_fresh_*` helpers do so themselves).
"""

from __future__ import annotations

import asyncio

from ticket_app.schemas import (
    RequesterRead,
    TicketFilters,
    TicketPage,
    TicketRead,
    TicketSort,
    TicketStats,
    TicketUpdate,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.attachments import list_attachments
from ticket_app.services.comments import ticket_timeline
from ticket_app.services.errors import NotFoundError, TicketNotFoundError
from ticket_app.services.identity.users import assignable_staff, get_user
from ticket_app.services.mail_outbound import reply_recipient
from ticket_app.services.rate_limits import expensive_turn
from ticket_app.services.requesters import get_requester
from ticket_app.services.similarity import duplicates_of, similar_to_ticket
from ticket_app.services.stats import ticket_stats
from ticket_app.services.tickets import get_ticket, list_tickets, ticket_etag, update_ticket
from ticket_app.ui.logic.ticket_page import TicketView, staff_names
from ticket_app.ui.logic.tickets import ticket_row
from ticket_app.ui.state.views import NavData, load_nav

PAGE_SIZE = 25
"""Tickets per list page (the first page and each "Load more")."""
EDITABLE_FIELDS = ("status", "category", "priority", "assignee_id")
"""The fields a list row edits inline."""


def load_page(
    filters: TicketFilters, cursor: str | None = None, sort: TicketSort = TicketSort.NEWEST
) -> TicketPage:
    """One page of the list (blocking; call it from a thread)."""
    return list_tickets(filters, limit=PAGE_SIZE, cursor=cursor, sort=sort, close_matches=True)


async def fetch_fresh_list(
    actor: Actor, shown: tuple[TicketFilters, TicketSort]
) -> tuple[TicketPage, TicketStats, NavData]:
    """A `poll` round's reads: the first page and summary for `shown`, and the nav's counts.

    The page and summary in one of `actor`'s expensive-read turns. Raises ServiceError.
    """
    filters, sort = shown
    async with expensive_turn(actor.user_id):
        page = await asyncio.to_thread(load_page, filters, None, sort)
        stats = await asyncio.to_thread(ticket_stats, filters)
    return page, stats, await asyncio.to_thread(load_nav, actor)


def save_field(ticket_id: int, field: str, value: str, actor: Actor) -> dict[str, str]:
    """Save one inline edit by `actor` and return the stored row (blocking; use a thread).

    `assignee_id` takes a staff user id in digits, or "" to unassign. Raises ValueError for a
    field that is not editable inline, pydantic's ValidationError for a value outside the
    allowed set, and the service errors of `update_ticket`.
    """
    if field not in EDITABLE_FIELDS:
        raise ValueError(f"{field} cannot be edited here")
    stored: str | int | None = value
    if field == "assignee_id":
        stored = int(value) if value else None
    changes = TicketUpdate.model_validate({field: stored})
    return ticket_row(update_ticket(ticket_id, changes, actor=actor))


def staff_choices() -> list[dict[str, str]]:
    """Active agents and admins as `{"id", "name"}` for assignee pickers (blocking)."""
    return [{"id": str(user.id), "name": user.name} for user in assignable_staff()]


def _requester(ticket: TicketRead, actor: Actor) -> RequesterRead | None:
    """The ticket's requester record with their tickets, or None without one."""
    if ticket.requester_id is None:
        return None
    try:
        return get_requester(ticket.requester_id, actor=actor)
    except NotFoundError:
        return None


def load_view(ticket_id: int, *, with_timeline: bool, actor: Actor | None = None) -> TicketView:
    """Read the ticket, then its timeline and the assignable staff (blocking; use a thread).

    The ticket is read first, so a change after it shows in the timeline or makes the ETag
    stale; either way it is never missed. With `actor` (who is reading), also what the e-mail
    channel adds: whom a reply is mailed to, the ticket's files and its requester's other
    tickets. Raises TicketNotFoundError and the other service errors.
    """
    ticket = get_ticket(ticket_id)
    timeline = ticket_timeline(ticket_id) if with_timeline else []
    staff = assignable_staff()
    assignee = ticket.assignee_id
    former = None
    if assignee is not None and assignee not in staff_names(staff):
        former = get_user(assignee)
    similar = similar_to_ticket(ticket_id) if ticket.duplicate_of_id is None else []
    mail: dict = {}
    if actor is not None:
        mail = {
            "reply_to": reply_recipient(ticket_id),
            "files": list_attachments(ticket_id, actor=actor),
            "requester": _requester(ticket, actor),
        }
    return TicketView(
        ticket,
        ticket_etag(ticket),
        timeline,
        staff,
        former,
        similar=similar,
        duplicates=duplicates_of(ticket_id),
        **mail,
    )


async def fetch_fresh_view(actor: Actor, ticket_id: int) -> TicketView | None:
    """A `poll` round's re-read of the ticket; None when it no longer exists.

    The timeline only for those who may read the audit trail. Raises the other service errors.
    """
    try:
        return await asyncio.to_thread(
            load_view, ticket_id, with_timeline=actor.can(Action.AUDIT_READ), actor=actor
        )
    except TicketNotFoundError:
        return None
