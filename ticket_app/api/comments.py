"""REST routes for a ticket's conversation: `/api/tickets/{id}/comments/`.

Replies and notes are listed oldest first and paginated like tickets (`Link`, `X-Total-Count`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import require
from ticket_app.api.deps import (
    ERROR_RESPONSES,
    PAGE_SIZE_MAX,
    CursorQuery,
    TicketId,
    next_page_url,
)
from ticket_app.api.routing import paged_response, slash_routes
from ticket_app.schemas import CommentCreate, CommentRead
from ticket_app.services import comments as comment_service
from ticket_app.services.access import Action, Actor

router = APIRouter(prefix="/api/tickets", tags=["comments"])
_route = slash_routes(router, ERROR_RESPONSES)

Reader = Annotated[Actor, Depends(require(Action.TICKETS_READ))]
Commenter = Annotated[Actor, Depends(require(Action.TICKETS_COMMENT))]


@_route(
    "GET",
    "/{ticket_id:int}/comments",
    response_model=list[CommentRead],
    summary="A ticket's replies and notes, oldest first",
    responses=paged_response("The ticket's comments across all pages."),
)
def list_comments(
    ticket_id: TicketId,
    request: Request,
    response: Response,
    actor: Reader,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=PAGE_SIZE_MAX,
            description=f"Comments per page, 1 to {PAGE_SIZE_MAX}; outside that range: 422.",
        ),
    ] = 50,
    cursor: CursorQuery = None,
) -> list[CommentRead]:
    """Public replies (`public`: true) and internal notes (false), oldest first.

    Bodies are plain text exactly as written. The next page's URL is in the `Link` header.
    """
    page = comment_service.list_comments(ticket_id, limit=limit, cursor=cursor or None)
    response.headers["X-Total-Count"] = str(page.total)
    if page.next_cursor is not None:
        response.headers["Link"] = (
            f'<{next_page_url(request, page.next_cursor, limit)}>; rel="next"'
        )
    return page.items


@_route(
    "POST",
    "/{ticket_id:int}/comments",
    response_model=CommentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Reply to the requester or add an internal note",
)
async def add_comment(ticket_id: TicketId, payload: CommentCreate, actor: Commenter) -> CommentRead:
    """Add a comment: `public` true is a reply to the requester, false an internal note.

    The ticket's `updated_at` (and so its `ETag`) moves, the first public reply sets
    `first_public_reply_at`, and the audit trail records a `commented` event. Viewers cannot
    comment (403); tokens need the tickets:write scope.
    """
    return await run_in_threadpool(
        lambda: comment_service.add_comment(ticket_id, payload, actor=actor)
    )
