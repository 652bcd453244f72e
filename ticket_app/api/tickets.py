"""REST routes under /api/tickets. Each route validates input and calls the service layer.

Every path answers with and without its trailing slash (the documented form has the slash).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import require
from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import (
    Description,
    EventRead,
    TicketCreate,
    TicketFilters,
    TicketRead,
    TicketStats,
    TicketUpdate,
)
from ticket_app.services import tickets as ticket_service
from ticket_app.services.audit import Actor
from ticket_app.services.exporter import export_csv
from ticket_app.services.permissions import Action
from ticket_app.settings import get_settings
from ticket_app.triage import get_classifier

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

Reader = Annotated[Actor, Depends(require(Action.TICKETS_READ))]
Creator = Annotated[Actor, Depends(require(Action.TICKETS_CREATE))]
Editor = Annotated[Actor, Depends(require(Action.TICKETS_EDIT))]
Exporter = Annotated[Actor, Depends(require(Action.TICKETS_EXPORT))]
Classifier = Annotated[Actor, Depends(require(Action.TICKETS_CLASSIFY))]
AuditReader = Annotated[Actor, Depends(require(Action.AUDIT_READ))]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid session or API token (`WWW-Authenticate: Bearer`)."},
    403: {"description": "The role or the token's scopes do not allow this."},
    404: {"description": "No ticket with this id."},
    413: {"description": "Request body larger than MAX_REQUEST_BYTES."},
    422: {"description": "Invalid input; `errors[].field` names each offending field."},
    503: {"description": "Database unavailable; nothing was written."},
}


def _route(
    method: str, path: str, **kwargs: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler at `path + "/"` (documented) and at `path` (same handler, hidden)."""

    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        responses = {**ERROR_RESPONSES, **kwargs.pop("responses", {})}
        router.add_api_route(f"{path}/", handler, methods=[method], responses=responses, **kwargs)
        router.add_api_route(path, handler, methods=[method], include_in_schema=False, **kwargs)
        return handler

    return decorator


class ClassifyRequest(BaseModel):
    """Text to classify; unknown keys are refused, as for tickets."""

    model_config = ConfigDict(extra="forbid")

    description: Description


class ClassifyResponse(BaseModel):
    """The classifier's suggestion; the first two keys are the stable contract."""

    suggested_category: Category
    suggested_priority: Priority
    category_confidence: float = Field(ge=0, le=1)
    priority_confidence: float = Field(ge=0, le=1)
    source: str = Field(description="`gemini` or `offline`.")
    reason: str


def _filters(
    category: Category | None,
    priority: Priority | None,
    status_: Status | None,
    search: str | None,
) -> TicketFilters:
    return TicketFilters(category=category, priority=priority, status=status_, search=search)


CategoryQuery = Annotated[Category | None, Query(description="Only this category.")]
PriorityQuery = Annotated[Priority | None, Query(description="Only this priority.")]
StatusQuery = Annotated[Status | None, Query(alias="status", description="Only this status.")]
SearchQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Case-insensitive substring of title or description; `%` and `_` are literal.",
    ),
]


@_route("GET", "/stats", response_model=TicketStats, summary="Ticket statistics")
def ticket_stats(
    actor: Reader,
    category: CategoryQuery = None,
    priority: PriorityQuery = None,
    status_: StatusQuery = None,
    search: SearchQuery = None,
) -> TicketStats:
    """Totals, open count, average per day and breakdowns, over tickets matching the filters.

    `avg_tickets_per_day` = matching tickets / UTC calendar days from the earliest matching
    ticket's day through today, inclusive.
    """
    return ticket_service.ticket_stats(_filters(category, priority, status_, search))


@_route(
    "POST", "/classify", response_model=ClassifyResponse, summary="Suggest category and priority"
)
async def classify_ticket(payload: ClassifyRequest, actor: Classifier) -> ClassifyResponse:
    """Suggest a category and priority for a description; values are always from the enums."""
    suggestion = await get_classifier().suggest(payload.description)
    return ClassifyResponse(
        suggested_category=suggestion.category,
        suggested_priority=suggestion.priority,
        category_confidence=suggestion.category_confidence,
        priority_confidence=suggestion.priority_confidence,
        source=suggestion.source,
        reason=suggestion.reason,
    )


@_route(
    "GET",
    "",
    response_model=list[TicketRead],
    summary="List tickets, newest first",
    responses={
        200: {
            "headers": {
                "Link": {"description": 'Next page: `<url>; rel="next"`.'},
                "X-Total-Count": {"description": "Matching tickets across all pages."},
            }
        }
    },
)
def list_tickets(
    request: Request,
    response: Response,
    actor: Reader,
    category: CategoryQuery = None,
    priority: PriorityQuery = None,
    status_: StatusQuery = None,
    search: SearchQuery = None,
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (default 50, max 200).")
    ] = None,
    cursor: Annotated[
        str | None, Query(description="`cursor` from the previous page's Link.")
    ] = None,
) -> list[TicketRead]:
    """A page of tickets matching every given filter, newest first (ties: higher id first).

    The next page's URL is in the `Link` header (`rel="next"`), absent on the last page;
    `X-Total-Count` is the number of matching tickets.
    """
    settings = get_settings()
    page_size = limit or settings.page_size_default
    if page_size > settings.page_size_max:
        page_size = settings.page_size_max
    page = ticket_service.list_tickets(
        _filters(category, priority, status_, search), limit=page_size, cursor=cursor
    )
    response.headers["X-Total-Count"] = str(page.total)
    if page.next_cursor is not None:
        response.headers["Link"] = (
            f'<{_next_page_url(request, page.next_cursor, page_size)}>; rel="next"'
        )
    return page.items


def _next_page_url(request: Request, cursor: str, page_size: int) -> str:
    """The next page's URL, never built from the request's Host header.

    Under PUBLIC_BASE_URL when configured, else relative (RFC 8288 allows it).
    """
    query = request.url.include_query_params(cursor=cursor, limit=page_size).query
    path = f"{request.url.path}?{query}"
    base = get_settings().public_base_url
    return f"{base.rstrip('/')}{path}" if base else path


@_route(
    "POST",
    "",
    response_model=TicketRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a ticket",
)
async def create_ticket(payload: TicketCreate, response: Response, actor: Creator) -> TicketRead:
    """Create a ticket; an omitted category or priority is filled in by the classifier.

    The classifier's suggestion is stored with the ticket. If it fails, the ticket is still
    created (general / medium).
    """
    ticket = await ticket_service.submit_ticket(payload, actor=actor)
    response.headers["Location"] = f"/api/tickets/{ticket.id}/"
    return ticket


@_route(
    "GET",
    "/export",
    response_class=StreamingResponse,
    summary="Export tickets as CSV",
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, newest first."}},
)
def export_tickets(
    actor: Exporter,
    category: CategoryQuery = None,
    priority: PriorityQuery = None,
    status_: StatusQuery = None,
    search: SearchQuery = None,
) -> StreamingResponse:
    """Every ticket matching the filters as a CSV download, in the format the importer reads.

    Streamed page by page, so memory stays flat for any number of tickets. The database is
    read before the response starts, so an outage is a 503 rather than a truncated file. The
    export is recorded in the audit trail with its filters.
    """
    filters = _filters(category, priority, status_, search)
    ticket_service.record_export(filters, actor=actor)
    chunks = export_csv(filters)
    first = [next(chunks)]
    following = next(chunks, None)
    if following is not None:
        first.append(following)
    return StreamingResponse(
        itertools.chain(first, chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tickets.csv"'},
    )


@_route("GET", "/{ticket_id}", response_model=TicketRead, summary="Get one ticket")
def get_ticket(ticket_id: int, actor: Reader) -> TicketRead:
    """The ticket with this id, or 404."""
    return ticket_service.get_ticket(ticket_id)


@_route("PATCH", "/{ticket_id}", response_model=TicketRead, summary="Update a ticket")
async def update_ticket(
    ticket_id: int, changes: Annotated[TicketUpdate, Body()], actor: Editor
) -> TicketRead:
    """Change any of title, description, category, priority, status; absent fields stay.

    Sending null for a field is a 422: every field of a ticket is required. Each changed field
    is recorded in the ticket's audit trail.
    """
    return await run_in_threadpool(
        lambda: ticket_service.update_ticket(ticket_id, changes, actor=actor)
    )


@_route(
    "GET",
    "/{ticket_id}/events",
    response_model=list[EventRead],
    summary="A ticket's audit trail",
    responses={200: {"headers": {"Link": {"description": 'Next page: `<url>; rel="next"`.'}}}},
)
def ticket_events(
    ticket_id: int,
    request: Request,
    response: Response,
    actor: AuditReader,
    limit: Annotated[int, Query(ge=1, le=200, description="Events per page.")] = 50,
    cursor: Annotated[str | None, Query(description="`cursor` from the previous Link.")] = None,
) -> list[EventRead]:
    """Who changed what and when, oldest first.

    Creation, import, every field change with its old and new value, and the actor (user,
    token, intake, import or system). Paginated through the `Link` header.
    """
    page = ticket_service.list_ticket_events(ticket_id, limit=limit, cursor=cursor)
    if page.next_cursor is not None:
        response.headers["Link"] = (
            f'<{_next_page_url(request, page.next_cursor, limit)}>; rel="next"'
        )
    return page.items
