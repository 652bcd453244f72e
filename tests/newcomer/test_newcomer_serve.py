"""`serve` from one checkout on two ports gives two independent servers (each its own Reflex
build folder), leaves requirements.txt alone and does not advise `uv`.

The execve-intercepting tests check the environment `serve` hands to Reflex; the real test
copies the project into a temporary checkout, starts `python -m ticket_app serve` there on one
port, then on a second one, and checks that the first still serves a frontend that talks to its
own backend (it used to be rebuilt by the second for the second's address).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from reflex.utils import frontend_skeleton
from typer.testing import CliRunner

from tests.newcomer.conftest import ExecCall
from ticket_app.cli import app
from ticket_app.cli import serve as cli_module
from ticket_app.settings import PROJECT_ROOT

runner = CliRunner()
JS_BIN = PROJECT_ROOT / ".venv" / "js" / "node_modules" / ".bin"
UV_ADVICE = re.compile(r"uv pip install|uv run reflex")


def run_serve(tmp_path: Path, port: int, **env: str) -> None:
    """`serve --port PORT` on a SQLite file in `tmp_path`, with `env` set (execve intercepted)."""
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        result = runner.invoke(app, ["serve", "--database-url", url, "--port", str(port)])
    assert result.exit_code == 0, result.output


def test_each_port_gets_its_own_build_folder(tmp_path: Path, exec_calls: list[ExecCall]) -> None:
    run_serve(tmp_path, 3000)
    run_serve(tmp_path, 3401)
    [(_, _, env_3000), (_, args_3401, env_3401)] = exec_calls
    # Port 3000 keeps Reflex's own folders, which the Dockerfile prebuilds.
    assert env_3000["REFLEX_WEB_WORKDIR"] == str(PROJECT_ROOT / ".web")
    assert env_3000["REFLEX_STATES_WORKDIR"] == str(PROJECT_ROOT / ".states")
    assert env_3401["REFLEX_WEB_WORKDIR"] == str(PROJECT_ROOT / ".web-3401")
    assert env_3401["REFLEX_STATES_WORKDIR"] == str(PROJECT_ROOT / ".states-3401")
    assert args_3401[1:3] == ["-c", cli_module.RUN_REFLEX]
    assert args_3401[3:] == [
        "run",
        "--env",
        "prod",
        "--frontend-port",
        "3401",
        "--backend-port",
        "3401",
        "--backend-host",
        "0.0.0.0",
    ]


def test_configured_folders_are_kept(tmp_path: Path, exec_calls: list[ExecCall]) -> None:
    run_serve(tmp_path, 3402, REFLEX_WEB_WORKDIR=str(tmp_path / "web"))
    [(_, _, env)] = exec_calls
    assert env["REFLEX_WEB_WORKDIR"] == str(tmp_path / "web")
    assert env["REFLEX_STATES_WORKDIR"] == str(PROJECT_ROOT / ".states-3402")


def test_new_build_folders_are_ignored_by_git_and_docker() -> None:
    for name in (".gitignore", ".dockerignore"):
        patterns = (PROJECT_ROOT / name).read_text().splitlines()
        assert ".web-*" in patterns or ".web-*/" in patterns, name
        assert ".states-*" in patterns or ".states-*/" in patterns, name
    checked = subprocess.run(
        ["git", "check-ignore", ".web-3401/package.json", ".states-3401/x"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.stdout.split() == [".web-3401/package.json", ".states-3401/x"]


def test_reflex_init_hooks_keep_requirements_and_drop_the_uv_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reflex_logger = logging.getLogger("reflex.reflex")
    monkeypatch.setattr(
        frontend_skeleton,
        "initialize_requirements_txt",
        frontend_skeleton.initialize_requirements_txt,
    )
    monkeypatch.setattr(reflex_logger, "filters", list(reflex_logger.filters))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("reflex==0.10.1\n")
    os.utime(requirements, (1_000_000_000, 1_000_000_000))

    cli_module.quiet_reflex_init()
    cli_module.quiet_reflex_init()  # twice: still one filter
    assert frontend_skeleton.initialize_requirements_txt(requirements) is False
    assert requirements.stat().st_mtime == 1_000_000_000
    assert requirements.read_text() == "reflex==0.10.1\n"

    with caplog.at_level(logging.INFO, logger="reflex.reflex"):
        reflex_logger.log(
            25,
            "Initialized ticket_app. Install dependencies from `requirements.txt` with "
            "`uv pip install -r requirements.txt` (or your preferred installer) before running "
            "`uv run reflex run`.",
        )
        reflex_logger.log(25, "Initialized ticket_app. Run `uv run reflex run` to start the app.")
    assert [record.getMessage() for record in caplog.records] == [
        "Initialized ticket_app.",
        "Initialized ticket_app.",
    ]


# A real pair of servers ---------------------------------------------------------------------

CHECKOUT_FILES = (
    "ticket_app",
    "alembic",
    "assets",
    "reflex.lock",
    "rxconfig.py",
    "requirements.txt",
)


def free_port(taken: set[int]) -> int:
    for port in range(3400, 3500):
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 3400-3499")


def copy_checkout(target: Path) -> Path:
    """The project's runtime files (working tree, no build folders) copied to `target`."""
    ignore = shutil.ignore_patterns("__pycache__", ".web*", ".states*", "node_modules", "*.db")
    target.mkdir()
    for name in CHECKOUT_FILES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


@contextmanager
def served(checkout: Path, port: int, log_path: Path) -> Iterator[subprocess.Popen]:
    """`python -m ticket_app serve` in `checkout` on `port` (its own SQLite file), until it
    answers /ping; stopped with its process group afterwards."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("REFLEX_WEB_WORKDIR", "REFLEX_STATES_WORKDIR", "DATABASE_URL")
    }
    env.update(
        PATH=os.pathsep.join([str(JS_BIN), str(Path(sys.executable).parent), env["PATH"]]),
        DATABASE_URL=f"sqlite:///{checkout / f'tickets-{port}.db'}",
        PORT=str(port),
        HOST="127.0.0.1",
        GEMINI_API_KEY="",
        REFLEX_REDIS_URL="",
        SETUP_TOKEN="newcomer-test-setup-token",
        REFLEX_USE_SYSTEM_BUN="true",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        NPM_CONFIG_REGISTRY="https://registry.npmjs.org/",
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ticket_app", "serve"],
            cwd=checkout,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            try:
                get(f"http://127.0.0.1:{port}/ping")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        else:
            output = log_path.read_text(errors="replace")
            pytest.fail(f"server on {port} did not answer; exit {process.poll()}\n{output}")
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def event_ports(port: int) -> set[int]:
    """The ports whose event socket the console served on `port` connects to."""
    base = f"http://127.0.0.1:{port}"
    page = get(f"{base}/").decode()
    scripts = set(re.findall(r'(?:src|href)="(/assets/[^"]+\.js)"', page))
    assert scripts, page[:2000]
    found = set()
    for script in scripts:
        code = get(f"{base}{script}").decode(errors="replace")
        found |= {int(p) for p in re.findall(r"//localhost:(\d+)/_event", code)}
    return found


@pytest.mark.timeout(600)
@pytest.mark.skipif(not (JS_BIN / "bun").exists(), reason=f"bun not installed in {JS_BIN}")
def test_two_servers_from_one_checkout_stay_independent(tmp_path: Path) -> None:
    checkout = copy_checkout(tmp_path / "checkout")
    requirements = checkout / "requirements.txt"
    os.utime(requirements, (1_000_000_000, 1_000_000_000))
    first_port = free_port(set())
    with served(checkout, first_port, tmp_path / "first.log"):
        assert event_ports(first_port) == {first_port}
        second_port = free_port({first_port})
        with served(checkout, second_port, tmp_path / "second.log"):
            assert event_ports(second_port) == {second_port}
            # The first console still talks to its own backend, not the newer one.
            assert event_ports(first_port) == {first_port}
    assert (checkout / f".web-{first_port}").is_dir()
    assert (checkout / f".web-{second_port}").is_dir()
    assert not (checkout / ".web").exists()
    # Reflex's first start in each new folder no longer touches requirements.txt ...
    assert requirements.stat().st_mtime == 1_000_000_000
    assert requirements.read_bytes() == (PROJECT_ROOT / "requirements.txt").read_bytes()
    # ... nor advises uv.
    for log in ("first.log", "second.log"):
        text = (tmp_path / log).read_text(errors="replace")
        assert "Initialized ticket_app." in text, text
        assert not UV_ADVICE.search(text), text
