"""JSON error bodies for the REST API.

Every error answers `{"detail": ..., "errors": [{"field", "message", "type"}]}`: `detail` keeps
FastAPI's usual shape for existing clients, `errors` names each offending field plainly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticket_app.api.security import API_PREFIX, SECURITY_HEADERS
from ticket_app.schemas import ErrorBody
from ticket_app.services.bulk import BulkInterruptedError
from ticket_app.services.database import PoolTimeoutError, unavailable_error
from ticket_app.services.errors import (
    AuthenticationError,
    ConflictError,
    ConstraintViolationError,
    DatabaseUnavailableError,
    EditConflictError,
    ExternalIdConflictError,
    InvalidCursorError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TicketNotFoundError,
    TooManyAttemptsError,
)
from ticket_app.services.tickets import ticket_etag
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

_LOCATION_PREFIXES = {"body", "query", "path", "header"}


def field_name(location: tuple[Any, ...] | list[Any]) -> str:
    """The dotted field name of a pydantic error location, without the `body`/`query` prefix."""
    parts = [str(part) for part in location]
    if parts and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    return ".".join(parts) or "body"


_CONSTRAINED_COLUMNS = (
    "suggested_category",
    "suggested_priority",
    "title",
    "description",
    "category",
    "priority",
    "status",
)


def _constraint_field(constraint: str | None) -> str:
    """The column a named CHECK constraint (`ck_tickets_<column>...`) guards, or "body"."""
    name = (constraint or "").removeprefix("ck_tickets_")
    return next((column for column in _CONSTRAINED_COLUMNS if name.startswith(column)), "body")


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request body cannot be decoded (send UTF-8 JSON), or the host name is not in "
    "ALLOWED_HOSTS.",
    401: "No valid session or API token (`WWW-Authenticate: Bearer`).",
    403: "The role or the token's scopes do not allow this.",
    404: "No such ticket, or no such path.",
    405: "Method not allowed on this path; `Allow` lists the methods it serves.",
    409: "Conflicts with a stored value.",
    413: "Request body larger than MAX_REQUEST_BYTES.",
    422: "Invalid input: `errors[].field` names each offending field, query parameter or header "
    "(unknown query parameters included).",
    429: "Too many requests; retry after `Retry-After` seconds.",
    503: "Database unavailable or too slow; nothing was written (`Retry-After`).",
}
"""What each error status means on any /api route (routes may say more)."""


def documented_errors(
    codes: Iterable[int] = ERROR_DESCRIPTIONS, **overrides: str | dict[str, Any]
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses, each with the `ErrorBody` model.

    `codes` picks the statuses (default: all of ERROR_DESCRIPTIONS); an override named `e409`
    replaces that status's description (a string) or whole entry (a dict).
    """
    responses: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes
    }
    for name, value in overrides.items():
        code = int(name.removeprefix("e"))
        entry = value if isinstance(value, dict) else {"model": ErrorBody, "description": value}
        responses[code] = entry
    return responses


def error_response(status_code: int, detail: Any, errors: list[dict[str, str]]) -> JSONResponse:
    """A JSON error response in the API's common shape."""
    return JSONResponse(status_code=status_code, content={"detail": detail, "errors": errors})


_RANGE_ERRORS = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}


def _message(error: dict[str, Any]) -> str:
    """A plain message for one pydantic error."""
    location = tuple(error.get("loc", ()))
    kind = error.get("type")
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        # A query parameter's message lists what the path accepts (see api.routing).
        return message if location[:1] == ("query",) else "unknown field"
    if kind == "json_invalid":
        return "request body is not valid JSON"
    if kind in _RANGE_ERRORS and location[-1:] == ("limit",):
        return f"must be between 1 and {get_settings().page_size_max}"
    return message


# What pydantic says when the whole body is not an object: FastAPI reads a body that is not sent
# as JSON as raw bytes, so a JSON object sent as text/plain or a form gets one of these.
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type"}


def _validation_errors(
    exc: RequestValidationError, content_type: str | None = None
) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        field = "body" if error.get("type") == "json_invalid" else field_name(error["loc"])
        message = _message(error)
        media_type = (content_type or "").split(";")[0].strip().lower()
        if (
            tuple(error.get("loc", ())) == ("body",)
            and error.get("type") in _NOT_AN_OBJECT
            and media_type != "application/json"
        ):
            message = (
                f"send the body as JSON with Content-Type: application/json "
                f"(got {media_type or 'no Content-Type'})"
            )
        errors.append({"field": field, "message": message, "type": str(error["type"])})
    return errors


# FastAPI's words for a body it could not decode (not UTF-8, say) before parsing any JSON.
_UNDECODABLE_BODY = "There was an error parsing the body"


@dataclass(frozen=True)
class PlainError:
    """How a service error becomes the common error body, with one `errors` item and no more.

    `kind` is the item's `type`; `field` its field, as a name or read from the error; `message`
    the text of `detail` and of the item (default: the error's own); `headers` are added to the
    answer, as they are or read from the error.
    """

    status_code: int
    kind: str
    field: str | Callable[[Any], str] = ""
    message: Callable[[Any], str] = str
    headers: Mapping[str, str] | Callable[[Any], Mapping[str, str]] | None = None

    def response(self, exc: Exception) -> JSONResponse:
        """The JSON error answer to `exc`."""
        message = self.message(exc)
        field = self.field if isinstance(self.field, str) else self.field(exc)
        response = error_response(
            self.status_code, message, [{"field": field, "message": message, "type": self.kind}]
        )
        headers = self.headers(exc) if callable(self.headers) else self.headers
        response.headers.update(headers or {})
        return response


# Nothing was written: the same request may simply be sent again.
_RETRY_SOON = {"Retry-After": "5"}

PLAIN_ERRORS: dict[type[Exception], PlainError] = {
    AuthenticationError: PlainError(
        status.HTTP_401_UNAUTHORIZED, "unauthenticated", headers={"WWW-Authenticate": "Bearer"}
    ),
    PermissionDeniedError: PlainError(status.HTTP_403_FORBIDDEN, "forbidden"),
    TooManyAttemptsError: PlainError(
        status.HTTP_429_TOO_MANY_REQUESTS,
        "rate_limited",
        headers=lambda exc: {"Retry-After": str(exc.retry_after)},
    ),
    ConflictError: PlainError(status.HTTP_409_CONFLICT, "invalid", field=attrgetter("field")),
    InvalidInputError: PlainError(
        status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid", field=attrgetter("field")
    ),
    NotFoundError: PlainError(status.HTTP_404_NOT_FOUND, "not_found", field="id"),
    TicketNotFoundError: PlainError(
        status.HTTP_404_NOT_FOUND, "not_found", field=attrgetter("field")
    ),
    InvalidCursorError: PlainError(
        status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_cursor", field="cursor"
    ),
    ConstraintViolationError: PlainError(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        "constraint",
        field=lambda exc: _constraint_field(exc.constraint),
        message=lambda exc: "the database refused this value",
    ),
    DatabaseUnavailableError: PlainError(
        status.HTTP_503_SERVICE_UNAVAILABLE, "database_unavailable", headers=_RETRY_SOON
    ),
    # A full pool reached outside `service_session` (which translates it) is the same 503, not
    # a plain-text 500 without the security headers.
    PoolTimeoutError: PlainError(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "database_unavailable",
        message=lambda exc: str(unavailable_error(exc)),
        headers=_RETRY_SOON,
    ),
}
"""The service errors whose answer is the common body alone, by class.

A subclass without an entry of its own takes its nearest base's (a ConflictError is a 409, any
other InvalidInputError a 422); the errors whose body says more have handlers of their own.
"""


def _plain_handler(rule: PlainError) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return rule.response(exc)

    return handle


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers that turn validation and service errors into JSON error bodies."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {key: value for key, value in error.items() if key in {"loc", "msg", "type"}}
            for error in exc.errors()
        ]
        return error_response(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail,
            _validation_errors(exc, request.headers.get("content-type")),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == status.HTTP_400_BAD_REQUEST and exc.detail == _UNDECODABLE_BODY:
            message = "request body cannot be decoded: send UTF-8 JSON"
            return error_response(
                exc.status_code, message, [{"field": "body", "message": message, "type": "body"}]
            )
        response = error_response(
            exc.status_code, exc.detail, [{"field": "", "message": str(exc.detail), "type": "http"}]
        )
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(ExternalIdConflictError)
    async def _external_id_taken(request: Request, exc: ExternalIdConflictError) -> JSONResponse:
        url = f"/api/tickets/{exc.ticket_id}/"
        response = JSONResponse(
            status_code=status.HTTP_409_CONFLICT,
            content={
                "detail": str(exc),
                "errors": [{"field": exc.field, "message": str(exc), "type": "conflict"}],
                "ticket": {"id": exc.ticket_id, "url": url},
            },
        )
        response.headers["Location"] = url
        return response

    @app.exception_handler(EditConflictError)
    async def _edit_conflict(request: Request, exc: EditConflictError) -> JSONResponse:
        response = JSONResponse(
            status_code=status.HTTP_412_PRECONDITION_FAILED,
            content={
                "detail": str(exc),
                "errors": [
                    {"field": "If-Match", "message": str(exc), "type": "precondition_failed"}
                ],
                "current": exc.current.model_dump(mode="json"),
                "changed_by": exc.changed_by,
            },
        )
        response.headers["ETag"] = ticket_etag(exc.current)
        return response

    @app.exception_handler(BulkInterruptedError)
    async def _bulk_interrupted(request: Request, exc: BulkInterruptedError) -> JSONResponse:
        # Part of the change is committed: say how much, so the caller need not guess.
        response = JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={
                "detail": str(exc),
                "errors": [{"field": "", "message": str(exc), "type": "bulk_interrupted"}],
                "updated": exc.applied.updated,
                "applied_through_id": exc.applied_through_id,
                "remaining": exc.remaining,
            },
        )
        response.headers.update(_RETRY_SOON)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette's ServerErrorMiddleware calls this from outside every other middleware, so
        # the security headers are added here; it logs the exception itself afterwards.
        if request.url.path == API_PREFIX or request.url.path.startswith(f"{API_PREFIX}/"):
            message = "Internal server error; it has been logged."
            response: Response = error_response(
                status.HTTP_500_INTERNAL_SERVER_ERROR,
                message,
                [{"field": "", "message": message, "type": "internal"}],
            )
        else:
            response = PlainTextResponse("Internal Server Error", status_code=500)
        response.headers.update(SECURITY_HEADERS)
        return response

    for error_class, rule in PLAIN_ERRORS.items():
        app.add_exception_handler(error_class, _plain_handler(rule))
