"""Fixtures for the identity tests (helpers are in `tests.auth.support`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.engine import Engine

from tests.auth.support import Clients
from ticket_app.api.app import create_api
from ticket_app.services.identity import credentials
from ticket_app.services.login_limits import reset_login_limits
from ticket_app.settings import get_settings


@pytest.fixture
def real_password_hashing() -> None:
    """Ask for this to keep the product's argon2id cost parameters in a test."""


@pytest.fixture(autouse=True)
def fast_password_hashing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Argon2id at its lowest cost while these tests run (about 1 ms instead of 120 ms a hash).

    The code path is the product's (hash, verify, rehash, the dummy hash for unknown emails);
    only the cost parameters differ. Tests that ask for `real_password_hashing` keep them.
    """
    if "real_password_hashing" in request.fixturenames:
        yield
        return
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(credentials, "_hasher", lambda: cheap)
    credentials._dummy_hash.cache_clear()
    yield
    credentials._dummy_hash.cache_clear()


@pytest.fixture
def clients(db: Engine) -> Iterator[Clients]:
    """Makes HTTP clients (TestClient keyword arguments) for fresh API apps on the test
    database; each keeps its own cookies. All are closed at the end of the test."""
    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(TestClient(create_api(), **kwargs))


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Sets environment variables for the cached settings (`NAME=value` keywords); the
    settings are re-read at once and again after the variables are restored."""
    with monkeypatch.context() as patch:

        def apply(**values: str) -> None:
            for name, value in values.items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            reset_login_limits()

        yield apply
    get_settings.cache_clear()
    reset_login_limits()
