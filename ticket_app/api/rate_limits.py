"""Cost bounds at the API's door: per-client rate limits (429) and a gate for searches.

Three buckets, each a `limits` rate from the settings (empty: unlimited):

| Bucket | Requests | Default |
| --- | --- | --- |
| writes | `POST /api/tickets/`, `PATCH /api/tickets/{id}/` | `RATE_LIMIT_WRITES` = 600/minute |
| classify | `POST /api/tickets/classify/` | `RATE_LIMIT_CLASSIFY` = 120/minute |
| exports | `GET`/`HEAD`/`POST /api/tickets/export/` | `RATE_LIMIT_EXPORTS` = 30/minute |

Reads (lists, single tickets, stats, history) are not limited: paging through every ticket is
what automation does. The defaults are far above what a person or an ordinary script needs (a
script that creates a few hundred tickets as fast as one connection allows stays under 600 a
minute) and low enough that one client cannot monopolise the database or the Gemini quota.

A client is its credential, as the API's authentication sees it: the bearer token when an
`Authorization` header is sent, else the session cookie, else the client address (behind a
proxy in `TRUSTED_PROXIES`, the address it forwarded; services.client_address). Only a
SHA-256 of a credential is kept. Counting happens before authentication, so requests with a
bad token are counted under that token and cannot be used to spend someone else's allowance.
The window moves (a request is counted for exactly one window length); counters live in
`RATE_LIMIT_STORAGE_URL` (per process in memory by default; `redis://...` shares them between
workers). If that storage fails, requests are let through and the failure is logged: a limit is
a safeguard, not a reason to refuse service.

Searches are not rate-limited but take turns (SearchGate): at most `SEARCH_CONCURRENCY` run at
once per process, so a crowd of searches cannot starve creates and edits of threads and
database connections.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from limits import RateLimitItem, parse_many
from limits.aio import strategies
from limits.storage import storage_from_string
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ticket_app.services.client_address import (
    FORWARDED_FOR,
    Network,
    client_address,
    forwarded_for_value,
)
from ticket_app.services.identity import SESSION_COOKIE
from ticket_app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

_NAMESPACE = "api"


@dataclass(frozen=True)
class _Rule:
    """Requests (methods and a full-path pattern) counted in one bucket."""

    bucket: str
    methods: frozenset[str]
    path: re.Pattern[str]
    what: str


RULES: tuple[_Rule, ...] = (
    _Rule("writes", frozenset({"POST"}), re.compile(r"/api/tickets/?"), "ticket writes"),
    _Rule("classify", frozenset({"POST"}), re.compile(r"/api/tickets/classify/?"), "classifies"),
    _Rule(
        "exports",
        frozenset({"GET", "HEAD", "POST"}),
        re.compile(r"/api/tickets/export/?"),
        "exports",
    ),
    # After the fixed paths: `classify`, `export` and `stats` are not ticket ids, but a PATCH on
    # them (a 405) is harmless to count.
    _Rule("writes", frozenset({"PATCH"}), re.compile(r"/api/tickets/[^/]+/?"), "ticket writes"),
)


def bucket_limits(settings: Settings) -> dict[str, tuple[RateLimitItem, ...]]:
    """Bucket name -> its parsed rates (empty tuple: unlimited)."""
    rates = {
        "writes": settings.rate_limit_writes,
        "classify": settings.rate_limit_classify,
        "exports": settings.rate_limit_exports,
    }
    return {bucket: tuple(parse_many(rate)) if rate else () for bucket, rate in rates.items()}


def client_key(scope: Scope, trusted_proxies: Sequence[Network] | None = None) -> str:
    """Who is asking: `token:<sha256>`, `session:<sha256>` or `address:<ip>`.

    The same precedence as authentication: a bearer header wins over a cookie. The address is
    the peer's, or behind one of `trusted_proxies` (default: the setting) the client it
    forwarded (services.client_address).
    """
    headers = Headers(scope=scope)
    authorization = headers.get("authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode()).hexdigest()
    cookie_header = headers.get("cookie")
    if cookie_header:
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except CookieError:
            cookies = SimpleCookie()
        session = cookies.get(SESSION_COOKIE)
        if session is not None and session.value:
            return "session:" + hashlib.sha256(session.value.encode()).hexdigest()
    client = scope.get("client")
    peer = client[0] if client else None
    forwarded_for = forwarded_for_value(headers.getlist(FORWARDED_FOR))
    return "address:" + (client_address(peer, forwarded_for, trusted=trusted_proxies) or "unknown")


def _rule_for(method: str, path: str) -> _Rule | None:
    for rule in RULES:
        if method in rule.methods and rule.path.fullmatch(path):
            return rule
    return None


_SEARCHABLE = re.compile(r"/api/tickets(?:/stats)?/?")
_SEARCH_PARAMETERS = ("search", "q")


def is_search(scope: Scope) -> bool:
    """Whether a request is a ticket list or stats read with a non-blank search term."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    if not _SEARCHABLE.fullmatch(scope["path"]):
        return False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return any(value.strip() for name in _SEARCH_PARAMETERS for value in query.get(name, ()))


class SearchGate:
    """At most `concurrency` searches run at once in this process; the others wait their turn.

    A search scans (1-2 character terms cannot use the trigram index) or counts many matches;
    dozens at once took every worker thread and pooled connection, so creates queued behind
    them for seconds. Waiting here costs no thread and no connection, so writes and plain
    reads go straight through while searches take turns. A search that waits longer than
    `wait_seconds` gets 503 with Retry-After (the JSON error body) instead of waiting forever.
    `concurrency` 0 turns the gate off.
    """

    def __init__(self, app: ASGIApp, *, concurrency: int, wait_seconds: float) -> None:
        self.app = app
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds
        self._turns: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run a search when its turn comes (or refuse it); pass anything else on at once."""
        if not self.concurrency or not is_search(scope):
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
    """Answer 429 (JSON error body, `Retry-After` in seconds) once a client exceeds a bucket.

    Also puts searches through a SearchGate (`search_concurrency`, `search_queue_seconds`),
    so that the API's cost bounds are wired in one place. `settings` defaults to the process
    settings; they are read once, when the app is built. Everything outside the rules in RULES
    passes untouched.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        self.app = SearchGate(
            app,
            concurrency=settings.search_concurrency,
            wait_seconds=settings.search_queue_seconds,
        )
        self.limits = bucket_limits(settings)
        self.trusted_proxies = settings.trusted_proxies
        url = settings.rate_limit_storage_url
        # The asyncio flavour of the storage, so a networked one does not block the event loop;
        # Redis through redis-py, which Reflex already installs (limits defaults to coredis).
        options = {"implementation": "redispy"} if "redis" in url.split("://")[0] else {}
        self.limiter = strategies.MovingWindowRateLimiter(
            storage_from_string(url if url.startswith("async+") else f"async+{url}", **options)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count a limited request; pass it on, or answer 429 if its bucket is full."""
        if scope["type"] == "http":
            rule = _rule_for(scope["method"], scope["path"])
            items = self.limits[rule.bucket] if rule is not None else ()
            if rule is not None and items:
                retry_after = await self._count(
                    rule.bucket, client_key(scope, self.trusted_proxies), items
                )
                if retry_after is not None:
                    await self._refuse(send, rule, items, retry_after)
                    return
        await self.app(scope, receive, send)

    async def _count(self, bucket: str, key: str, items: tuple[RateLimitItem, ...]) -> int | None:
        """Record one request; None if allowed, else the seconds until the bucket has room."""
        try:
            for item in items:
                if not await self.limiter.test(item, _NAMESPACE, bucket, key):
                    stats = await self.limiter.get_window_stats(item, _NAMESPACE, bucket, key)
                    return max(1, math.ceil(stats.reset_time - time.time()))
            for item in items:
                await self.limiter.hit(item, _NAMESPACE, bucket, key)
        except Exception:  # the limiter's storage is down: let the request through
            logger.exception("rate limit storage failed; request allowed")
        return None

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
