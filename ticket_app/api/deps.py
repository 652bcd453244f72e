"""What the API's routers share: permission and query aliases, filters, paging, errors.

The list filters are read from the query string here (`ticket_filters`), the next page's link is
built here (`next_page_url`), and every route documents the same error answers.

The routers (`api.tickets`, `api.comments`, `api.similar`, `api.bulk`, `api.views`) import these
from here rather than from each other, so no router depends on a sibling.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator, BeforeValidator

from ticket_app.api.auth import current_actor, require
from ticket_app.api.errors import documented_errors
from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import (
    ASSIGNEE_PATTERN,
    LANGUAGE_PATTERN,
    NO_NUL_PATTERN,
    SORT_DESCRIPTION,
    TicketFilters,
    TicketSort,
    parse_since,
    storable_text,
)
from ticket_app.services import ticket_query
from ticket_app.services.access import Action, Actor
from ticket_app.settings import get_settings

Reader = Annotated[Actor, Depends(require(Action.TICKETS_READ))]
Creator = Annotated[Actor, Depends(require(Action.TICKETS_CREATE))]
Editor = Annotated[Actor, Depends(require(Action.TICKETS_EDIT))]
Exporter = Annotated[Actor, Depends(require(Action.TICKETS_EXPORT))]
Classifier = Annotated[Actor, Depends(require(Action.TICKETS_CLASSIFY))]
AuditReader = Annotated[Actor, Depends(require(Action.AUDIT_READ))]


# Every operation documents every error status with its body (ErrorBody).
ERROR_RESPONSES = documented_errors([400, 401, 403, 404, 405, 413, 422, 429, 503])


def _optional_text(value: str | None) -> str | None:
    return None if value is None else storable_text(value)


PAGE_SIZE_MAX = get_settings().page_size_max
SEARCH_DESCRIPTION = (
    "Case-insensitive substring of title or description; `%`, `_` and `\\` are literal; empty "
    "or blank: no filter. No NUL characters."
)
CategoryQuery = Annotated[Category | None, Query(description="Only this category.")]
PriorityQuery = Annotated[Priority | None, Query(description="Only this priority.")]
StatusQuery = Annotated[Status | None, Query(alias="status", description="Only this status.")]
SearchQuery = Annotated[
    str | None,
    AfterValidator(_optional_text),
    Query(
        max_length=200,
        description=SEARCH_DESCRIPTION,
        json_schema_extra={"pattern": NO_NUL_PATTERN},
    ),
]
QQuery = Annotated[
    str | None,
    AfterValidator(_optional_text),
    Query(
        max_length=200,
        description="The console's name for `search` (same rules); given with `search`, a "
        "ticket must match both.",
        json_schema_extra={"pattern": NO_NUL_PATTERN},
    ),
]
_SINCE_RULE = (
    "RFC 3339 date-time with a UTC offset (`Z` or `+01:00`; write `+` as `%2B` in a URL); "
    "a time without an offset is a 422."
)
CreatedSinceQuery = Annotated[
    datetime | None,
    BeforeValidator(parse_since),
    Query(description=f"Only tickets created at or after this instant. {_SINCE_RULE}"),
]
UpdatedSinceQuery = Annotated[
    datetime | None,
    BeforeValidator(parse_since),
    Query(
        description="Only tickets last changed at or after this instant. For incremental sync "
        "pass the newest `updated_at` you hold minus a minute and skip tickets you hold with "
        "the same `id` and `updated_at`: concurrent writes commit in a slightly different "
        f"order than they were stamped. {_SINCE_RULE}"
    ),
]
LanguageQuery = Annotated[
    str | None,
    Query(
        pattern=LANGUAGE_PATTERN,
        description="Only tickets detected in this language (ISO 639-1 code, e.g. `de`).",
    ),
]
FrustratedQuery = Annotated[
    bool | None,
    Query(description="`true`: only tickets from frustrated customers; `false`: only others."),
]
LimitQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=PAGE_SIZE_MAX,
        description=f"Page size, 1 to {PAGE_SIZE_MAX} (default "
        f"{get_settings().page_size_default}); outside that range: 422 naming `limit`.",
    ),
]
AssigneeQuery = Annotated[
    str | None,
    Query(
        pattern=ASSIGNEE_PATTERN,
        description="`me` (the signed-in user, or the token's owner), `none` (unassigned) or a "
        "staff user's id; anything else is a 422 naming `assignee`.",
    ),
]
SortQuery = Annotated[TicketSort, Query(description=SORT_DESCRIPTION)]
CursorQuery = Annotated[
    str | None,
    Query(
        description="`cursor` from the previous page's `Link` header; empty or absent: the "
        "first page. Any other value is a 422 naming `cursor`."
    ),
]


def ticket_filters(
    caller: Annotated[Actor | None, Depends(current_actor)],
    category: CategoryQuery = None,
    priority: PriorityQuery = None,
    status_: StatusQuery = None,
    search: SearchQuery = None,
    q: QQuery = None,
    created_since: CreatedSinceQuery = None,
    updated_since: UpdatedSinceQuery = None,
    assignee: AssigneeQuery = None,
    language: LanguageQuery = None,
    frustrated: FrustratedQuery = None,
) -> TicketFilters:
    """The list, stats and export filters from the query string; all combine with AND.

    `assignee=me` is the calling user (a token's owner); the route's own permission dependency
    has already refused a request without a credential.
    """
    return TicketFilters(
        category=category,
        priority=priority,
        status=status_,
        search=search,
        q=q,
        created_since=created_since,
        updated_since=updated_since,
        assignee=None if assignee is None else ticket_query.resolve_assignee(assignee, caller),
        language=language,
        frustrated=frustrated,
    )


Filters = Annotated[TicketFilters, Depends(ticket_filters)]


def next_page_url(request: Request, cursor: str, page_size: int) -> str:
    """The next page's URL, never built from the request's Host header.

    Under PUBLIC_BASE_URL when configured, else relative (RFC 8288 allows it).
    """
    query = request.url.include_query_params(cursor=cursor, limit=page_size).query
    path = f"{request.url.path}?{query}"
    base = get_settings().public_base_url
    return f"{base.rstrip('/')}{path}" if base else path


TicketId = Annotated[int, Path(description="A ticket's id; one that no ticket has is a 404.")]
