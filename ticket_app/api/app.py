"""The FastAPI application that serves /api; Reflex mounts itself inside it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi import routing as fastapi_routing
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from ticket_app.api.account import account_router, staff_router
from ticket_app.api.bulk import router as bulk_router
from ticket_app.api.canned_responses import router as canned_responses_router
from ticket_app.api.comments import router as comments_router
from ticket_app.api.errors import install_error_handlers
from ticket_app.api.export_response import YieldToRequestsMiddleware
from ticket_app.api.followers import router as followers_router
from ticket_app.api.health import HealthSummaryMiddleware, ReadinessMiddleware
from ticket_app.api.limits import BodySizeLimitMiddleware
from ticket_app.api.mail import INBOUND_MAIL_PATH
from ticket_app.api.mail import router as mail_router
from ticket_app.api.notifications import router as notifications_router
from ticket_app.api.rate_limits import RateLimitMiddleware
from ticket_app.api.routing import install_api_fallback, refuse_unknown_query_parameters
from ticket_app.api.security import SecurityMiddleware
from ticket_app.api.session import router as session_router
from ticket_app.api.similar import router as similar_router
from ticket_app.api.sla import router as sla_router
from ticket_app.api.tags import router as tags_router
from ticket_app.api.tickets import router as tickets_router
from ticket_app.api.views import router as views_router
from ticket_app.services import warmup
from ticket_app.services.triage_history import training_rows
from ticket_app.settings import get_settings
from ticket_app.triage import set_history_loader

API_DESCRIPTION = """
REST API of Triage Desk. Every route needs a personal API token
(`Authorization: Bearer tdk_...`, create one in the console under "API tokens" or with
`python -m ticket_app tokens create`) or the console's session cookie. Errors are JSON:
`{"detail": ..., "errors": [{"field", "message", "type"}]}`; 401 without a valid credential,
403 when the role or token scope does not allow the action, 422 for invalid input (the field is
named; unknown query parameters are refused), 404 for unknown ids and paths, 405 with `Allow`
for a method a path does not serve, 409 for a duplicate `external_id` or view name, 412 when a
PATCH's `If-Match` names an older version of the ticket, 413 for bodies over the
size limit, 400 for a body that cannot be decoded, 503 when the database is unavailable.
"""


_ROUTERS = (
    session_router,
    tickets_router,
    bulk_router,
    comments_router,
    views_router,
    similar_router,
    mail_router,
    sla_router,
    notifications_router,
    canned_responses_router,
    followers_router,
    tags_router,
    account_router,
    staff_router,
)


@functools.cache
def _api_routes() -> tuple[BaseRoute, ...]:
    """Every router of _ROUTERS, included once per process, unknown query parameters refused.

    FastAPI 0.165 builds an included router's route state (each route's dependencies, body
    and response models: about 0.25 s on a quiet host) on the first request, and keeps it on
    the inclusion. Included here once and handed to every app `create_api` makes, it is built
    once per process instead of once per app: the test suite makes an app per test.
    """
    table = fastapi_routing.APIRouter()
    for router in _ROUTERS:
        table.include_router(router, dependencies=[Depends(refuse_unknown_query_parameters)])
    return tuple(table.routes)


def create_api() -> FastAPI:
    """Build a new FastAPI app with the ticket routes, error handlers and body-size limit.

    A factory, because Reflex adds its own middleware to the app it is given: each Reflex app
    (and each test) needs its own instance. Docs are served from local assets at /api/docs.
    Also hands the triage learner its source of staff-labelled history. Security headers, the
    host allow-list and the event socket's origin check wrap everything this app serves,
    including the Reflex console mounted inside it.
    """
    api = FastAPIOffline(
        title="Triage Desk API",
        version="1.0.0",
        description=API_DESCRIPTION,
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
        static_url="/api/docs-static",
        routes=list(_api_routes()),
    )
    set_history_loader(training_rows)
    install_error_handlers(api)
    install_api_fallback(api)
    api.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=get_settings().max_request_bytes,
        larger={INBOUND_MAIL_PATH: get_settings().mail_raw_max_bytes},
    )
    api.add_middleware(YieldToRequestsMiddleware)
    api.add_middleware(RateLimitMiddleware)  # outside the body limit: refuse before reading
    api.add_middleware(HealthSummaryMiddleware)  # Reflex's /_health, reduced to ok / not ok
    api.add_middleware(ReadinessMiddleware)  # both health checks say "starting" until warm
    api.add_middleware(SecurityMiddleware)
    return api


def _endpoints(routes: Sequence[BaseRoute]) -> Iterator[Callable[..., Any]]:
    # FastAPI 0.165 keeps an included router's routes behind the router (`original_router`).
    for route in routes:
        if isinstance(route, fastapi_routing.APIRoute):
            yield route.endpoint
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _endpoints(included.routes)


def warm_up_api(api: FastAPI) -> None:
    """Prepare what `api`'s first request would: its routes and the thread pool's back end.

    FastAPI builds each route's state (its dependencies, body and response models) when a
    request is first matched against it, about 0.3 s on a loaded host: one request for an
    unknown path, sent to the router alone (no middleware, nothing recorded, a 404), is matched
    against every route. On a route's first handled request FastAPI also reads its endpoint's
    source location for error messages (`inspect.getsourcelines`: the file read and the
    function tokenized, about 2 ms under a profiler); that is read here for every route,
    through FastAPI's own cache when this FastAPI version has it (a private function, pinned
    with FastAPI in requirements.txt; without it this part is skipped). And the first
    `run_in_threadpool` (every token check) imports anyio's asyncio back end, 1.1 s of the
    first create on a loaded host. Runs in its own event loop.
    """
    remember_endpoint = getattr(fastapi_routing, "_extract_endpoint_context", None)
    if remember_endpoint is not None:
        for endpoint in _endpoints(api.routes):
            remember_endpoint(endpoint)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/warm-up/",
        "raw_path": b"/api/warm-up/",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
        "app": api,
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: object) -> None:
        return None

    async def probe() -> None:
        with contextlib.suppress(HTTPException):
            await api.router(scope, receive, send)
        await run_in_threadpool(lambda: None)

    asyncio.run(probe())


def start_served_warm_up(api: FastAPI) -> None:
    """Start this process's warm-up: the models (`services.warmup`), then `warm_up_api`."""
    warmup.start_warm_up(("API routes and thread pool", functools.partial(warm_up_api, api)))


@asynccontextmanager
async def _warm_up_at_start(api: FastAPI) -> AsyncIterator[None]:
    start_served_warm_up(api)
    yield


def create_served_api() -> FastAPI:
    """`create_api()` as a server of its own runs it: the models load as it starts.

    For the API served without Reflex (granian's `--factory`, as `bench` does); under Reflex the
    app registers the same warm-up as a lifespan task (Reflex does not run a mounted app's
    lifespan). `/ping` says "starting" (503) until the warm-up is done.
    """
    api = create_api()
    api.router.lifespan_context = _warm_up_at_start
    return api
