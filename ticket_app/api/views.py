"""REST routes for saved views: `/api/views/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import require
from ticket_app.api.deps import ERROR_RESPONSES
from ticket_app.api.errors import documented_errors
from ticket_app.api.routing import slash_routes
from ticket_app.schemas import SavedViewCreate, SavedViewRead
from ticket_app.services import views as view_service
from ticket_app.services.access import Action, Actor

router = APIRouter(prefix="/api/views", tags=["views"])
_route = slash_routes(router, {**ERROR_RESPONSES, **documented_errors([409])})

ViewKeeper = Annotated[Actor, Depends(require(Action.VIEWS_MANAGE_OWN))]


@_route("GET", "", response_model=list[SavedViewRead], summary="Your views and shared ones")
def list_views(actor: ViewKeeper) -> list[SavedViewRead]:
    """Your own views and every shared one, by name, with their counts.

    `count` is the number of tickets a view matches now (`assignee=me` in a view means you):
    exact up to `COUNT_CAP` (10,000 by default; `count_exact` true), an estimate beyond
    (`count_exact` false), as a list's `X-Total-Count` is.
    """
    views = view_service.list_views(actor=actor)
    counts = view_service.view_counts(views, actor=actor)
    return [view_service.with_count(view, counts[view.id]) for view in views]


@_route(
    "POST",
    "",
    response_model=SavedViewRead,
    status_code=status.HTTP_201_CREATED,
    summary="Save a view",
)
async def save_view(payload: SavedViewCreate, actor: ViewKeeper) -> SavedViewRead:
    """Save the list's filters, search and sort under a name (unique per person: 409 otherwise).

    The answer carries the view's `count` and `count_exact` now, as the list of views does.

    `query` holds the list's query parameters; a parameter or value the list would refuse is a
    422 naming `query.<name>`. Only admins may share a view with the team (403).
    """

    def save() -> SavedViewRead:
        view = view_service.save_view(payload, actor=actor)
        counts = view_service.view_counts([view], actor=actor)
        return view_service.with_count(view, counts[view.id])

    return await run_in_threadpool(save)


ViewId = Annotated[int, Path(description="A saved view's id.")]


@_route(
    "DELETE",
    "/{view_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a view",
)
async def delete_view(view_id: ViewId, actor: ViewKeeper) -> None:
    """Delete one of your views (admins: any shared view too); others' private views are 404."""
    await run_in_threadpool(lambda: view_service.delete_view(view_id, actor=actor))
