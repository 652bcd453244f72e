"""REST route for bulk changes: `POST /api/tickets/bulk/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import require
from ticket_app.api.deps import ERROR_RESPONSES
from ticket_app.api.errors import documented_errors
from ticket_app.api.routing import slash_routes
from ticket_app.schemas import BulkRequest, BulkResult
from ticket_app.services import bulk as bulk_service
from ticket_app.services.access import Action, Actor

router = APIRouter(prefix="/api/tickets", tags=["tickets"])
_route = slash_routes(router, ERROR_RESPONSES)

Editor = Annotated[Actor, Depends(require(Action.TICKETS_EDIT))]


_INTERRUPTED = documented_errors(
    [503],
    e503="Database unavailable or too slow (`Retry-After`). Before the first batch committed "
    "nothing was written (type `database_unavailable`); after it, type `bulk_interrupted`, "
    "and the body adds `updated` (tickets changed), `applied_through_id` (every selected "
    "ticket up to this id was handled, none above it) and `remaining`; send the same request "
    "again to finish.",
)


@_route(
    "POST",
    "/bulk",
    response_model=BulkResult,
    summary="Change many tickets at once",
    responses=_INTERRUPTED,
)
async def bulk_update(payload: BulkRequest, actor: Editor) -> BulkResult:
    """Set status, priority, category and/or assignee on many tickets, in batches.

    The tickets are those listed in `ids`, or those the list shows for `filters`. Each changed
    field of each ticket gets an audit event; `updated` counts the tickets that actually
    changed. More than 10,000 selected tickets is a 422 naming `confirm_count` (whose message
    gives the count) unless `confirm_count` equals it. An unknown id is a 404 naming `id`, and
    nothing is changed. The tickets are changed in batches of `BULK_BATCH_SIZE`, each its own
    transaction: a database failure after some batches is a 503 of type `bulk_interrupted`
    giving `updated`, `applied_through_id` and `remaining`; the same request sent again
    finishes the change.
    """
    outcome = await run_in_threadpool(lambda: bulk_service.bulk_update(payload, actor=actor))
    return BulkResult(updated=outcome.updated)
