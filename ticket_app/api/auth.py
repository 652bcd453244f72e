"""Who is calling: a bearer API token or the console's session cookie, checked on every route.

`require(action)` is the dependency every /api route declares. It answers 401 (with
`WWW-Authenticate: Bearer`) when no valid credential is presented and 403 when the role or the
token's scopes do not allow the action; the decision itself is the permission table's
(`services.access`). Requests authenticated by cookie that change something must come from
our own origin (or a configured one): a page on another site or port cannot ride the cookie.
Routes that act when merely loaded (exports) refuse safe methods with the cookie altogether
(`refuse_cookie_reads`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ticket_app.services.access import Action, Actor
from ticket_app.services.identity.sessions import SESSION_COOKIE, resolve_session
from ticket_app.services.identity.tokens import resolve_token
from ticket_app.settings import get_settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A personal API token (`tdk_...`), created in the console or with "
    "`python -m ticket_app tokens create`.",
)
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The console's session cookie (set by signing in).",
)


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, for comparing origins."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def trusted_origins(scheme: str, host: str | None) -> set[str]:
    """Origins whose pages may act with a session.

    Our own (from the request), the configured public base URL, and `CORS_ALLOWED_ORIGINS`.
    """
    settings = get_settings()
    origins = {origin_of(o) for o in settings.cors_allowed_origins}
    if settings.public_base_url:
        origins.add(origin_of(settings.public_base_url))
    if host:
        origins.add(f"{scheme}://{host}".lower())
    return origins


def request_origin(headers: Mapping[str, str]) -> str | None:
    """The origin of the page that sent a request: its `Origin` header, else its `Referer`'s.

    Browsers leave `Origin` out of some requests (older ones on same-site POSTs, some on
    navigations); their `Referer` then still names the page. None when neither is sent, as by
    scripts. An unparsable `Referer` gives "://", which no trusted origin equals.
    """
    origin = headers.get("origin")
    if origin is not None:
        return origin
    referer = headers.get("referer")
    return origin_of(referer) if referer else None


def is_trusted_origin(origin: str | None, scheme: str, host: str | None) -> bool:
    """Whether a browser `Origin` header may use the session (absent: not a browser, allowed)."""
    if origin is None:
        return True
    secure_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return origin.strip().lower() in trusted_origins(secure_scheme, host)


def unauthenticated(message: str = "Sign in or send an API token.") -> HTTPException:
    """A 401 that tells clients to use a bearer token."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_actor(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session_token: Annotated[str | None, Depends(cookie_scheme)],
) -> Actor | None:
    """The actor behind the request's token or session cookie, or None.

    An `Authorization` header that is present but not a valid token (empty included) is a 401
    even if a cookie is present too, so a script never silently acts as whoever is signed in
    in the browser.
    """
    if "authorization" in request.headers:
        secret = bearer.credentials if bearer is not None else None
        actor = await run_in_threadpool(resolve_token, secret)
        if actor is None:
            raise unauthenticated("The API token is missing, invalid, expired or revoked.")
        return actor
    if not session_token:
        return None
    if request.method not in SAFE_METHODS and not is_trusted_origin(
        request_origin(request.headers), request.url.scheme, request.headers.get("host")
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="Cross-origin requests may not use the session cookie.",
        )
    return await run_in_threadpool(resolve_session, session_token)


async def refuse_cookie_reads(
    request: Request, actor: Annotated[Actor | None, Depends(current_actor)]
) -> None:
    """A dependency: 403 for a safe-method request authenticated by the session cookie.

    For routes that act in the caller's name when merely loaded (the CSV export writes an audit
    event and uses the caller's export budget): a page on another site or port can make the
    browser load any URL with the cookie (`<img src>`, a link), but cannot send an unsafe
    method from our origin. Browsers use POST (checked against the page's origin, see
    `current_actor`); API clients with a bearer token are unaffected.
    """
    by_cookie = actor is not None and "authorization" not in request.headers
    if by_cookie and request.method in SAFE_METHODS:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="A signed-in browser exports with POST (the console's Export CSV button); "
            "API clients send their token in the Authorization header.",
        )


def require(action: Action) -> Callable[..., Awaitable[Actor]]:
    """A dependency that yields the calling actor if it may perform `action` (else 401/403)."""

    async def dependency(actor: Annotated[Actor | None, Depends(current_actor)]) -> Actor:
        if actor is None:
            raise unauthenticated()
        if not actor.can(action):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"Your role or token scope does not allow {action.value}.",
            )
        return actor

    dependency.__name__ = f"require_{action.name.lower()}"
    return dependency


async def signed_in(actor: Annotated[Actor | None, Depends(current_actor)]) -> Actor:
    """A dependency that yields the calling actor, whatever it may do (else 401)."""
    if actor is None:
        raise unauthenticated()
    return actor
