"""Shared fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL, each against a freshly migrated database of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine, make_url

from ticket_app.api.app import create_api
from ticket_app.services.database import use_database
from ticket_app.services.migrations import upgrade_database

DIALECTS = ["sqlite", "postgresql"]


def _create_postgres_database(base_url: str) -> tuple[str, str]:
    """Create an empty database beside TEST_DATABASE_URL's; return (its URL, its name)."""
    url = make_url(base_url)
    name = f"triage_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(base_url: str, name: str) -> None:
    admin = sa.create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
    url, name = _create_postgres_database(base_url)
    try:
        upgrade_database(url)
        yield url
    finally:
        use_database("sqlite://")
        _drop_postgres_database(base_url, name)


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
