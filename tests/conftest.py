"""Shared fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL, each against a freshly migrated database of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.engine import Engine

from tests.support.database import scratch_postgres_database
from tests.support.sla import reset_service_levels
from ticket_app.api.app import create_api
from ticket_app.models import ActorKind
from ticket_app.services.access import Actor
from ticket_app.services.database import use_database
from ticket_app.services.identity import credentials, tokens, users
from ticket_app.services.login_limits import reset_login_limits
from ticket_app.services.migrations import upgrade_database
from ticket_app.services.rate_limits import reset_rate_limits

SYSTEM = Actor.process(ActorKind.SYSTEM, "tests")
ADMIN_EMAIL = "admin@example.com"
TEST_PASSWORD = "correct horse battery staple"
TABLES = (
    "sla_rechecks",
    "canned_responses",
    "ticket_followers",
    "ticket_tags",
    "notifications",
    "notification_preferences",
    "attachments",
    "mail_quarantine",
    "mail_messages",
    "idempotency_keys",
    "import_runs",
    "ticket_comments",
    "saved_views",
    "ticket_events",
    "tickets",
    "ticket_count_deltas",
    "ticket_tag_counts",
    "ticket_tag_count_deltas",
    "requesters",
    "mailboxes",
    "password_links",
    "api_tokens",
    "staff_sessions",
    "staff_users",
)

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


COUNTED_TABLES = ("ticket_counts", "ticket_count_totals")
"""Emptied by the count triggers when `tickets` is truncated, so emptied with it."""
_OWNED_SEQUENCES = sa.text(
    "SELECT s.oid::regclass::text FROM pg_class s "
    "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
    "JOIN pg_class t ON t.oid = d.refobjid "
    "WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"
)
_sequences: dict[str, list[str]] = {}


def _empty_postgres(connection: sa.Connection, url: str) -> None:
    """Empty TABLES as `TRUNCATE ... RESTART IDENTITY CASCADE` would, but by DELETE.

    TRUNCATE gives each table and index new files, synced at commit: 50 to 120 ms, and 10 to
    35 ms for the commit, against about 5 ms and under 1 ms for deleting a test's few rows (a
    test that only takes `db` went from about 0.45 to 0.1 s beside a parallel run). Triggers
    (the counts) and foreign keys are off for this transaction (`session_replication_role`, a
    superuser's setting); no other table refers to these. Without superuser rights, TRUNCATE
    as before.
    """
    tables = (*TABLES, *COUNTED_TABLES)
    if connection.execute(sa.text("SELECT current_setting('is_superuser')")).scalar_one() != "on":
        connection.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        return
    if url not in _sequences:
        found = connection.execute(_OWNED_SEQUENCES, {"tables": list(tables)}).scalars()
        _sequences[url] = sorted(found)
    connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
    connection.execute(sa.text("; ".join(f"DELETE FROM {table}" for table in tables)))
    restarts = ", ".join(f"setval('{sequence}', 1, false)" for sequence in _sequences[url])
    connection.execute(sa.text(f"SELECT {restarts}"))


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """The process pointed at an empty, migrated database (no tickets, no staff; the seeded
    service levels); yields its engine. Sign-in failure counters and rate-limit counters start
    afresh too."""
    engine = use_database(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            _empty_postgres(connection, database_url)
        else:
            for table in TABLES:
                connection.execute(sa.text(f"DELETE FROM {table}"))
        reset_service_levels(connection)
    reset_login_limits()
    reset_rate_limits()
    yield engine


@pytest.fixture
def real_password_hashing() -> None:
    """Ask for this to keep the product's argon2id cost parameters in a test."""


@pytest.fixture(autouse=True)
def fast_password_hashing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Argon2id at its lowest cost in every test (about 1 ms instead of 120 ms a hash).

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
def admin_token(db: Engine) -> str:
    """A read-write API token of an admin user (admin@example.com), created for this test."""
    users.create_user(ADMIN_EMAIL, "admin", TEST_PASSWORD, name="Test Admin", actor=SYSTEM)
    secret, _ = tokens.create_token(ADMIN_EMAIL, "tests", actor=SYSTEM)
    return secret


@pytest.fixture
def anonymous_client(db: Engine) -> Iterator[TestClient]:
    """An HTTP client for a fresh API app on the test database, with no credentials."""
    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def client(db: Engine, admin_token: str) -> Iterator[TestClient]:
    """An HTTP client for a fresh API app on the test database, acting as an admin's token."""
    with TestClient(
        create_api(), headers={"Authorization": f"Bearer {admin_token}"}
    ) as test_client:
        yield test_client


BROWSER_TESTS = "tests/e2e/"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: fast feedback first, and Playwright's event loop cannot leak
    into the asyncio-based tests that would otherwise follow them.

    In a pytest-xdist worker (`make test`) they come first instead: they are one work unit
    (`pytest_xdist_make_scheduler`), the longest by far, and the other workers share
    everything else meanwhile; the browser and its server are package-scoped, so they stop
    before that worker goes on to other tests. Load and scale tests measure time under a
    load they make themselves, so they are also `serial`: `make test` runs them alone.
    """
    in_worker = hasattr(config, "workerinput")
    items.sort(key=lambda item: (item.get_closest_marker("browser") is None) == in_worker)
    for item in items:
        if item.get_closest_marker("load") or item.get_closest_marker("scale"):
            item.add_marker(pytest.mark.serial)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's scheduling by module, with every browser test (tests/e2e) in one unit.

    So one worker starts one app server and one Chromium for all of them, and each other
    module's fixtures (a mail server, a cluster) start once. (xdist's own `xdist_group` mark
    does not group under pytest 9.2: it renames test ids through an attribute pytest no
    longer reads.) Units go out in the order the workers collected them
    (`--no-loadscope-reorder`), so the browser unit starts first.
    """
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(BROWSER_TESTS):
                return BROWSER_TESTS
            return super()._split_scope(nodeid)

    return BrowserTestsTogether(config, log)
