"""The sign-in failure limit, per account and per client address, kept by this process.

`login_max_failures` failures are allowed in a moving window of `login_window_seconds`. An
attempt takes its place before its password is checked, so parallel guesses cannot all pass the
check while none of them has failed yet: under one lock, an attempt is admitted only if the
failures already counted plus the attempts still being checked leave room on every key, and it
then holds a place on each of them. When the check ends the place is given back; a failed
attempt is counted as a failure in the window (the `limits` library, moving window). A
successful sign-in costs nothing, so staff behind one office address are not locked out by
their colleagues signing in.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItemPerSecond, storage, strategies

from ticket_app.services.errors import InvalidCredentialsError, TooManyAttemptsError
from ticket_app.settings import get_settings

_NAMESPACE = "login"
Key = tuple[str, str]


class LoginLimiter:
    """Failures counted per key, with the attempts in progress reserved against them.

    A key is `("account", email)` or `("client", address)`.
    """

    def __init__(self, max_failures: int, window_seconds: int) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._item = RateLimitItemPerSecond(max_failures, window_seconds)
        self._failures = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._lock = threading.Lock()
        self._in_flight: Counter[Key] = Counter()

    def _wait(self, key: Key) -> int | None:
        """Seconds until `key` has room for one more attempt; None if it has room now."""
        stats = self._failures.get_window_stats(self._item, _NAMESPACE, *key)
        if stats.remaining - self._in_flight[key] > 0:
            return None
        if stats.remaining > 0:
            # Only attempts still being checked fill the allowance: they end within about a
            # second, and a failed one then waits out its window like the others.
            return 1
        return max(1, math.ceil(stats.reset_time - time.time()))

    def reserve(self, keys: list[Key]) -> None:
        """Take a place for one attempt on every key.

        Raises TooManyAttemptsError, with the longest wait (seconds) among the keys that have
        no room, and takes nothing, if any key is full.
        """
        with self._lock:
            waits = [wait for key in keys if (wait := self._wait(key)) is not None]
            if waits:
                raise TooManyAttemptsError(max(waits))
            self._in_flight.update(keys)

    def finish(self, keys: list[Key], *, failed: bool) -> None:
        """Give back the places `reserve` took; a failed attempt is counted on every key."""
        with self._lock:
            for key in keys:
                if failed:
                    self._failures.hit(self._item, _NAMESPACE, *key)
                self._in_flight[key] -= 1
                if self._in_flight[key] <= 0:
                    del self._in_flight[key]


_limiter: LoginLimiter | None = None
_limiter_lock = threading.Lock()


def login_limiter() -> LoginLimiter:
    """The process's limiter, built from the settings on first use."""
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            settings = get_settings()
            _limiter = LoginLimiter(settings.login_max_failures, settings.login_window_seconds)
        return _limiter


def reset_login_limits() -> None:
    """Forget every counted failure (settings changed, or a test starts afresh)."""
    global _limiter
    with _limiter_lock:
        _limiter = None


def login_keys(email: str, client: str | None) -> list[Key]:
    """The keys an attempt counts on: the account (trimmed, lower-cased) and the address."""
    keys: list[Key] = [("account", (email or "").strip().lower())]
    if client:
        keys.append(("client", client))
    return keys


@contextmanager
def login_attempt(email: str, client: str | None) -> Iterator[None]:
    """Hold a place for one sign-in attempt while the body checks the password.

    Raises TooManyAttemptsError (before the body runs) when the account or the address has no
    room. The body raising InvalidCredentialsError counts a failure; anything else (success,
    an unavailable database) only gives the place back.
    """
    limiter = login_limiter()
    keys = login_keys(email, client)
    limiter.reserve(keys)
    failed = False
    try:
        yield
    except InvalidCredentialsError:
        failed = True
        raise
    finally:
        limiter.finish(keys, failed=failed)
