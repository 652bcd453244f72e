"""The container's start command, run outside Docker against a fresh PostgreSQL database.

It must migrate the empty database, then serve the UI and the REST API on one port; the image's
HEALTHCHECK command must pass against it. Reflex builds into a temporary web directory (other
work in this repository may be building the app at the same time) on a port in 3400-3499.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from tests.deploy.test_deploy_compose import dockerfile_instruction
from tests.helpers import scratch_postgres_database
from ticket_app.services.migrations import alembic_config
from ticket_app.settings import PROJECT_ROOT

JS_BIN = PROJECT_ROOT / ".venv" / "js" / "node_modules" / ".bin"


def free_port() -> int:
    for port in range(3400, 3500):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 3400-3499")


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


@pytest.mark.timeout(300)
@pytest.mark.skipif(not (JS_BIN / "bun").exists(), reason=f"bun not installed in {JS_BIN}")
def test_start_command_migrates_then_serves(fresh_postgres: str, tmp_path: Path) -> None:
    port = free_port()
    command = dockerfile_instruction("CMD")
    assert command[0] == "python"
    env = {
        **os.environ,
        "PATH": os.pathsep.join(
            [str(JS_BIN), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "DATABASE_URL": fresh_postgres,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "GEMINI_API_KEY": "",
        "REFLEX_REDIS_URL": "",
        "REFLEX_WEB_WORKDIR": str(tmp_path / "web"),
        "REFLEX_STATES_WORKDIR": str(tmp_path / "states"),
        "REFLEX_USE_SYSTEM_BUN": "true",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "NPM_CONFIG_REGISTRY": "https://registry.npmjs.org/",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, *command[1:]],
        cwd=PROJECT_ROOT,  # the image's WORKDIR holds the project, as here
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        stats = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = get(f"{base}/api/tickets/stats/")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
                continue
            if status == 200:
                stats = json.loads(body)
                break
        output = (tmp_path / "serve.log").read_text(errors="replace")
        assert stats is not None, f"server did not answer; exit {process.poll()}\n{output}"
        assert stats["total_tickets"] == 0

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
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
