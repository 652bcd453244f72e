"""Statement timeout: a query that runs too long is stopped and answered as 503, on both dialects.

PostgreSQL gets `statement_timeout` per connection; SQLite a progress handler (see
`services.database`). The slow queries are real: a `pg_sleep` or a lock held by someone else on
PostgreSQL, a slow SQL function on SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from ticket_app.models import Ticket
from ticket_app.services import database
from ticket_app.services.database import QueryTimeoutError, service_session, use_database
from ticket_app.settings import get_settings

TIMEOUT_MS = 300


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def short_timeout(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The process on the test database with STATEMENT_TIMEOUT_MS=300; yields the engine."""
    monkeypatch.setenv("STATEMENT_TIMEOUT_MS", str(TIMEOUT_MS))
    get_settings.cache_clear()
    try:
        yield use_database(url_of(db))
    finally:
        monkeypatch.delenv("STATEMENT_TIMEOUT_MS")
        get_settings.cache_clear()
        use_database(url_of(db))


def slow_statement(engine: Engine) -> str:
    if engine.dialect.name == "postgresql":
        return "SELECT pg_sleep(3)"
    return (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000000) "
        "SELECT count(*) FROM n"
    )


def test_the_default_is_a_few_seconds(db: Engine) -> None:
    assert get_settings().statement_timeout_ms == 5000
    if db.dialect.name == "postgresql":
        with db.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "5s"


def test_a_long_statement_is_stopped_and_the_connection_stays_usable(
    short_timeout: Engine,
) -> None:
    started = time.monotonic()
    stopped = pytest.raises(QueryTimeoutError, match=f"longer than {TIMEOUT_MS} ms")
    with stopped, service_session() as session:
        session.exec(sa.text(slow_statement(short_timeout)))
    assert time.monotonic() - started < 2
    with service_session() as session:
        assert session.exec(sa.text("SELECT 1")).scalar() == 1


def test_a_timeout_of_zero_means_none(db: Engine) -> None:
    engine = database.create_db_engine(url_of(db), statement_timeout_ms=0)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
            statement = slow_statement(engine).replace("1000000000", "300000")
            statement = statement.replace("pg_sleep(3)", "pg_sleep(0.4)")
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def seed(engine: Engine, count: int) -> None:
    now = datetime.now(UTC)
    row = {"description": "Printer on fire.", "category": "general", "priority": "low"}
    rows = [
        {**row, "title": f"Ticket {n}", "status": "open", "created_at": now, "updated_at": now}
        for n in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(Ticket.__table__), rows)


def test_the_api_answers_a_stopped_query_with_503_and_retry_after(
    client: TestClient, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db, 500)
    if db.dialect.name == "sqlite":
        # SQLite's substring search calls casefold() on every row; a slow one makes a slow search
        # (2 s unchecked). The handler is consulted every few rows here instead of every 10,000
        # instructions, because 500 rows are few instructions.
        def slow_casefold(value: str | None) -> str | None:
            time.sleep(0.002)
            return value.casefold() if value is not None else None

        monkeypatch.setattr(database, "_casefold", slow_casefold)
        monkeypatch.setattr(database, "_SQLITE_PROGRESS_STEPS", 100)
    monkeypatch.setenv("STATEMENT_TIMEOUT_MS", str(TIMEOUT_MS))
    get_settings.cache_clear()
    engine = use_database(url_of(db))
    blocker = None
    try:
        if db.dialect.name == "postgresql":
            # Someone else (a migration, say) holds the table: the search waits, then stops.
            blocker = sa.create_engine(db.url).connect()
            blocker.exec_driver_sql("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        # Part of a word: the full-text index finds nothing, so every row's text is compared.
        response = client.get("/api/tickets/", params={"search": "icke"})
        elapsed = time.monotonic() - started
    finally:
        if blocker is not None:
            blocker.rollback()
            blocker.close()
        monkeypatch.delenv("STATEMENT_TIMEOUT_MS")
        get_settings.cache_clear()
        engine.dispose()
        use_database(url_of(db))
    assert response.status_code == 503, response.text[:200]
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert f"took longer than {TIMEOUT_MS} ms" in body["detail"]
    assert body["errors"][0]["message"] == body["detail"]
    assert elapsed < 1.5


def test_postgres_connections_start_without_jit_unless_the_url_asks(db: Engine) -> None:
    """JIT off on every connection (its compilation cost the dashboard's aggregates more than
    it saved); `options` in the URL still apply, after ours, beside the statement timeout."""
    if db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    with db.connect() as connection:
        assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "5s"
    url = db.url.update_query_dict({"options": "-c jit=on -c application_name=ops"})
    engine = database.create_db_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW jit").scalar() == "on"
            assert connection.exec_driver_sql("SHOW application_name").scalar() == "ops"
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "5s"
    finally:
        engine.dispose()
