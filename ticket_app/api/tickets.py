"""REST routes under /api/tickets. Each route validates input and calls the service layer.

Every path answers with and without its trailing slash (the documented form has the slash).
Ticket ids in paths are digits only (`{ticket_id:int}`), so `/api/tickets/stats/` can never be
read as a ticket id: a wrong method there is a 405, not a 422 about `ticket_id`. Unknown query
parameters are refused (`api.routing`); every error answer is an `ErrorBody`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import refuse_cookie_reads
from ticket_app.api.deps import (
    ERROR_RESPONSES,
    PAGE_SIZE_MAX,
    AuditReader,
    Classifier,
    Creator,
    CursorQuery,
    Editor,
    Exporter,
    Filters,
    LimitQuery,
    Reader,
    SortQuery,
    TicketId,
    next_page_url,
)
from ticket_app.api.errors import documented_errors
from ticket_app.api.export_response import ExportResponse
from ticket_app.api.routing import paged_response, slash_routes
from ticket_app.models import Category, Priority
from ticket_app.schemas import (
    ConflictBody,
    Description,
    EditConflictBody,
    ErrorBody,
    EventRead,
    SimilarTicket,
    TicketCreate,
    TicketRead,
    TicketSort,
    TicketStats,
    TicketUpdate,
    Title,
)
from ticket_app.services import idempotency
from ticket_app.services import similarity as similar_tickets
from ticket_app.services import stats as stats_service
from ticket_app.services import tickets as ticket_service
from ticket_app.services.export_stream import open_export
from ticket_app.settings import get_settings
from ticket_app.triage import get_classifier

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

_route = slash_routes(router, ERROR_RESPONSES)


class ClassifyRequest(BaseModel):
    """Text to classify; unknown keys are refused, as for tickets."""

    model_config = ConfigDict(extra="forbid")

    description: Description = Field(description="As a ticket's description.")
    title: Title | None = Field(
        default=None,
        description="The title typed so far, if any (omit it or send null while it is empty; "
        "a blank string is a 422 as for tickets); helps the suggestion.",
    )


class ClassifyResponse(BaseModel):
    """The classifier's suggestion; the first two keys are the stable contract."""

    suggested_category: Category
    suggested_priority: Priority
    category_confidence: float = Field(ge=0, le=1)
    priority_confidence: float = Field(ge=0, le=1)
    source: str = Field(description="`gemini` or `offline`.")
    reason: str
    suggested_title: str = Field(
        description="A title of at most 80 characters for an empty title field (Gemini's "
        "summary, or the description's most informative sentence); empty if none.",
        max_length=80,
    )
    language: str | None = Field(
        description="ISO 639-1 code of the text's language; null when too short to tell."
    )
    sentiment: Literal["negative", "neutral", "positive"]
    sentiment_score: float = Field(ge=-1, le=1, description="-1 (angry) to 1 (pleased).")
    frustrated: bool = Field(
        description="Repeat contact, a threat to cancel or shouting; may have raised the "
        "priority one step (the reason says so)."
    )
    similar: list[SimilarTicket] = Field(
        description="Up to five open tickets with similar text, best first: possible duplicates."
    )


@_route(
    "GET",
    "/stats",
    response_model=TicketStats,
    response_model_exclude_unset=True,
    summary="Ticket statistics",
)
def ticket_stats(
    actor: Reader,
    filters: Filters,
    workload: Annotated[
        bool,
        Query(
            description="Also answer `open_by_assignee` and `median_first_reply_seconds` (one "
            "more query each, growing with the open and replied tickets); without it both keys "
            "are absent and the answer comes from constant-time counts when only category, "
            "priority and status filter."
        ),
    ] = False,
) -> TicketStats:
    """Totals, open count, average per day and breakdowns, over tickets matching the filters.

    `avg_tickets_per_day` = matching tickets / UTC calendar days from the earliest matching
    ticket's day through today, inclusive. `workload=true` adds the per-assignee open counts
    and the median time to first public reply (what the dashboard shows).
    """
    return stats_service.ticket_stats(filters, workload=workload)


@_route(
    "POST", "/classify", response_model=ClassifyResponse, summary="Suggest category and priority"
)
async def classify_ticket(payload: ClassifyRequest, actor: Classifier) -> ClassifyResponse:
    """Suggest category, priority, title, and read language, sentiment and frustration.

    Values are always from the enums. `similar` lists open tickets that may be duplicates.
    """
    title = payload.title or ""
    suggestion = await get_classifier().suggest(payload.description, title)
    similar = await run_in_threadpool(similar_tickets.similar_to_text, payload.description, title)
    return ClassifyResponse(
        suggested_category=suggestion.category,
        suggested_priority=suggestion.priority,
        category_confidence=suggestion.category_confidence,
        priority_confidence=suggestion.priority_confidence,
        source=suggestion.source,
        reason=suggestion.reason,
        suggested_title=suggestion.suggested_title,
        language=suggestion.language,
        sentiment=suggestion.sentiment,
        sentiment_score=suggestion.sentiment_score,
        frustrated=suggestion.frustrated,
        similar=similar,
    )


@_route(
    "GET",
    "",
    response_model=list[TicketRead],
    summary="List tickets",
    responses=paged_response(
        "Matching tickets across all pages: exact when `X-Total-Count-Exact` is `true`, else "
        "an estimate (at least the count cap, 10,000 by default).",
        **{
            "X-Total-Count-Exact": {
                "description": "`true` when `X-Total-Count` is exact. Filters on category, "
                "priority and status only are always exact; with a search or a since filter "
                "the matches are counted up to the cap and estimated beyond it (`false`).",
                "schema": {"type": "string", "enum": ["true", "false"]},
            },
            "X-Search-Mode": {
                "description": "`close-matches` when `sort=relevance`, the search's words "
                "matched no ticket and the page lists close matches (typos, other spellings) "
                "instead; absent otherwise.",
                "schema": {"type": "string", "enum": ["close-matches"]},
            },
        },
    ),
)
def list_tickets(
    request: Request,
    response: Response,
    actor: Reader,
    filters: Filters,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
    sort: SortQuery = TicketSort.NEWEST,
) -> list[TicketRead]:
    """A page of tickets matching every given filter, in `sort` order (default newest first).

    Ties are broken by id in the sort's direction. The next page's URL is in the `Link` header
    (`rel="next"`), absent on the last page; a cursor only continues the sort it was issued
    for (another sort: 422 naming `cursor`). `X-Total-Count` is the number of matching
    tickets, or an estimate beyond the count cap when `X-Total-Count-Exact` is `false`.
    """
    page_size = limit or get_settings().page_size_default
    page = ticket_service.list_tickets(
        filters, limit=page_size, cursor=cursor or None, sort=sort, close_matches=True
    )
    response.headers["X-Total-Count"] = str(page.total)
    response.headers["X-Total-Count-Exact"] = "true" if page.total_exact else "false"
    if page.close_matches:
        response.headers["X-Search-Mode"] = "close-matches"
    if page.next_cursor is not None:
        response.headers["Link"] = (
            f'<{next_page_url(request, page.next_cursor, page_size)}>; rel="next"'
        )
    return page.items


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="Optional. The same key with the same body within 24 hours returns the "
        "first answer (same status, same ticket; `Idempotent-Replayed: true`) and creates "
        "nothing; the same key with another body is a 422 naming `Idempotency-Key`. Keys are "
        "per user. 1 to 255 visible ASCII characters, e.g. a UUID.",
        json_schema_extra={"minLength": 1, "maxLength": 255, "pattern": idempotency.KEY_PATTERN},
    ),
]


@_route(
    "POST",
    "",
    response_model=TicketRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a ticket",
    responses={
        201: {
            "headers": {
                "Location": {
                    "description": "The new ticket's path.",
                    "schema": {"type": "string"},
                },
                "Idempotent-Replayed": {
                    "description": "`true` when this is the stored first answer to the key.",
                    "schema": {"type": "string", "enum": ["true"]},
                },
            }
        },
        **documented_errors(
            [409],
            e409={
                "model": ConflictBody,
                "description": "A ticket with this `external_id` exists: `ticket` gives its id "
                "and URL (also in `Location`).",
            },
        ),
    },
)
async def create_ticket(
    payload: TicketCreate,
    response: Response,
    actor: Creator,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TicketRead:
    """Create a ticket; an omitted category or priority is filled in by the classifier.

    The classifier's suggestion is stored with the ticket. If it fails, the ticket is still
    created (general / medium). See `Idempotency-Key` for safe retries and `external_id` for
    tickets from other systems (409 when one already has it).
    """
    submitted = await ticket_service.submit_ticket_once(
        payload, actor=actor, idempotency_key=idempotency_key
    )
    response.status_code = submitted.status_code
    response.headers["Location"] = f"/api/tickets/{submitted.ticket.id}/"
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return submitted.ticket


_EXPORT_RESPONSES = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "CSV, in `sort` order (default newest first).",
    },
    403: {
        "model": ErrorBody,
        "description": "The role or token scope does not allow exports; or a GET with the "
        "session cookie (browsers export with POST from the console's own pages), or a POST "
        "with the cookie from another origin.",
    },
    429: {
        "model": ErrorBody,
        "description": "Too many exports: the export rate limit, or the user already runs "
        "EXPORT_CONCURRENCY_PER_USER exports (`Retry-After`).",
    },
}


@_route(
    "GET",
    "/export",
    response_class=StreamingResponse,
    summary="Export tickets as CSV",
    responses=_EXPORT_RESPONSES,
    dependencies=[Depends(refuse_cookie_reads)],
)
@_route(
    "POST",
    "/export",
    response_class=StreamingResponse,
    summary="Export tickets as CSV (from a browser)",
    description="As GET, for the console's Export CSV button: the session cookie is accepted "
    "on POST only, from the app's own origin, so a page elsewhere cannot trigger an export "
    "in a signed-in user's name. Filters and `sort` stay in the query string; no body.",
    responses=_EXPORT_RESPONSES,
)
async def export_tickets(
    actor: Exporter, filters: Filters, sort: SortQuery = TicketSort.NEWEST
) -> StreamingResponse:
    """Every ticket matching the filters as a CSV download, in the format the importer reads.

    One consistent snapshot, read into a temporary file as fast as the database allows and
    sent from there at the client's pace, so a slow client never holds a database connection.
    The database is read before the response starts, so an outage is a 503 rather than a
    truncated file; a failure mid-read aborts the response without its final chunk. One user
    runs at most EXPORT_CONCURRENCY_PER_USER exports at once (more: 429). The export is
    recorded in the audit trail with its filters when it ends: `exported`, or
    `export_interrupted` when the download stopped part-way.
    """
    return ExportResponse(await open_export(actor, filters, sort))


ETAG_HEADER = {
    "ETag": {
        "description": "The ticket's version; send it back in `If-Match` when changing it.",
        "schema": {"type": "string"},
    }
}


@_route(
    "GET",
    "/{ticket_id:int}",
    response_model=TicketRead,
    summary="Get one ticket",
    responses={200: {"headers": ETAG_HEADER}},
)
def get_ticket(ticket_id: TicketId, response: Response, actor: Reader) -> TicketRead:
    """The ticket with this id, or 404; `ETag` names this version of it."""
    ticket = ticket_service.get_ticket(ticket_id)
    response.headers["ETag"] = ticket_service.ticket_etag(ticket)
    return ticket


# RFC 9110 If-Match: "*" or a comma-separated list of entity tags (optionally weak), so that
# a mangled header (an unquoted tag, a stray word) is a 422 naming it, not a 412 that says
# someone else changed the ticket.
IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"[\x21\x23-\x7e]*"(\s*,\s*(W/)?"[\x21\x23-\x7e]*")*)\s*$'
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=IF_MATCH_PATTERN,
        description="Optional. The `ETag` of the version you edited, quoted as sent (or `*`): "
        "when the ticket changed since, the answer is 412 and nothing is changed; a value that "
        "is not an entity tag is a 422.",
    ),
]


@_route(
    "PATCH",
    "/{ticket_id:int}",
    response_model=TicketRead,
    summary="Update a ticket",
    responses={
        200: {"headers": ETAG_HEADER},
        **documented_errors(
            [],
            e412={
                "model": EditConflictBody,
                "description": "`If-Match` names an older version: someone changed the ticket "
                "since. `current` is the ticket now (its `ETag` is sent too), `changed_by` who "
                "changed it last. Nothing was changed.",
            },
        ),
    },
)
async def update_ticket(
    ticket_id: TicketId,
    changes: Annotated[TicketUpdate, Body()],
    response: Response,
    actor: Editor,
    if_match: IfMatchHeader = None,
) -> TicketRead:
    """Change title, description, category, priority, status, assignee or requester.

    Absent fields stay. Null is a 422 for title, description, category, priority and status
    (every ticket has them); null `assignee_id` unassigns, null `requester_name` /
    `requester_email` clear. `assignee_id` must be an active agent or admin. Each changed
    field is recorded in the ticket's audit trail. With `If-Match`, a stale version is a 412.
    """
    ticket = await run_in_threadpool(
        lambda: ticket_service.update_ticket(ticket_id, changes, actor=actor, if_match=if_match)
    )
    response.headers["ETag"] = ticket_service.ticket_etag(ticket)
    return ticket


@_route(
    "GET",
    "/{ticket_id:int}/events",
    response_model=list[EventRead],
    summary="A ticket's audit trail",
    responses=paged_response(),
)
def ticket_events(
    ticket_id: TicketId,
    request: Request,
    response: Response,
    actor: AuditReader,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=PAGE_SIZE_MAX,
            description=f"Events per page, 1 to {PAGE_SIZE_MAX}; outside that range: 422.",
        ),
    ] = 50,
    cursor: CursorQuery = None,
) -> list[EventRead]:
    """Who changed what and when, oldest first.

    Creation, import, every field change with its old and new value, and the actor (user,
    token, intake, import or system). Paginated through the `Link` header.
    """
    page = ticket_service.list_ticket_events(ticket_id, limit=limit, cursor=cursor or None)
    if page.next_cursor is not None:
        response.headers["Link"] = (
            f'<{next_page_url(request, page.next_cursor, limit)}>; rel="next"'
        )
    return page.items
