"""How passwords and tokens are kept: argon2id hashes and SHA-256 digests.

Passwords are hashed with argon2id through `pwdlib` (rehashed on sign-in when its parameters
change). Session and API tokens are 256-bit random strings from `secrets`; only their SHA-256
is stored, so a database leak does not hand out sign-ins.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache

from pwdlib import PasswordHash

# Writing last-seen/last-used on every request would turn reads into writes; once a minute is
# precise enough for idle timeouts of minutes and for "last used" in the token list.
TOUCH_INTERVAL = timedelta(seconds=60)


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so both paths take the same time."""
    return _hasher().hash(secrets.token_urlsafe(16))


def token_digest(raw: str) -> str:
    """Hex SHA-256 of a session or API token: the only form in which tokens are stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    """The argon2id hash of `password`; slow by design, so no database session should be open."""
    return _hasher().hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """Whether `password` matches `stored_hash`, and its new hash if the parameters changed.

    Without a stored hash (an unknown account) the password is checked against a dummy hash,
    so both answers take as long; it never matches then.
    """
    return _hasher().verify_and_update(password, stored_hash or _dummy_hash())
