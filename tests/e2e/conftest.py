"""A real app server (reflex run --env prod) on a fresh SQLite database, and headless Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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


@dataclass(frozen=True)
class AppServer:
    """Where the running app listens and which SQLite file it uses."""

    base_url: str
    db_path: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database_url: str, web_dir: Path) -> dict[str, str]:
    bins = [REPO_ROOT / ".venv" / "js" / "node_modules" / ".bin", Path(sys.executable).parent]
    return {
        **os.environ,
        "PATH": os.pathsep.join([*map(str, bins), os.environ.get("PATH", "")]),
        "DATABASE_URL": database_url,
        "REFLEX_WEB_WORKDIR": str(web_dir),
        "REFLEX_USE_SYSTEM_BUN": "true",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "NPM_CONFIG_REGISTRY": "https://registry.npmjs.org/",
    }


def _wait_until_up(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"reflex exited early:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/ping", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(1)
    log_tail = log_path.read_text()[-4000:]
    raise RuntimeError(f"app not up after {STARTUP_TIMEOUT_SECONDS}s:\n{log_tail}")


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The console and REST API served on a free loopback port until the session ends."""
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    work = tmp_path_factory.mktemp("e2e")
    db_path = work / "tickets.db"
    database_url = f"sqlite:///{db_path}"
    upgrade_database(database_url)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = work / "reflex.log"
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
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=_server_env(database_url, work / "web"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(base_url, process, log_path)
        yield AppServer(base_url=base_url, db_path=db_path)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
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
def page(browser, app_server: AppServer) -> Iterator[object]:
    """A fresh browser tab (own session) at 1280x800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()
