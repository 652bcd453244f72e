"""`demo` adds demo staff once and prints their sign-in; `serve` hands the first-admin setup
token to the server process while no admin exists (os.execve is intercepted), which prints it
as its last start-up line, after Reflex's "App running at"."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import pytest
from reflex.utils import exec as reflex_exec
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.support.cli import Invoke
from ticket_app.cli import app
from ticket_app.cli import serve as cli_module
from ticket_app.models import Role
from ticket_app.services.identity import sessions, setup, users
from ticket_app.settings import PROJECT_ROOT, get_settings

runner = CliRunner()
SIGN_IN = re.compile(r"^Demo sign-in: (\S+) / (\S+)$", re.MULTILINE)


def test_demo_creates_staff_once_and_prints_the_admin_sign_in(
    db: Engine, database_url: str, audit_events: Callable[[], list[dict[str, object]]]
) -> None:
    args = ["demo", "--count", "5", "--database-url", database_url]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    email, password = SIGN_IN.search(first.stdout).groups()
    assert email == "demo-admin@example.com"
    assert len(password) >= 12
    assert re.search(r"^Demo agent: demo-agent@example.com / \S{12,}$", first.stdout, re.M)
    assert re.search(r"^Demo viewer: demo-viewer@example.com / \S{12,}$", first.stdout, re.M)
    roles = {user.email: user.role for user in users.list_users()}
    assert roles == {
        "demo-admin@example.com": Role.ADMIN,
        "demo-agent@example.com": Role.AGENT,
        "demo-viewer@example.com": Role.VIEWER,
    }
    assert sessions.sign_in(email, password).user.role == Role.ADMIN

    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "added 0 tickets" in second.stdout
    assert SIGN_IN.search(second.stdout) is None  # no new password to show
    assert "demo-admin@example.com / (already there; password unchanged)" in second.stdout
    assert password not in second.stdout
    assert len(users.list_users()) == 3
    assert sessions.sign_in(email, password).user.email == email  # still the first password
    created = [e for e in audit_events() if e["kind"] == "user_created"]
    assert [(e["actor_label"], e["new_value"]) for e in created] == [
        ("cli", "demo-admin@example.com: admin"),
        ("cli", "demo-agent@example.com: agent"),
        ("cli", "demo-viewer@example.com: viewer"),
    ]
    assert all(password not in repr(event) for event in audit_events())


@pytest.fixture
def exec_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, list[str], dict]]]:
    """Intercept `serve`'s os.execve; settings re-read without SETUP_TOKEN/PUBLIC_BASE_URL."""
    calls: list[tuple[str, list[str], dict]] = []
    monkeypatch.setattr(
        cli_module.os, "execve", lambda path, args, env: calls.append((path, args, env))
    )
    # Not started either: a real worker would outlive the test, polling its dropped database.
    monkeypatch.setattr(cli_module, "start_worker", lambda env: None)
    monkeypatch.chdir(PROJECT_ROOT)  # serve changes directory; restored afterwards
    monkeypatch.delenv("SETUP_TOKEN", raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def serve(database_url: str, *options: str):
    return runner.invoke(app, ["serve", "--database-url", database_url, *options])


def server_start_output(
    env: dict[str, str], capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The lines the exec'd server prints from Reflex's "App running at" on, for `env`."""
    monkeypatch.setattr(reflex_exec, "notify_frontend", reflex_exec.notify_frontend)
    server_env = dict(env)
    cli_module.announce_setup_after_app_running(server_env)
    assert cli_module.SETUP_NOTICE_URL not in server_env  # the workers do not get it
    capfd.readouterr()
    reflex_exec.notify_frontend("http://127.0.0.1:3456", True)
    lines = [line for line in capfd.readouterr().out.splitlines() if line.strip()]
    assert lines[0].startswith("App running at:"), lines
    return lines


def test_serve_prints_the_setup_token_last_while_no_admin_exists(
    db: Engine,
    database_url: str,
    exec_calls: list,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = serve(database_url, "--host", "127.0.0.1", "--port", "3456")
    assert result.exit_code == 0, result.output
    assert "setup token" not in result.stdout  # not here, 80 lines above "App running"
    [(_, args, env)] = exec_calls
    *_, last = server_start_output(env, capfd, monkeypatch)
    match = re.fullmatch(
        r"No admin yet: open http://127\.0\.0\.1:3456/setup and enter the setup token: (\S+)",
        last,
    )
    assert match, last
    token = match.group(1)
    assert len(token) >= 24
    assert args[1:6] == ["-c", cli_module.RUN_REFLEX, "run", "--env", "prod"]
    assert env["SETUP_TOKEN"] == token
    assert env["DATABASE_URL"] == database_url
    # The token the server's workers get is the one the setup page accepts.
    signed_in = setup.complete_setup(token, "first@example.com", "first admin password")
    assert signed_in.user.role == Role.ADMIN


def test_serve_uses_a_configured_setup_token_and_localhost_for_any_address(
    db: Engine,
    database_url: str,
    exec_calls: list,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SETUP_TOKEN", "operator-chosen-setup-token")
    get_settings.cache_clear()
    result = serve(database_url, "--host", "0.0.0.0", "--port", "3000")
    assert result.exit_code == 0, result.output
    [(_, _, env)] = exec_calls
    assert server_start_output(env, capfd, monkeypatch)[-1] == (
        "No admin yet: open http://localhost:3000/setup and enter the setup token: "
        "operator-chosen-setup-token"
    )
    assert env["SETUP_TOKEN"] == "operator-chosen-setup-token"  # passed through, not replaced


def test_serve_uses_the_public_base_url(
    db: Engine,
    database_url: str,
    exec_calls: list,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://desk.example.com/")
    get_settings.cache_clear()
    result = serve(database_url)
    assert result.exit_code == 0, result.output
    [(_, _, env)] = exec_calls
    last = server_start_output(env, capfd, monkeypatch)[-1]
    assert "open https://desk.example.com/setup and enter the setup token: " in last


def test_serve_says_nothing_about_setup_once_an_admin_exists(
    cli: Invoke, make_user: Callable[..., None], database_url: str, exec_calls: list
) -> None:
    make_user("admin@example.com", "admin")
    result = serve(database_url)
    assert result.exit_code == 0, result.output
    assert "setup" not in result.output.lower()
    [(_, _, env)] = exec_calls
    assert "SETUP_TOKEN" not in env
    assert cli_module.SETUP_NOTICE_URL not in env


def test_serve_exits_3_when_the_database_is_unreachable(exec_calls: list) -> None:
    result = serve("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: the database is unreachable")
    assert len(result.stderr.strip().splitlines()) == 1
    assert exec_calls == []


def test_serve_runs_one_worker_per_core_when_redis_holds_the_ui_state(
    db: Engine, database_url: str, exec_calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("GRANIAN_WORKERS", raising=False)
    result = serve(database_url, "--host", "127.0.0.1", "--port", "3456")
    assert result.exit_code == 0, result.output
    [(_, _, env)] = exec_calls
    cores = os.cpu_count() or 1
    assert env["GRANIAN_WORKERS"] == str(cores)
    assert f"({cores} worker" in result.stdout


def test_serve_refuses_several_workers_without_redis(
    db: Engine, database_url: str, exec_calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    result = serve(database_url, "--workers", "2")
    assert result.exit_code == 2
    assert "REFLEX_REDIS_URL" in result.output
    assert exec_calls == []
    single = serve(database_url, "--host", "127.0.0.1", "--port", "3456")
    assert single.exit_code == 0, single.output
    [(_, _, env)] = exec_calls
    assert env["GRANIAN_WORKERS"] == "1"
