"""A full connection pool is the documented 503 (JSON, Retry-After, security headers), not a 500.

The pool is shrunk through the settings to one connection and the test holds it, so the next
request waits `DATABASE_POOL_TIMEOUT_SECONDS` for a connection and gets none.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from ticket_app.api.app import create_api
from ticket_app.api.security import SECURITY_HEADERS
from ticket_app.services.database import use_database
from ticket_app.settings import get_settings

POOL = {
    "DATABASE_POOL_SIZE": "1",
    "DATABASE_MAX_OVERFLOW": "0",
    "DATABASE_POOL_TIMEOUT_SECONDS": "0.3",
}


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def one_connection(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The process on the test database with a pool of one connection; yields the engine."""
    for name, value in POOL.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield use_database(url_of(db))
    finally:
        for name in POOL:
            monkeypatch.delenv(name)
        get_settings.cache_clear()
        use_database(url_of(db))


def test_the_pool_follows_the_settings(one_connection: Engine) -> None:
    assert one_connection.pool.size() == 1
    assert one_connection.pool.timeout() == 0.3


@pytest.mark.parametrize("path", ["/api/tickets/", "/api/tickets/stats/", "/api/me/"])
def test_an_exhausted_pool_is_a_503_with_json_retry_after_and_security_headers(
    admin_token: str, one_connection: Engine, path: str
) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with TestClient(create_api(), headers=headers) as client:
        assert client.get(path).status_code == 200
        with one_connection.connect():  # the only connection, held as a stalled request would
            response = client.get(path)
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json"
        assert response.headers["Retry-After"] == "5"
        body = response.json()
        assert "connection" in body["detail"]
        assert body["errors"][0]["type"] == "database_unavailable"
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert client.get(path).status_code == 200  # released: served again
