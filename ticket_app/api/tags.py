"""REST route for tag autocomplete: `GET /api/tags/`.

A ticket's tags are read and written with the ticket (`/api/tickets/`, bulk changes); this
route lists the tags in use, for suggestions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from ticket_app.api.deps import ERROR_RESPONSES, Reader
from ticket_app.api.routing import slash_routes
from ticket_app.schemas import TagCount
from ticket_app.services import tags as tag_service

router = APIRouter(prefix="/api/tags", tags=["tags"])
_route = slash_routes(router, ERROR_RESPONSES)


@_route("GET", "", response_model=list[TagCount], summary="Tags in use, most used first")
async def list_tags(
    actor: Reader,
    prefix: Annotated[
        str | None,
        Query(
            max_length=tag_service.PREFIX_MAX_LENGTH,
            description="Only tags starting with this (trimmed, lower-cased); empty or absent: "
            "every tag; one no tag can start with (a comma, a leading `-`): none.",
        ),
    ] = None,
) -> list[TagCount]:
    """Up to 20 tags carried by tickets, most used first (ties by name), with their counts."""
    return await run_in_threadpool(lambda: tag_service.suggest_tags(prefix, actor=actor))
