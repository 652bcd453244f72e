"""REST routes for similar tickets and merging duplicates, under /api/tickets (issue 14)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from starlette.concurrency import run_in_threadpool

from ticket_app.api.deps import ERROR_RESPONSES, Editor, Reader, TicketId
from ticket_app.api.errors import documented_errors
from ticket_app.api.routing import slash_routes
from ticket_app.models import CommentChannel
from ticket_app.schemas import MergeRequest, MergeResult, SimilarTicket
from ticket_app.services import similarity

router = APIRouter(prefix="/api/tickets", tags=["tickets"])
_route = slash_routes(router, ERROR_RESPONSES)


@_route(
    "GET",
    "/{ticket_id:int}/similar",
    response_model=list[SimilarTicket],
    summary="Open tickets similar to this one",
)
def similar_tickets(ticket_id: TicketId, actor: Reader) -> list[SimilarTicket]:
    """Up to five open, unmerged tickets whose text resembles this ticket's, best first.

    `score` is in [0, 1]; pairs below 0.2 are left out. 404 for an unknown ticket.
    """
    return similarity.similar_to_ticket(ticket_id)


@_route(
    "GET",
    "/{ticket_id:int}/duplicates",
    response_model=list[int],
    summary="Tickets merged into this one",
)
def ticket_duplicates(ticket_id: TicketId, actor: Reader) -> list[int]:
    """Ids of the tickets merged into this one as duplicates, oldest first."""
    return similarity.duplicates_of(ticket_id)


@_route(
    "POST",
    "/{ticket_id:int}/merge",
    response_model=MergeResult,
    summary="Merge this ticket into another as a duplicate",
    responses=documented_errors(
        [409],
        e409="`into` is this ticket or itself a duplicate, or this ticket was already "
        "merged; `errors` names `into`.",
    ),
)
async def merge_ticket(
    ticket_id: TicketId, payload: Annotated[MergeRequest, Body()], actor: Editor
) -> MergeResult:
    """Close this ticket as a duplicate of ticket `into` and link both ways.

    This ticket gets `duplicate_of_id` and status closed; both get a `merged` audit event; the
    kept ticket gets an internal note naming this ticket's requester, who now follows the kept
    ticket. 404 when either ticket does not exist; 409 naming `into` for this same ticket, a
    ticket itself merged elsewhere, or when this ticket was already merged.
    """
    return await run_in_threadpool(
        lambda: similarity.merge_ticket(
            ticket_id, payload.into, actor=actor, channel=CommentChannel.API
        )
    )
