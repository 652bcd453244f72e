"""Fixtures for the identity tests (helpers are in `tests.support.auth`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.auth import Clients
from ticket_app.api.app import create_api
from ticket_app.services.login_limits import reset_login_limits
from ticket_app.settings import get_settings


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
