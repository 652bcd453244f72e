"""The container's start command, run outside Docker against a fresh PostgreSQL database.

It must migrate the empty database, then serve the UI and the REST API on one port; the image's
HEALTHCHECK command must pass against it. The API refuses anonymous calls (401); the first admin
is created through the setup endpoint with the configured SETUP_TOKEN, and that session reads.
Reflex builds into a temporary web directory (other work in this repository may be building the
app at the same time) on a port in 3400-3499.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from tests.deploy.test_deploy_compose import dockerfile_instruction
from tests.support.database import scratch_postgres_database
from tests.support.server import JS_BIN, free_port, reflex_env, start_server
from ticket_app.services.migrations import alembic_config
from ticket_app.settings import PROJECT_ROOT

pytestmark = pytest.mark.deploy

SETUP_TOKEN = "deploy-test-setup-token"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database (dropped afterwards)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set; the start command is tested on PostgreSQL")
    with scratch_postgres_database(base, prefix="triage_serve") as url:
        yield url


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def call(
    opener: urllib.request.OpenerDirector, url: str, payload: dict | None = None
) -> tuple[int, Message, bytes]:
    """GET (or POST `payload` as JSON) through `opener`; any HTTP status is an answer."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.mark.timeout(300)
@pytest.mark.skipif(not (JS_BIN / "bun").exists(), reason=f"bun not installed in {JS_BIN}")
def test_start_command_migrates_then_serves(fresh_postgres: str, tmp_path: Path) -> None:
    port = free_port(range(3400, 3500))
    command = dockerfile_instruction("CMD")
    assert command[0] == "python"
    env = reflex_env(
        DATABASE_URL=fresh_postgres,
        PORT=str(port),
        HOST="127.0.0.1",
        GEMINI_API_KEY="",
        REFLEX_REDIS_URL="",
        REFLEX_WEB_WORKDIR=str(tmp_path / "web"),
        REFLEX_STATES_WORKDIR=str(tmp_path / "states"),
        SETUP_TOKEN=SETUP_TOKEN,
    )
    server = start_server(
        [sys.executable, *command[1:]],
        cwd=PROJECT_ROOT,  # the image's WORKDIR holds the project, as here
        env=env,
        log=tmp_path / "serve.log",
    )
    base = f"http://127.0.0.1:{port}"
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    try:
        server.wait_until_up(f"{base}/api/tickets/stats/", timeout=240)
        anonymous = call(browser, f"{base}/api/tickets/stats/")
        status, headers, _ = anonymous
        assert status == 401
        assert headers.get("WWW-Authenticate") == "Bearer"

        wrong = {"setup_token": "not-it", "email": "first@example.com", "password": PASSWORD}
        assert call(browser, f"{base}/api/auth/setup", wrong)[0] == 403
        setup = {**wrong, "setup_token": SETUP_TOKEN}
        status, _, body = call(browser, f"{base}/api/auth/setup", setup)
        assert status == 201, body
        assert json.loads(body)["role"] == "admin"
        status, _, body = call(browser, f"{base}/api/tickets/stats/")
        assert status == 200, body
        assert json.loads(body)["total_tickets"] == 0
        assert call(browser, f"{base}/api/auth/setup", setup)[0] == 403  # an admin exists now

        engine = sa.create_engine(fresh_postgres)
        with engine.connect() as connection:
            version = connection.execute(
                sa.text("SELECT version_num FROM alembic_version")
            ).scalar()
            columns = {c["name"] for c in sa.inspect(connection).get_columns("tickets")}
        engine.dispose()
        assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert "external_id" in columns

        status, page = get(f"{base}/")
        assert status == 200
        assert b"<html" in page.lower()
        healthcheck = dockerfile_instruction("HEALTHCHECK")
        assert healthcheck[0] == "python"
        probe = subprocess.run([sys.executable, *healthcheck[1:]], env=env, timeout=30, check=False)
        assert probe.returncode == 0
    finally:
        server.stop()
