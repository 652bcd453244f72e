"""Fixtures for the API contract tests: argon2id at its lowest cost, as in tests/auth.

Every test here signs an admin token in through the shared `client` fixture; the product's hash
parameters (about 120 ms a hash) would make the user creation cost more than the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from ticket_app.services.identity import credentials


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The product's hashing code path with the cheapest argon2id parameters."""
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(credentials, "_hasher", lambda: cheap)
    credentials._dummy_hash.cache_clear()
    yield
    credentials._dummy_hash.cache_clear()
