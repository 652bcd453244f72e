"""REST routes for canned responses: `/api/canned-responses/`.

Personal snippets and the team's shared ones, with placeholders filled by `render`. Who may do
what is in `services.canned_responses` (from the one permission table).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import require
from ticket_app.api.deps import ERROR_RESPONSES, PAGE_SIZE_MAX, CursorQuery, next_page_url
from ticket_app.api.routing import paged_response, slash_routes
from ticket_app.schemas import (
    CannedRenderRequest,
    CannedRenderResult,
    CannedResponseCreate,
    CannedResponseRead,
    CannedResponseUpdate,
)
from ticket_app.services import canned_responses as canned_service
from ticket_app.services.access import Action, Actor

router = APIRouter(prefix="/api/canned-responses", tags=["canned responses"])
_route = slash_routes(router, ERROR_RESPONSES)

Reader = Annotated[Actor, Depends(require(Action.CANNED_READ))]
Keeper = Annotated[Actor, Depends(require(Action.CANNED_MANAGE_OWN))]
ResponseId = Annotated[int, Path(description="A canned response's id.")]


@_route(
    "GET",
    "",
    response_model=list[CannedResponseRead],
    summary="Your canned responses and the shared ones, by title",
    responses=paged_response("Your canned responses and the shared ones, across all pages."),
)
def list_canned_responses(
    request: Request,
    response: Response,
    actor: Reader,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=PAGE_SIZE_MAX,
            description=f"Responses per page, 1 to {PAGE_SIZE_MAX}; outside that range: 422.",
        ),
    ] = 100,
    cursor: CursorQuery = None,
) -> list[CannedResponseRead]:
    """Your own canned responses and every shared one, by title (then id).

    Viewers see the shared ones. The next page's URL is in the `Link` header.
    """
    items, total, next_cursor = canned_service.list_canned_responses(
        actor=actor, limit=limit, cursor=cursor or None
    )
    response.headers["X-Total-Count"] = str(total)
    if next_cursor is not None:
        response.headers["Link"] = f'<{next_page_url(request, next_cursor, limit)}>; rel="next"'
    return items


@_route(
    "POST",
    "",
    response_model=CannedResponseRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a canned response",
)
async def create_canned_response(
    payload: CannedResponseCreate, actor: Keeper
) -> CannedResponseRead:
    """Create a canned response owned by you (agents and admins).

    Only an admin signed in to the console may create a shared one (`shared`: true; 403
    otherwise). Placeholders are listed under `body`.
    """
    return await run_in_threadpool(
        lambda: canned_service.create_canned_response(payload, actor=actor)
    )


@_route(
    "PATCH",
    "/{response_id:int}",
    response_model=CannedResponseRead,
    summary="Change a canned response",
)
async def update_canned_response(
    response_id: ResponseId, payload: CannedResponseUpdate, actor: Keeper
) -> CannedResponseRead:
    """Change the title, body or sharing of one of your responses (admins: any shared one).

    Another person's personal response is a 404; a shared one, or sharing, needs an admin (403).
    """
    return await run_in_threadpool(
        lambda: canned_service.update_canned_response(response_id, payload, actor=actor)
    )


@_route(
    "DELETE",
    "/{response_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a canned response",
)
async def delete_canned_response(response_id: ResponseId, actor: Keeper) -> None:
    """Delete one of your responses (admins: any shared one too)."""
    await run_in_threadpool(lambda: canned_service.delete_canned_response(response_id, actor=actor))


@_route(
    "POST",
    "/{response_id:int}/render",
    response_model=CannedRenderResult,
    summary="Fill a canned response in for a ticket",
)
async def render_canned_response(
    response_id: ResponseId, payload: CannedRenderRequest, actor: Keeper
) -> CannedRenderResult:
    """The response's body with its placeholders filled for `ticket_id`; counts one use.

    `{{requester.name}}` (or "there" when the ticket has none), `{{requester.email}}` (or
    nothing), `{{ticket.id}}`, `{{ticket.title}}` and `{{agent.name}}` (you) are filled; any
    other `{{...}}` stays as typed. An unknown ticket is a 422 naming `ticket_id`.
    """
    body = await run_in_threadpool(
        lambda: canned_service.render_canned_response(response_id, payload.ticket_id, actor=actor)
    )
    return CannedRenderResult(body=body)
