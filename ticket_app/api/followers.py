"""REST routes for a ticket's followers: `/api/tickets/{id}/followers/`.

Following decides who is told about replies; `me` is the caller (a token's owner).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import require
from ticket_app.api.deps import ERROR_RESPONSES, TicketId
from ticket_app.api.routing import slash_routes
from ticket_app.schemas import FollowerRead
from ticket_app.services import followers as follower_service
from ticket_app.services.access import Action, Actor

router = APIRouter(prefix="/api/tickets", tags=["followers"])
_route = slash_routes(router, ERROR_RESPONSES)

Reader = Annotated[Actor, Depends(require(Action.TICKETS_READ))]
Follower = Annotated[Actor, Depends(require(Action.TICKETS_FOLLOW))]


@_route(
    "GET",
    "/{ticket_id:int}/followers",
    response_model=list[FollowerRead],
    summary="Who follows a ticket",
)
def list_followers(ticket_id: TicketId, actor: Reader) -> list[FollowerRead]:
    """The staff members following the ticket, by name."""
    return follower_service.list_followers(ticket_id, actor=actor)


@_route(
    "PUT",
    "/{ticket_id:int}/followers/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Follow a ticket",
)
async def follow(ticket_id: TicketId, actor: Follower) -> None:
    """Follow the ticket: you are told when someone else replies or adds a note.

    Idempotent: 204 whether or not you already followed it.
    """
    await run_in_threadpool(lambda: follower_service.follow(ticket_id, actor=actor))


@_route(
    "DELETE",
    "/{ticket_id:int}/followers/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unfollow a ticket",
)
async def unfollow(ticket_id: TicketId, actor: Follower) -> None:
    """Stop following the ticket. Idempotent: 204 whether or not you followed it."""
    await run_in_threadpool(lambda: follower_service.unfollow(ticket_id, actor=actor))
