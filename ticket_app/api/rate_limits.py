"""Cost bounds at the API's door: per-user rate limits (429) and turns for expensive reads.

Every request under /api counts in one bucket of services.rate_limits (the first rule in RULES
that matches; sign-in and the docs count in none):

| Bucket | Requests | Default |
| --- | --- | --- |
| classify | `POST /api/tickets/classify/` | `RATE_LIMIT_CLASSIFY` = 120/minute |
| exports | `GET`/`HEAD`/`POST /api/tickets/export/` | `RATE_LIMIT_EXPORTS` = 30/minute |
| writes | `POST`/`PUT`/`PATCH`/`DELETE` under /api but /api/auth | `RATE_LIMIT_WRITES` = 600/min |
| similar | `GET /api/tickets/{id}/similar/` | `RATE_LIMIT_SIMILAR` = 300/minute |
| searches | a list, stats or SLA report read with `search`/`q` | `RATE_LIMIT_SEARCHES` = 300/min |
| reads | other `GET`/`HEAD` of tickets, views and `/api/me/` | `RATE_LIMIT_READS` = 3000/minute |

The defaults are far above what a person or an ordinary script needs (a script that creates a
few hundred tickets, or pages through every ticket, as fast as one connection allows stays
under them) and low enough that one client cannot monopolise the database or the Gemini quota.
Console changes count in the same writes bucket (ui.state.session.authorize).

The counters are per user: the credential (a bearer header wins over the session cookie, as in
authentication) is resolved to its owner, cheaply (services.rate_limits.owner_of remembers it
for a minute). A credential that belongs to nobody counts under its own SHA-256, so a request
with a bad token cannot spend someone else's allowance; a request without one counts under the
client address (behind a proxy in `TRUSTED_PROXIES`, the address it forwarded;
services.client_address). Counting happens before authentication and reads no request body.

Expensive reads (`is_expensive`: searches, statistics, similar tickets, lists with several or
unindexed filters) are also admitted per user: at most `EXPENSIVE_READS_PER_USER` at once (429
beyond), and then take turns with everyone's in the SearchGate (`SEARCH_CONCURRENCY` at once
per process), so one user's crowd of searches can neither starve writes and plain reads of
threads and connections nor take every turn from other users.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from limits import RateLimitItem
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ticket_app.services import rate_limits
from ticket_app.services.client_address import (
    FORWARDED_FOR,
    Network,
    client_address,
    forwarded_for_value,
)
from ticket_app.services.identity.sessions import SESSION_COOKIE
from ticket_app.services.rate_limits import Limiter
from ticket_app.settings import Settings, get_settings

OwnerLookup = Callable[[str, str], Awaitable[int | None]]
"""(credential kind, secret) -> the owning user's id, or None (services.rate_limits.owner_of)."""

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READ = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class _Rule:
    """Requests (methods and a full-path pattern) counted in one bucket."""

    bucket: str
    methods: frozenset[str]
    path: re.Pattern[str]
    what: str
    searches_only: bool = False


RULES: tuple[_Rule, ...] = (
    _Rule(
        rate_limits.CLASSIFY,
        frozenset({"POST"}),
        re.compile(r"/api/tickets/classify/?"),
        "classifies",
    ),
    _Rule(
        rate_limits.EXPORTS,
        _READ | {"POST"},
        re.compile(r"/api/tickets/export/?"),
        "exports",
    ),
    # Sign-in and sign-out have limits of their own (services.identity).
    _Rule(rate_limits.WRITES, _UNSAFE, re.compile(r"/api/(?!auth(?:/|$)).*"), "writes"),
    _Rule(
        rate_limits.SIMILAR,
        _READ,
        re.compile(r"/api/tickets/\d+/similar/?"),
        "similar-ticket lookups",
    ),
    _Rule(
        rate_limits.SEARCHES,
        _READ,
        re.compile(r"/api/(?:tickets(?:/stats)?|sla/report)/?"),
        "searches",
        searches_only=True,
    ),
    _Rule(rate_limits.READS, _READ, re.compile(r"/api/(?:tickets|views|me)(?:/.*)?"), "reads"),
)


def credential(scope: Scope) -> tuple[str, str] | None:
    """The request's credential as authentication sees it: (kind, secret), or None.

    A bearer header wins over a cookie: `("token", secret)`; else the session cookie:
    `("session", value)`. An `Authorization` header of another scheme is its own whole value.
    """
    headers = Headers(scope=scope)
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        is_bearer = scheme.lower() == "bearer" and secret.strip()
        return rate_limits.TOKEN, secret.strip() if is_bearer else authorization
    cookie_header = headers.get("cookie")
    if cookie_header:
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except CookieError:
            cookies = SimpleCookie()
        session = cookies.get(SESSION_COOKIE)
        if session is not None and session.value:
            return rate_limits.SESSION, session.value
    return None


def client_key(scope: Scope, trusted_proxies: Sequence[Network] | None = None) -> str:
    """Who is asking, before its credential is looked up: `<kind>:<sha256>` or `address:<ip>`.

    `<kind>` is `token` or `session` (see `credential`); no secret appears in the key. The
    address is the peer's, or behind one of `trusted_proxies` (default: the setting) the client
    it forwarded (services.client_address).
    """
    presented = credential(scope)
    if presented is not None:
        kind, secret = presented
        return f"{kind}:" + hashlib.sha256(secret.encode()).hexdigest()
    headers = Headers(scope=scope)
    client = scope.get("client")
    peer = client[0] if client else None
    forwarded_for = forwarded_for_value(headers.getlist(FORWARDED_FOR))
    return "address:" + (client_address(peer, forwarded_for, trusted=trusted_proxies) or "unknown")


async def subject_key(
    scope: Scope,
    trusted_proxies: Sequence[Network] | None = None,
    owner_of: OwnerLookup = rate_limits.owner_of,
) -> str:
    """Whose allowance a request spends: `user:<id>` for a usable credential, else `client_key`."""
    presented = credential(scope)
    if presented is not None:
        owner = await owner_of(*presented)
        if owner is not None:
            return rate_limits.user_key(owner)
    return client_key(scope, trusted_proxies)


def _rule_for(scope: Scope) -> _Rule | None:
    method, path = scope["method"], scope["path"]
    for rule in RULES:
        if method in rule.methods and rule.path.fullmatch(path):
            if rule.searches_only and not is_search(scope):
                continue
            return rule
    return None


_SEARCHABLE = re.compile(r"/api/(?:tickets(?:/stats)?|sla/report)/?")
_SEARCH_PARAMETERS = ("search", "q")
_ALWAYS_EXPENSIVE = re.compile(r"/api/(?:tickets/(?:stats|\d+/similar)|sla/report)/?")
_LIST = re.compile(r"/api/tickets/?")
_PAGING = frozenset({"limit", "cursor", "sort"})
_NEWEST_OR_OLDEST = frozenset({"-created_at", "created_at"})
# A single filter that pages through one of the tickets table's indexes, in these sorts.
_INDEXED_FILTERS: dict[str, frozenset[str]] = {
    "category": _NEWEST_OR_OLDEST,
    "priority": _NEWEST_OR_OLDEST,
    "status": _NEWEST_OR_OLDEST,
    "assignee": _NEWEST_OR_OLDEST,
    "language": _NEWEST_OR_OLDEST,
    "frustrated": _NEWEST_OR_OLDEST,
    "created_since": _NEWEST_OR_OLDEST,
    "updated_since": frozenset({"-updated_at"}),
}


def _query(scope: Scope) -> dict[str, list[str]]:
    return parse_qs(scope.get("query_string", b"").decode("latin-1"))


def is_search(scope: Scope) -> bool:
    """Whether a request is a ticket list, stats or SLA report read with a non-blank search."""
    if scope["type"] != "http" or scope["method"] not in _READ:
        return False
    if not _SEARCHABLE.fullmatch(scope["path"]):
        return False
    query = _query(scope)
    return any(value.strip() for name in _SEARCH_PARAMETERS for value in query.get(name, ()))


def _refused_unread(scope: Scope, rule: _Rule) -> bool:
    """Whether this is an export GET without a bearer token, which the route refuses.

    A session cookie may export only by POST from the console; counting the refused GET would let
    a foreign page's `<img>` use up the signed-in person's export allowance.
    """
    return (
        rule.bucket == rate_limits.EXPORTS
        and scope["method"] in _READ
        and "authorization" not in Headers(scope=scope)
    )


def is_expensive(scope: Scope) -> bool:
    """Whether a request is a read whose cost grows with the number of tickets.

    Searches, statistics and similar tickets always; a list when it filters on more than one
    field, or on one without an index for its sort (e.g. `language=de&sort=-updated_at`).
    A list without filters, in any sort, pages through an index and is cheap.
    """
    if is_search(scope):
        return True
    if scope["type"] != "http" or scope["method"] not in _READ:
        return False
    if _ALWAYS_EXPENSIVE.fullmatch(scope["path"]):
        return True
    if not _LIST.fullmatch(scope["path"]):
        return False
    query = _query(scope)
    filters = {
        name
        for name, values in query.items()
        if name not in _PAGING and any(v.strip() for v in values)
    }
    if not filters:
        return False
    if len(filters) > 1:
        return True
    sort = (query.get("sort") or ["-created_at"])[-1]
    return sort not in _INDEXED_FILTERS.get(filters.pop(), frozenset())


class SearchGate:
    """At most `concurrency` expensive reads run at once in this process; others wait their turn.

    A search scans (1-2 character terms cannot use the trigram index) or counts many matches;
    statistics and unindexed lists count many rows. Dozens at once took every worker thread
    and pooled connection, so creates queued behind them for seconds. Waiting here costs no
    thread and no connection, so writes and plain reads go straight through while expensive
    reads (`is_expensive`) take turns. One that waits longer than `wait_seconds` gets 503 with
    Retry-After (the JSON error body) instead of waiting forever. `concurrency` 0 turns the
    gate off.
    """

    def __init__(self, app: ASGIApp, *, concurrency: int, wait_seconds: float) -> None:
        self.app = app
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds
        self._turns: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run an expensive read when its turn comes (or refuse it); pass anything else on."""
        if not self.concurrency or not is_expensive(scope):
            await self.app(scope, receive, send)
            return
        if self._turns is None:  # made in the server's event loop, on first use
            self._turns = asyncio.Semaphore(self.concurrency)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._turns.acquire()
        except TimeoutError:
            message = "The server is busy with other searches; try again in a moment."
            await _send_error(send, 503, message, "busy", retry_after=1)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._turns.release()


class RateLimitMiddleware:
    """Answer 429 (JSON error body, `Retry-After` in seconds) to a user beyond their allowance.

    Beyond: a full bucket, or an expensive read while `EXPENSIVE_READS_PER_USER` of theirs run.
    Also puts expensive reads through a SearchGate (`search_concurrency`,
    `search_queue_seconds`), so that the API's cost bounds are wired in one place. Without
    `settings` the process's settings and shared counters (services.rate_limits.shared_limiter,
    which the console counts in too); with them, counters of its own. `owner_of` finds a
    credential's user (default: services.rate_limits.owner_of). Requests outside RULES pass
    untouched.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings | None = None,
        owner_of: OwnerLookup = rate_limits.owner_of,
    ) -> None:
        self.limiter = Limiter(settings) if settings is not None else rate_limits.shared_limiter()
        settings = settings or get_settings()
        self.app = SearchGate(
            app,
            concurrency=settings.search_concurrency,
            wait_seconds=settings.search_queue_seconds,
        )
        self.trusted_proxies = settings.trusted_proxies
        self.owner_of = owner_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count a limited request; pass it on, or answer 429 if its bucket is full."""
        rule = _rule_for(scope) if scope["type"] == "http" else None
        if rule is not None and _refused_unread(scope, rule):
            rule = None
        expensive = rule is not None and is_expensive(scope)
        if rule is None or not (self.limiter.limits[rule.bucket] or expensive):
            await self.app(scope, receive, send)
            return
        key = await subject_key(scope, self.trusted_proxies, self.owner_of)
        retry_after = await self.limiter.hit(rule.bucket, key)
        if retry_after is not None:
            await self._refuse(send, rule, self.limiter.limits[rule.bucket], retry_after)
            return
        if not expensive:
            await self.app(scope, receive, send)
            return
        if not self.limiter.enter_expensive(key):
            message = (
                "Too many searches and reports at once from this client (at most "
                f"{self.limiter.expensive_per_user}); wait for one to finish."
            )
            await _send_error(send, 429, message, "rate_limited", retry_after=1)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limiter.leave_expensive(key)

    @staticmethod
    async def _refuse(
        send: Send, rule: _Rule, items: tuple[RateLimitItem, ...], retry_after: int
    ) -> None:
        allowed = " and ".join(str(item) for item in items)
        message = (
            f"Too many {rule.what} from this client (at most {allowed}); "
            f"try again in {retry_after} seconds."
        )
        await _send_error(send, 429, message, "rate_limited", retry_after=retry_after)


async def _send_error(
    send: Send, status: int, message: str, kind: str, *, retry_after: int
) -> None:
    """A JSON error in the API's common shape, with Retry-After (seconds)."""
    payload = json.dumps(
        {"detail": message, "errors": [{"field": "", "message": message, "type": kind}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
