"""Shared fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL, each against a freshly migrated database of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.helpers import scratch_postgres_database
from ticket_app.api.app import create_api
from ticket_app.services.database import use_database
from ticket_app.services.migrations import upgrade_database

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=DIALECTS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a migrated database for the whole session, one per dialect."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tickets.db'}"
        upgrade_database(url)
        yield url
        return
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL tests skipped")
    with scratch_postgres_database(base_url) as url:
        try:
            upgrade_database(url)
            yield url
        finally:
            use_database("sqlite://")


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """The process pointed at an empty, migrated tickets table; yields its engine."""
    engine = use_database(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("TRUNCATE tickets RESTART IDENTITY"))
        else:
            connection.execute(sa.text("DELETE FROM tickets"))
    yield engine


@pytest.fixture
def client(db: Engine) -> Iterator[TestClient]:
    """An HTTP client for a fresh API app on the test database."""
    with TestClient(create_api()) as test_client:
        yield test_client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: fast feedback first, and Playwright's event loop cannot leak
    into the asyncio-based tests that would otherwise follow them."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
