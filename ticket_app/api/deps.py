"""What the API's routers share: permission and query aliases, filters, paging, errors.

The list filters are read from the query string here (`ticket_filters`, one parameter per entry
of `schemas.LIST_FILTERS`), the next page's link is built here (`next_page_url`), and every
route documents the same error answers.

The routers (`api.tickets`, `api.comments`, `api.similar`, `api.bulk`, `api.views`) import these
from here rather than from each other, so no router depends on a sibling.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from ticket_app.api.auth import current_actor, require
from ticket_app.api.errors import documented_errors
from ticket_app.schemas import (
    LIST_FILTERS,
    SORT_DESCRIPTION,
    TicketFilters,
    TicketSort,
)
from ticket_app.services import ticket_query
from ticket_app.services.access import Action, Actor
from ticket_app.services.client_address import FORWARDED_FOR, client_address, forwarded_for_value
from ticket_app.settings import get_settings

Reader = Annotated[Actor, Depends(require(Action.TICKETS_READ))]
Creator = Annotated[Actor, Depends(require(Action.TICKETS_CREATE))]
Editor = Annotated[Actor, Depends(require(Action.TICKETS_EDIT))]
Exporter = Annotated[Actor, Depends(require(Action.TICKETS_EXPORT))]
Classifier = Annotated[Actor, Depends(require(Action.TICKETS_CLASSIFY))]
AuditReader = Annotated[Actor, Depends(require(Action.AUDIT_READ))]


# Every operation documents every error status with its body (ErrorBody).
ERROR_RESPONSES = documented_errors([400, 401, 403, 404, 405, 413, 422, 429, 503])


PAGE_SIZE_MAX = get_settings().page_size_max
LimitQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=PAGE_SIZE_MAX,
        description=f"Page size, 1 to {PAGE_SIZE_MAX} (default "
        f"{get_settings().page_size_default}); outside that range: 422 naming `limit`.",
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


async def ticket_filters(caller: Actor | None, **values: Any) -> TicketFilters:
    """The list, stats and export filters from the query string; all combine with AND.

    One query parameter per `LIST_FILTERS` entry: the signature below is built from the table.
    `assignee=me` is the calling user (a token's owner); the route's own permission dependency
    has already refused a request without a credential. Async although it reads no database:
    FastAPI runs a plain function dependency in a worker thread, a hand-off per request.
    """
    if values.get("assignee") is not None:
        values["assignee"] = ticket_query.resolve_assignee(values["assignee"], caller)
    return TicketFilters(**values)


ticket_filters.__signature__ = inspect.Signature(
    [
        inspect.Parameter(
            "caller",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[Actor | None, Depends(current_actor)],
        ),
        *(
            inspect.Parameter(
                item.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    item.query_type, Query(description=item.description, **item.rules)
                ],
            )
            for item in LIST_FILTERS
        ),
    ],
    return_annotation=TicketFilters,
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


def request_client(request: Request) -> str | None:
    """The client's address: the peer's, or through a trusted proxy the one it forwarded."""
    peer = request.client.host if request.client else None
    return client_address(peer, forwarded_for_value(request.headers.getlist(FORWARDED_FOR)))
