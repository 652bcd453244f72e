"""Per-user rate limits and turns for expensive reads, shared by the API and the console.

One person has one allowance, however they ask: every API token they hold, every browser they
are signed in with and every console event count in the same buckets, keyed `user:<id>`. A
credential that belongs to nobody (unknown, revoked, expired) is counted under its own SHA-256
(`token:<hex>`, `session:<hex>`), so it cannot spend anyone's allowance; a request without a
credential under its client address (`address:<ip>`).

Buckets (rates from the settings, `limits` notation; empty: unlimited):

| Bucket | Setting | Default |
| --- | --- | --- |
| writes | `RATE_LIMIT_WRITES` | 600/minute |
| classify | `RATE_LIMIT_CLASSIFY` | 120/minute |
| exports | `RATE_LIMIT_EXPORTS` | 30/minute |
| reads | `RATE_LIMIT_READS` | 3000/minute |
| searches | `RATE_LIMIT_SEARCHES` | 300/minute |
| similar | `RATE_LIMIT_SIMILAR` | 300/minute |

Counters live in `RATE_LIMIT_STORAGE_URL` (in this process by default): `shared_limiter()` is
the one instance the API middleware and the console both count in, so a console write and an
API write fill the same bucket. Expensive reads (searches, statistics, similar tickets,
unindexed lists) are also admitted per user: at most `EXPENSIVE_READS_PER_USER` at once in this
process, so one person cannot take every turn of the search gate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import sqlalchemy as sa
from limits import RateLimitItem, parse_many, strategies
from limits.storage import storage_from_string
from sqlmodel import select

from ticket_app.models import ApiToken, StaffSession, StaffUser, utc_now
from ticket_app.services.database import service_session
from ticket_app.services.errors import ServiceError
from ticket_app.services.identity.credentials import token_digest
from ticket_app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

WRITES = "writes"
CLASSIFY = "classify"
EXPORTS = "exports"
READS = "reads"
SEARCHES = "searches"
SIMILAR = "similar"

BUCKET_SETTINGS: dict[str, str] = {
    WRITES: "rate_limit_writes",
    CLASSIFY: "rate_limit_classify",
    EXPORTS: "rate_limit_exports",
    READS: "rate_limit_reads",
    SEARCHES: "rate_limit_searches",
    SIMILAR: "rate_limit_similar",
}
"""Bucket -> the Settings field holding its rate."""

TOKEN = "token"
SESSION = "session"
_NAMESPACE = "api"  # the counters' namespace predates the console's use of them

# Who owns a credential, remembered this long (seconds): a burst of requests costs one lookup.
# A revoked token may keep counting against its owner for this long; it is refused anyway.
OWNER_CACHE_SECONDS = 60.0
OWNER_CACHE_SIZE = 10_000


def bucket_limits(settings: Settings) -> dict[str, tuple[RateLimitItem, ...]]:
    """Bucket name -> its parsed rates (empty tuple: unlimited)."""
    limits: dict[str, tuple[RateLimitItem, ...]] = {}
    for bucket, field in BUCKET_SETTINGS.items():
        rate = getattr(settings, field)
        limits[bucket] = tuple(parse_many(rate)) if rate else ()
    return limits


def user_key(user_id: int) -> str:
    """The counter key of a staff user: `user:<id>`."""
    return f"user:{user_id}"


class Limiter:
    """Rate-limit counters for every bucket, and the per-user turns for expensive reads.

    Built from `settings`: the rates, `RATE_LIMIT_STORAGE_URL` and `EXPENSIVE_READS_PER_USER`.
    The counters are `limits`' thread-safe storage, not its asyncio one: the console's events
    and the API may run on different event loops (tests run one per client), and asyncio locks
    shared between loops deadlock. In memory a count takes microseconds and runs inline; a
    networked storage (Redis, through redis-py, which Reflex installs) is called from a worker
    thread so the event loop never waits on the network.
    """

    def __init__(self, settings: Settings) -> None:
        self.limits = bucket_limits(settings)
        url = settings.rate_limit_storage_url
        self._inline = url.split("://")[0] == "memory"
        self._strategy = strategies.MovingWindowRateLimiter(storage_from_string(url))
        self.expensive_per_user = settings.expensive_reads_per_user
        self._expensive: Counter[str] = Counter()
        self._expensive_lock = threading.Lock()

    def _hit(self, items: tuple[RateLimitItem, ...], bucket: str, key: str) -> int | None:
        for item in items:
            # `hit` tests and counts in one step: parallel requests cannot all slip past.
            if not self._strategy.hit(item, _NAMESPACE, bucket, key):
                stats = self._strategy.get_window_stats(item, _NAMESPACE, bucket, key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None

    async def hit(self, bucket: str, key: str) -> int | None:
        """Count one request of `key` in `bucket`: None if allowed, else seconds to wait (>= 1).

        A refused request is not counted. If the counter storage fails the request is allowed
        and the failure logged: a limit is a safeguard, not a reason to refuse service.
        """
        items = self.limits.get(bucket, ())
        if not items:
            return None
        try:
            if self._inline:
                return self._hit(items, bucket, key)
            return await asyncio.to_thread(self._hit, items, bucket, key)
        except Exception:
            logger.exception("rate limit storage failed; request allowed")
        return None

    def enter_expensive(self, key: str) -> bool:
        """Take one of `key`'s turns for an expensive read; False when all of them are taken.

        Every True must be matched by one `leave_expensive(key)`.
        """
        if not self.expensive_per_user:
            return True
        with self._expensive_lock:
            if self._expensive[key] >= self.expensive_per_user:
                return False
            self._expensive[key] += 1
            return True

    def leave_expensive(self, key: str) -> None:
        """Give back a turn taken by `enter_expensive(key)`."""
        if not self.expensive_per_user:
            return
        with self._expensive_lock:
            self._expensive[key] -= 1
            if self._expensive[key] <= 0:
                del self._expensive[key]


_shared: tuple[Settings, Limiter] | None = None


def shared_limiter() -> Limiter:
    """The process's Limiter, built from the current settings (rebuilt when they are reloaded)."""
    global _shared
    settings = get_settings()
    if _shared is None or _shared[0] is not settings:
        _shared = (settings, Limiter(settings))
    return _shared[1]


def reset_rate_limits() -> None:
    """Forget every counter and remembered credential owner (tests start afresh with this)."""
    global _shared
    _shared = None
    _owners.clear()


# Who owns a credential ------------------------------------------------------------------------

_owners: dict[str, tuple[int | None, float]] = {}
_pending: dict[str, asyncio.Future[int | None]] = {}


def credential_owner(kind: str, digest: str) -> int | None:
    """The user id behind a usable credential, by its SHA-256 hex `digest`; None if unusable.

    `kind` is TOKEN (an API token: not revoked, not expired) or SESSION (a console session: not
    revoked, not expired, not idle); its user must be active. Reads only. Raises
    DatabaseUnavailableError when the database cannot answer.
    """
    now = utc_now()
    if kind == TOKEN:
        query = (
            select(ApiToken.user_id)
            .join(StaffUser, StaffUser.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == digest,
                ApiToken.revoked_at.is_(None),
                sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
                StaffUser.is_active.is_(True),
            )
        )
    else:
        idle = timedelta(minutes=get_settings().session_idle_minutes)
        query = (
            select(StaffSession.user_id)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(
                StaffSession.token_hash == digest,
                StaffSession.revoked_at.is_(None),
                StaffSession.expires_at > now,
                StaffSession.last_seen_at > now - idle,
                StaffUser.is_active.is_(True),
            )
        )
    with service_session() as session:
        return session.exec(query).first()


def _remember(key: str, owner: int | None) -> None:
    if len(_owners) >= OWNER_CACHE_SIZE:
        now = time.monotonic()
        for stale in [k for k, (_, until) in _owners.items() if until <= now]:
            del _owners[stale]
        if len(_owners) >= OWNER_CACHE_SIZE:  # a flood of made-up credentials: start over
            _owners.clear()
    _owners[key] = (owner, time.monotonic() + OWNER_CACHE_SECONDS)


async def owner_of(kind: str, secret: str) -> int | None:
    """The user id behind credential `secret` of `kind` (TOKEN or SESSION), or None.

    Remembered for OWNER_CACHE_SECONDS, unusable credentials too; concurrent requests with the
    same new credential share one database lookup (in a worker thread). None, and nothing
    remembered, when the database cannot answer.
    """
    digest = token_digest(secret)
    key = f"{kind}:{digest}"
    known = _owners.get(key)
    if known is not None and known[1] > time.monotonic():
        return known[0]
    pending = _pending.get(key)
    # A lookup started on another event loop (another test client) cannot be awaited here.
    if pending is None or pending.done() or pending.get_loop() is not asyncio.get_running_loop():
        pending = asyncio.ensure_future(asyncio.to_thread(credential_owner, kind, digest))
        _pending[key] = pending
        pending.add_done_callback(lambda done: _forget_pending(key, done))
    try:
        owner = await asyncio.shield(pending)
    except ServiceError as exc:
        logger.warning("rate limits count by credential; its owner is unknown: %s", exc)
        return None
    _remember(key, owner)
    return owner


def _forget_pending(key: str, done: asyncio.Future[int | None]) -> None:
    if _pending.get(key) is done:
        del _pending[key]


async def subject_key(kind: str, secret: str) -> str:
    """The counter key of a request made with credential `secret` of `kind`.

    `user:<id>` for a usable credential, else `<kind>:<sha256 of secret>` (no secret in it).
    """
    owner = await owner_of(kind, secret)
    return user_key(owner) if owner is not None else f"{kind}:{token_digest(secret)}"


class ExpensiveReadsBusyError(ServiceError):
    """All of a user's expensive-read turns stayed taken for the whole wait."""

    def __init__(self, waited_seconds: float) -> None:
        super().__init__(
            f"Too many searches and reports at once from this account; none finished within "
            f"{waited_seconds:g} seconds. Try again in a moment."
        )


_TURN_POLL_SECONDS = 0.05


@contextlib.asynccontextmanager
async def expensive_turn(
    user_id: int | None, wait_seconds: float | None = None
) -> AsyncIterator[None]:
    """Hold one of the user's `EXPENSIVE_READS_PER_USER` turns while the block runs.

    The console's list, search, stats and similar-ticket reads take their turns here, as the
    API's expensive reads do at the door (both count in the shared limiter), so many tabs of one
    person cannot run more table scans at once than one API client may. Unlike the API (an
    immediate 429), the console waits for a turn, up to `wait_seconds` (default
    `SEARCH_QUEUE_SECONDS`), polling every 50 ms: a person's own tabs queue behind each other.
    Raises ExpensiveReadsBusyError when none came.
    """
    if wait_seconds is None:
        wait_seconds = get_settings().search_queue_seconds
    limiter = shared_limiter()
    key = user_key(user_id) if user_id is not None else "console:anonymous"
    deadline = time.monotonic() + wait_seconds
    while not limiter.enter_expensive(key):
        if time.monotonic() >= deadline:
            raise ExpensiveReadsBusyError(wait_seconds)
        await asyncio.sleep(_TURN_POLL_SECONDS)
    try:
        yield
    finally:
        limiter.leave_expensive(key)
