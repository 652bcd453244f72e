"""A real app server (reflex run --env prod) on a fresh SQLite database, and headless Chromium.

The shared server starts with an admin (and an admin API token for seeding through the REST
API); `page` is a tab signed in as that admin. `fresh_server` starts another server on an empty
database, for the first-run setup.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port, reflex_env, running_server
from ticket_app.models import ActorKind
from ticket_app.services.access import Actor
from ticket_app.services.database import use_database
from ticket_app.services.identity import sessions, tokens, users
from ticket_app.services.migrations import upgrade_database

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 180
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


ADMIN_EMAIL = "e2e-admin@example.com"
PASSWORD = "e2e password for tests"
SETUP_TOKEN = "e2e-setup-token-0123456789"
SYSTEM = Actor.process(ActorKind.SYSTEM, "e2e")


@dataclass(frozen=True)
class AppServer:
    """Where the running app listens, which SQLite file it uses, and an admin API token."""

    base_url: str
    db_path: Path
    token: str = ""

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL of the app's database."""
        return f"sqlite:///{self.db_path}"


@contextmanager
def serve(work: Path, *, public_url: bool = False) -> Iterator[AppServer]:
    """Migrate `work`/tickets.db, serve the app on a free port until the block ends.

    With `public_url`, the server's own address is its PUBLIC_BASE_URL (absolute links, as
    e-mailed ones must be).
    """
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    db_path = work / "tickets.db"
    database_url = f"sqlite:///{db_path}"
    upgrade_database(database_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    reflex = Path(sys.executable).parent / "reflex"
    command = [
        str(reflex),
        "run",
        "--env",
        "prod",
        "--frontend-port",
        str(port),
        "--backend-port",
        str(port),
        "--backend-host",
        "127.0.0.1",
    ]
    env = reflex_env(
        DATABASE_URL=database_url, REFLEX_WEB_WORKDIR=str(work / "web"), SETUP_TOKEN=SETUP_TOKEN
    )
    if public_url:
        env["PUBLIC_BASE_URL"] = base_url
    with running_server(
        command,
        ready_url=f"{base_url}/ping",
        timeout=STARTUP_TIMEOUT_SECONDS,
        log=work / "reflex.log",
        env=env,
        stop_timeout=20,
    ):
        yield AppServer(base_url=base_url, db_path=db_path)


def add_user(app: AppServer, email: str, role: str) -> None:
    """Create a staff user with PASSWORD in the app's database (as an operator's CLI would)."""
    use_database(app.database_url)
    users.create_user(email, role, PASSWORD, actor=SYSTEM)


@pytest.fixture(scope="package")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The console and REST API on a free loopback port, with an admin and an admin token.

    Package-scoped, like `browser`: under xdist the worker that ran the browser tests stops
    both before it goes on to other tests.
    """
    with serve(tmp_path_factory.mktemp("e2e")) as server:
        add_user(server, ADMIN_EMAIL, "admin")
        token, _ = tokens.create_token(ADMIN_EMAIL, "e2e seeding", actor=SYSTEM)
        yield AppServer(base_url=server.base_url, db_path=server.db_path, token=token)


@pytest.fixture
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Another server on an empty database: no admin yet, so the console offers setup."""
    with serve(tmp_path_factory.mktemp("e2e-fresh")) as server:
        yield server


def session_cookie(app: AppServer, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign in through the API and return the session cookie for a browser context."""
    request = urllib.request.Request(
        f"{app.base_url}/api/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        header = response.headers["Set-Cookie"]
    value = header.split(";", 1)[0].split("=", 1)[1]
    return {"name": sessions.SESSION_COOKIE, "value": value, "url": app.base_url}


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def anonymous_page(browser) -> Iterator[object]:
    """A fresh browser tab at 1280x800 with no session."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def page(anonymous_page, app_server: AppServer) -> object:
    """A fresh browser tab signed in as the shared server's admin."""
    anonymous_page.context.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])
    return anonymous_page


@contextmanager
def tickets_table_offline(db_path: Path) -> Iterator[None]:
    """Make every query on `tickets` fail (as with a lost database) until the block ends."""
    with sqlite3.connect(db_path, timeout=30) as connection:
        connection.execute("ALTER TABLE tickets RENAME TO tickets_offline")
    try:
        yield
    finally:
        with sqlite3.connect(db_path, timeout=30) as connection:
            connection.execute("ALTER TABLE tickets_offline RENAME TO tickets")
