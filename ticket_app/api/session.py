"""Sign-in, sign-out, first-admin setup and `GET /api/me/`.

The console's sign-in and setup pages post plain HTML forms here, so the session cookie can be
set by the server as `HttpOnly` (script on the page never sees it). A form post is answered with
a redirect (to the page asked for, or back to the form with an error code); a JSON post gets a
JSON answer: 200/201, 401 for bad credentials, 429 with `Retry-After` when rate limited.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import (
    SESSION_COOKIE,
    cookie_scheme,
    is_trusted_origin,
    request_origin,
    signed_in,
    unauthenticated,
)
from ticket_app.api.deps import request_client
from ticket_app.api.errors import documented_errors, error_response
from ticket_app.console_routes import safe_return_path
from ticket_app.models import PasswordLinkPurpose
from ticket_app.schemas import MeRead, UserRead
from ticket_app.services.access import Actor
from ticket_app.services.errors import (
    InvalidCredentialsError,
    InvalidInputError,
    SetupClosedError,
    TooManyAttemptsError,
)
from ticket_app.services.identity.links import LINK_PATHS, use_link
from ticket_app.services.identity.sessions import SignedIn, sign_in, sign_out
from ticket_app.services.identity.setup import complete_setup
from ticket_app.services.identity.users import get_user
from ticket_app.settings import get_settings

router = APIRouter(prefix="/api", tags=["session"])

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,100}")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class SignInRequest(BaseModel):
    """Credentials for a console session."""

    model_config = ConfigDict(extra="ignore")

    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    next: str | None = Field(default=None, description="Where a form post redirects after.")


class SetupRequest(BaseModel):
    """The first admin: the setup token from the server log, and the admin's account."""

    model_config = ConfigDict(extra="ignore")

    setup_token: str = Field(max_length=200)
    email: str = Field(max_length=254)
    name: str | None = Field(default=None, max_length=100)
    password: str = Field(max_length=1024)


class PasswordLinkUse(BaseModel):
    """A one-time link's token (from its URL) and the password to set with it."""

    model_config = ConfigDict(extra="ignore")

    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)
    page: PasswordLinkPurpose = Field(
        default=PasswordLinkPurpose.INVITE,
        description="Form posts: the link page (`invite` or `reset`) an error returns to.",
    )


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(FORM_TYPES)


async def _payload(request: Request) -> dict[str, Any]:
    if _is_form(request):
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        body = await request.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def _set_session_cookie(request: Request, response: Response, signed_in: SignedIn) -> None:
    configured = get_settings().cookie_secure
    secure = configured if configured is not None else request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=signed_in.max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def _redirect(path: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{path}?{query}" if query else path, status.HTTP_303_SEE_OTHER)


def _foreign_origin(request: Request) -> bool:
    """A browser request from a page that is not ours (login CSRF, forced sign-out): refused.

    Whatever the content type: a page on another site or port can post `text/plain` JSON
    without a preflight. The page is named by `Origin`, else by `Referer`; requests with
    neither (scripts) pass.
    """
    return not is_trusted_origin(
        request_origin(request.headers), request.url.scheme, request.headers.get("host")
    )


def _cross_origin_refused() -> Response:
    message = "Cross-origin requests may not sign in, sign out or set up."
    return error_response(403, message, [{"field": "origin", "message": message, "type": "origin"}])


def _form_or_json_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI `requestBody` of a route that reads JSON (`model`) or an HTML form.

    These routes parse the body themselves (a form post is answered with a redirect), so
    FastAPI cannot document it. A form post is answered with a 303 whatever its fields (to the
    page asked for, or back to the form with an error), so the form schema requires nothing.
    """
    form = {
        "type": "object",
        "properties": {name: {"type": "string"} for name in model.model_fields},
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": form},
            },
        }
    }


# Errors every session route can answer besides its own.
_SESSION_ERRORS = (400, 405, 413, 422, 503)


@router.post(
    "/auth/login",
    summary="Sign in (console)",
    response_model=UserRead,
    openapi_extra=_form_or_json_body(SignInRequest),
    responses={
        303: {"description": "Form post: redirect to `next`, or back to /login with `error`."},
        **documented_errors(
            (*_SESSION_ERRORS, 401, 403, 429),
            e401="Wrong email or password (one message for both).",
            e403="Posted from a page of another origin.",
            e422="JSON without an email and a password (strings); `errors[].field` names it.",
            e429="Too many failures for this account or address; `Retry-After`.",
        ),
    },
)
async def login(request: Request) -> Response:
    """Check email and password and set the `HttpOnly` session cookie.

    Accepts a JSON body or a form post (`email`, `password`, optional `next`). Failures are
    rate limited per account and per client address.
    """
    form = _is_form(request)
    try:
        data = SignInRequest.model_validate(await _payload(request))
    except ValidationError:
        if form:
            return _redirect("/login", error="invalid")
        return error_response(
            422,
            "email and password are required",
            [{"field": "email", "message": "email and password are required", "type": "missing"}],
        )
    target = safe_return_path(data.next)
    if _foreign_origin(request):
        return _redirect("/login", error="origin") if form else _cross_origin_refused()
    try:
        signed_in = await run_in_threadpool(
            lambda: sign_in(
                data.email,
                data.password,
                client=request_client(request),
                user_agent=request.headers.get("user-agent"),
            )
        )
    except TooManyAttemptsError as exc:
        if form:
            return _redirect("/login", error="locked", retry=str(exc.retry_after), next=target)
        response = error_response(
            429, str(exc), [{"field": "email", "message": str(exc), "type": "rate_limited"}]
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except InvalidCredentialsError as exc:
        if form:
            return _redirect("/login", error="invalid", next=target)
        response = error_response(
            401, str(exc), [{"field": "password", "message": str(exc), "type": "invalid"}]
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    response = (
        _redirect(target)
        if form
        else JSONResponse(signed_in.user.model_dump(mode="json"), status_code=200)
    )
    _set_session_cookie(request, response, signed_in)
    return response


@router.post(
    "/auth/logout",
    summary="Sign out (console)",
    status_code=status.HTTP_204_NO_CONTENT,
    # Signing out without a session is no error (there is nothing to end): the cookie is optional.
    openapi_extra={"security": [{}]},  # FastAPI adds it to [{"session": []}]
    responses={
        303: {"description": "Form post: redirect to /login."},
        **documented_errors((*_SESSION_ERRORS, 403), e403="Posted from a page of another origin."),
    },
)
async def logout(
    request: Request, session_token: Annotated[str | None, Depends(cookie_scheme)]
) -> Response:
    """End the session: it is revoked on the server and the cookie is cleared."""
    if _foreign_origin(request):
        return _redirect("/login", error="origin") if _is_form(request) else _cross_origin_refused()
    await run_in_threadpool(sign_out, session_token)
    response: Response = (
        _redirect("/login", signed_out="1")
        if _is_form(request)
        else Response(status_code=status.HTTP_204_NO_CONTENT)
    )
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post(
    "/auth/setup",
    summary="Create the first admin",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    openapi_extra=_form_or_json_body(SetupRequest),
    responses={
        303: {"description": "Form post: redirect to the console, or back with `error`."},
        **documented_errors(
            (*_SESSION_ERRORS, 403, 429),
            e403="Setup is closed (an admin exists), the setup token is wrong, or the request "
            "came from a page of another origin.",
            e422="Bad email or password; `errors[].field` names it.",
        ),
    },
)
async def setup(request: Request) -> Response:
    """One-time: create the first admin with the setup token printed in the server log.

    Closed as soon as an active admin exists. Signs the new admin in.
    """
    form = _is_form(request)
    payload = await _payload(request)
    try:
        data = SetupRequest.model_validate(payload)
    except ValidationError as exc:
        if form:
            return _redirect("/setup", error="All fields are required.")
        field = str(exc.errors()[0]["loc"][0])
        return error_response(
            422,
            "invalid setup request",
            [{"field": field, "message": exc.errors()[0]["msg"], "type": "invalid"}],
        )
    if _foreign_origin(request):
        if form:
            return _redirect("/setup", error="The form came from another site.")
        return _cross_origin_refused()
    try:
        signed_in = await run_in_threadpool(
            lambda: complete_setup(data.setup_token, data.email, data.password, name=data.name)
        )
    except SetupClosedError as exc:
        if form:
            return _redirect("/setup", error=str(exc), email=data.email, name=data.name or "")
        return error_response(
            403, str(exc), [{"field": "setup_token", "message": str(exc), "type": "setup"}]
        )
    except InvalidInputError as exc:
        if form:
            message = f"{exc.field.capitalize()} {exc}"
            return _redirect("/setup", error=message, email=data.email, name=data.name or "")
        return error_response(
            422, str(exc), [{"field": exc.field, "message": str(exc), "type": "invalid"}]
        )
    response = (
        _redirect("/")
        if form
        else JSONResponse(signed_in.user.model_dump(mode="json"), status_code=201)
    )
    _set_session_cookie(request, response, signed_in)
    return response


@router.post(
    "/auth/password-link",
    summary="Set a password with a one-time link",
    response_model=UserRead,
    openapi_extra=_form_or_json_body(PasswordLinkUse),
    responses={
        303: {"description": "Form post: redirect to the console, or back to the link's page."},
        **documented_errors(
            (*_SESSION_ERRORS, 403),
            e403="Posted from a page of another origin.",
            e422="The link is unknown, used or expired (`token`), or the password fails the "
            "policy (`password`).",
        ),
    },
)
async def use_password_link(request: Request) -> Response:
    """Set your password with an invitation or reset link, and sign in.

    Every other session of the account is signed out. The link works once, until it expires.
    Accepts JSON or a form post (`token`, `password`, optional `page`).
    """
    form = _is_form(request)
    try:
        data = PasswordLinkUse.model_validate(await _payload(request))
    except ValidationError as exc:
        if form:
            return _redirect("/login", error="invalid")
        field = str(exc.errors()[0]["loc"][0])
        message = "token and password are required"
        return error_response(
            422, message, [{"field": field, "message": message, "type": "invalid"}]
        )
    # Back to the link's page only with a token of the shape we make; else nowhere near it.
    back = f"{LINK_PATHS[data.page]}{data.token}" if _TOKEN.fullmatch(data.token) else "/login"
    if _foreign_origin(request):
        return (
            _redirect(back, error="The form came from another site.")
            if form
            else _cross_origin_refused()
        )
    user_agent = request.headers.get("user-agent")
    try:
        signed_in = await run_in_threadpool(
            lambda: use_link(data.token, data.password, user_agent=user_agent)
        )
    except InvalidInputError as exc:
        if form:
            message = str(exc) if exc.field == "token" else f"{exc.field.capitalize()} {exc}"
            return _redirect(back, error=message)
        return error_response(
            422, str(exc), [{"field": exc.field, "message": str(exc), "type": "invalid"}]
        )
    response = (
        _redirect("/")
        if form
        else JSONResponse(signed_in.user.model_dump(mode="json"), status_code=200)
    )
    _set_session_cookie(request, response, signed_in)
    return response


@router.get(
    "/me/",
    response_model=MeRead,
    summary="The signed-in user",
    responses=documented_errors((*_SESSION_ERRORS, 401)),
)
@router.get("/me", response_model=MeRead, include_in_schema=False)
def me(actor: Annotated[Actor, Depends(signed_in)]) -> MeRead:
    """`{"id", "email", "name", "role"}` of the user behind the session or token."""
    if actor.user_id is None:
        raise unauthenticated()
    user = get_user(actor.user_id)
    return MeRead(id=user.id, email=user.email, name=user.name, role=user.role)
