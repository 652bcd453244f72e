"""What /api answers outside its routes: unknown paths, wrong methods, unknown query parameters.

- `refuse_unknown_query_parameters`: a dependency on every /api route that answers 422 naming
  each query parameter the route does not declare (a misspelt filter must not silently widen
  the result, e.g. an export of every ticket) or that is given more than once.
- `install_api_fallback`: a route for every method under /api, added after the API's own
  routes. Reflex mounts itself inside our app and would otherwise answer unknown /api paths
  with its HTML page and wrong methods with plain text: here an unknown path is a JSON 404, a
  method the path does not serve a JSON 405 whose `Allow` lists every method that path serves
  (gathered from all of its routes, so `GET` and `POST` on one path are both listed), and
  `OPTIONS` a 204 with that `Allow`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Receive, Scope, Send

from ticket_app.api.errors import error_response

Handler = Callable[..., Any]


def in_one_thread_hop(handler: Handler) -> Handler:
    """A plain-function route handler as a coroutine function that runs it in the thread pool.

    FastAPI hands a plain function's call to a worker thread, and then its answer's validation
    to another: two hand-offs between the event loop and the pool, besides the token check's.
    Wrapped, the handler runs in one, and its answer (already the response model's type) is
    checked on the loop. Each hand-off cost about 0.3 ms of CPU in process on this project's
    two-core host (docs/performance.md, "CPU per request, one at a time"). FastAPI reads the
    parameters and the annotations' module through `__wrapped__`, so the route and its schema
    are unchanged. Coroutine functions are returned as they are.
    """
    if inspect.iscoroutinefunction(handler):
        return handler

    @functools.wraps(handler)
    async def in_worker_thread(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(handler, *args, **kwargs)

    return in_worker_thread


def slash_routes(
    router: APIRouter, error_responses: dict[int | str, dict[str, Any]]
) -> Callable[..., Callable[[Handler], Handler]]:
    """A decorator factory, `route(method, path, **kwargs)`, for routes on `router`.

    Each handler is registered at `path + "/"` (documented, with `error_responses` plus the
    route's own `responses`) and at `path` (the same handler, hidden from the schema); a plain
    function through `in_one_thread_hop`. The decorator returns the handler as written.
    """

    def route(method: str, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            responses = {**error_responses, **kwargs.pop("responses", {})}
            endpoint = in_one_thread_hop(handler)
            router.add_api_route(
                f"{path}/", endpoint, methods=[method], responses=responses, **kwargs
            )
            router.add_api_route(
                path, endpoint, methods=[method], include_in_schema=False, **kwargs
            )
            return handler

        return decorator

    return route


def paged_response(
    total_description: str | None = None, **more_headers: dict[str, Any]
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a 200 paged through `Link`, with `X-Total-Count` when described.

    `total_description` says what `X-Total-Count` counts (None: the route sends no total);
    `more_headers` are further documented headers, name -> OpenAPI header object.
    """
    headers: dict[str, Any] = {
        "Link": {
            "description": 'Next page: `<url>; rel="next"` (absent on the last page).',
            "schema": {"type": "string"},
        }
    }
    if total_description is not None:
        headers["X-Total-Count"] = {
            "description": total_description,
            "schema": {"type": "integer", "minimum": 0},
        }
    return {200: {"headers": {**headers, **more_headers}}}


# The order methods are listed in `Allow`.
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameter names (aliases) a route declares, its dependencies' included.

    Worked out once per route and kept on it.
    """
    cached: frozenset[str] | None = getattr(route, "_declared_query_parameters", None)
    if cached is not None:
        return cached
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(param.alias for param in dependant.query_params)
        pending.extend(dependant.dependencies)
    cached = frozenset(names)
    route._declared_query_parameters = cached  # type: ignore[attr-defined]
    return cached


async def refuse_unknown_query_parameters(request: Request) -> None:
    """Raise a 422 (RequestValidationError) naming each query parameter the route lacks.

    Also each parameter given more than once: every parameter takes one value, and quietly
    using one of several (`?status=open&status=closed`) would answer a question not asked.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _declared_query_parameters(route)
    names = sorted(set(request.query_params))
    accepted = ", ".join(sorted(known)) or "none"
    errors = [
        {
            "type": "extra_forbidden",
            "loc": ("query", name),
            "msg": f"unknown query parameter (this path accepts: {accepted})",
            "input": request.query_params.get(name),
        }
        for name in names
        if name not in known
    ]
    errors.extend(
        {
            "type": "repeated",
            "loc": ("query", name),
            "msg": "given more than once; give it once",
            "input": request.query_params.getlist(name),
        }
        for name in names
        if name in known and len(request.query_params.getlist(name)) > 1
    )
    if errors:
        raise RequestValidationError(errors)


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes themselves, through FastAPI's included-router wrappers."""
    for route in routes:
        nested = getattr(route, "effective_candidates", None)
        if callable(nested):
            yield from _leaf_routes(nested())
        else:
            yield route


def _allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """Every method that some route in `routes` serves at the request's path, in a fixed order."""
    methods: set[str] = set()
    for route in _leaf_routes(routes):
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods.update(route_methods)
    if not methods:
        return []
    methods.add("OPTIONS")
    return sorted(methods, key=lambda m: (_METHOD_ORDER.index(m) if m in _METHOD_ORDER else 99, m))


class _ApiFallback:
    """The ASGI app behind the catch-all routes.

    An app rather than a function: Starlette limits a function endpoint without a method list to
    GET.
    """

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.answer(Request(scope, receive))
        await response(scope, receive, send)

    def answer(self, request: Request) -> Response:
        """404, 405 or (for OPTIONS) 204, as the module docstring says."""
        allowed = _allowed_methods(self.routes, request.scope)
        if not allowed:
            message = f"No API endpoint at {request.url.path}; see /api/docs."
            return error_response(
                status.HTTP_404_NOT_FOUND,
                message,
                [{"field": "path", "message": message, "type": "not_found"}],
            )
        allow = ", ".join(allowed)
        if request.method == "OPTIONS":
            return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"Allow": allow})
        message = f"{request.method} is not allowed here; this path allows {allow}."
        response = error_response(
            status.HTTP_405_METHOD_NOT_ALLOWED,
            message,
            [{"field": "method", "message": message, "type": "method_not_allowed"}],
        )
        response.headers["Allow"] = allow
        return response


def install_api_fallback(api: FastAPI) -> None:
    """Add the catch-all for /api (call after every /api route is added; hidden from the schema).

    Answers 404 for a path no route serves, 405 with `Allow` for a method the path does not
    serve, 204 with `Allow` for `OPTIONS`; all errors in the API's JSON error shape. The routes
    have no method list, so they match every method, custom ones included.
    """
    fallback = _ApiFallback(list(api.router.routes))
    for path in ("/api", "/api/{path:path}"):
        api.router.routes.append(Route(path, fallback, include_in_schema=False))
