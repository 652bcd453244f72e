"""JSON error bodies for the REST API.

Every error answers `{"detail": ..., "errors": [{"field", "message", "type"}]}`: `detail` keeps
FastAPI's usual shape for existing clients, `errors` names each offending field plainly.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticket_app.services.errors import (
    AuthenticationError,
    ConflictError,
    ConstraintViolationError,
    DatabaseUnavailableError,
    InvalidCursorError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TicketNotFoundError,
    TooManyAttemptsError,
)

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


def error_response(status_code: int, detail: Any, errors: list[dict[str, str]]) -> JSONResponse:
    """A JSON error response in the API's common shape."""
    return JSONResponse(status_code=status_code, content={"detail": detail, "errors": errors})


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        location = error.get("loc", ())
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "unknown field"
        elif error.get("type") == "json_invalid":
            message = "request body is not valid JSON"
        field = "body" if error.get("type") == "json_invalid" else field_name(location)
        errors.append({"field": field, "message": message, "type": str(error.get("type"))})
    return errors


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers that turn validation and service errors into JSON error bodies."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {key: value for key, value in error.items() if key in {"loc", "msg", "type"}}
            for error in exc.errors()
        ]
        return error_response(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail, _validation_errors(exc)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(
            exc.status_code, exc.detail, [{"field": "", "message": str(exc.detail), "type": "http"}]
        )
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(AuthenticationError)
    async def _unauthenticated(request: Request, exc: AuthenticationError) -> JSONResponse:
        response = error_response(
            status.HTTP_401_UNAUTHORIZED,
            str(exc),
            [{"field": "", "message": str(exc), "type": "unauthenticated"}],
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(PermissionDeniedError)
    async def _forbidden(request: Request, exc: PermissionDeniedError) -> JSONResponse:
        return error_response(
            status.HTTP_403_FORBIDDEN,
            str(exc),
            [{"field": "", "message": str(exc), "type": "forbidden"}],
        )

    @app.exception_handler(TooManyAttemptsError)
    async def _rate_limited(request: Request, exc: TooManyAttemptsError) -> JSONResponse:
        response = error_response(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            [{"field": "", "message": str(exc), "type": "rate_limited"}],
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(InvalidInputError)
    async def _invalid(request: Request, exc: InvalidInputError) -> JSONResponse:
        code = (
            status.HTTP_409_CONFLICT
            if isinstance(exc, ConflictError)
            else status.HTTP_422_UNPROCESSABLE_CONTENT
        )
        return error_response(
            code, str(exc), [{"field": exc.field, "message": str(exc), "type": "invalid"}]
        )

    @app.exception_handler(NotFoundError)
    async def _missing(request: Request, exc: NotFoundError) -> JSONResponse:
        return error_response(
            status.HTTP_404_NOT_FOUND,
            str(exc),
            [{"field": "id", "message": str(exc), "type": "not_found"}],
        )

    @app.exception_handler(TicketNotFoundError)
    async def _not_found(request: Request, exc: TicketNotFoundError) -> JSONResponse:
        return error_response(
            status.HTTP_404_NOT_FOUND,
            str(exc),
            [{"field": "id", "message": str(exc), "type": "not_found"}],
        )

    @app.exception_handler(InvalidCursorError)
    async def _bad_cursor(request: Request, exc: InvalidCursorError) -> JSONResponse:
        return error_response(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            str(exc),
            [{"field": "cursor", "message": str(exc), "type": "invalid_cursor"}],
        )

    @app.exception_handler(ConstraintViolationError)
    async def _constraint(request: Request, exc: ConstraintViolationError) -> JSONResponse:
        field = _constraint_field(exc.constraint)
        message = "the database refused this value"
        return error_response(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            message,
            [{"field": field, "message": message, "type": "constraint"}],
        )

    @app.exception_handler(DatabaseUnavailableError)
    async def _database_down(request: Request, exc: DatabaseUnavailableError) -> JSONResponse:
        response = error_response(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            str(exc),
            [{"field": "", "message": str(exc), "type": "database_unavailable"}],
        )
        response.headers["Retry-After"] = "5"
        return response
