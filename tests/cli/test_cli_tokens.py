"""`python -m ticket_app tokens ...` on SQLite and PostgreSQL: the secret goes to stdout once,
works as a bearer token against the API, and stops working when revoked or its owner leaves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.cli.support import STRONG_PASSWORD, Invoke
from ticket_app.api.app import create_api
from ticket_app.models import ActorKind
from ticket_app.services.access import Actor
from ticket_app.services.identity import tokens
from ticket_app.services.identity.credentials import token_digest
from ticket_app.settings import PROJECT_ROOT


def me(secret: str) -> int:
    """Status of GET /api/me/ with this bearer token."""
    with TestClient(create_api()) as client:
        response = client.get("/api/me/", headers={"Authorization": f"Bearer {secret}"})
    return response.status_code


def create_token(cli: Invoke, *args: str) -> str:
    """`tokens create ARGS`; checks stdout is the token alone on one line and returns it."""
    result = cli("tokens", "create", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1, result.stdout
    secret = result.stdout.strip()
    assert secret.startswith(tokens.TOKEN_PREFIX)
    assert secret not in result.stderr
    return secret


@pytest.fixture
def owner(make_user: Callable[..., None]) -> str:
    make_user("admin@example.com", "admin")
    make_user("ops@example.com", "agent")
    return "ops@example.com"


def test_create_prints_only_the_token_and_it_authenticates(cli: Invoke, owner: str) -> None:
    result = cli("tokens", "create", "--user", owner, "--name", "deploy script")
    assert result.exit_code == 0, result.output
    secret = result.stdout.removesuffix("\n")
    assert result.stdout == secret + "\n" and "\n" not in secret and " " not in secret
    assert secret.startswith("tdk_") and len(secret) > 40
    # The message on stderr describes the token without giving it away.
    assert "created API token 1 'deploy script' for ops@example.com" in result.stderr
    assert "never expires" in result.stderr
    assert secret not in result.stderr and secret[12:] not in result.stderr

    with TestClient(create_api()) as client:
        response = client.get("/api/me/", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.text
        assert response.json()["email"] == owner
        assert response.json()["role"] == "agent"
        wrong = client.get("/api/me/", headers={"Authorization": "Bearer tdk_wrong"})
        assert wrong.status_code == 401
        assert client.get("/api/me/").status_code == 401


def test_scopes_limit_the_token(cli: Invoke, owner: str) -> None:
    secret = create_token(cli, "--user", owner, "--name", "reader", "--scopes", "tickets:read")
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_api(), headers=headers) as client:
        assert client.get("/api/tickets/").status_code == 200
        created = client.post(
            "/api/tickets/",
            json={"title": "t", "description": "d", "category": "general", "priority": "low"},
        )
        assert created.status_code == 403


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "ops@example.com", "--name", "x", "--scopes", "admin"], "unknown scope"),
        (["--user", "ops@example.com", "--name", "x", "--expires-days", "0"], "--expires-days"),
        (["--user", "ops@example.com", "--name", "   "], "--name must be"),
        (["--user", "nobody@example.com", "--name", "x"], "no staff user with email"),
    ],
)
def test_bad_input_is_refused(cli: Invoke, owner: str, args: list[str], message: str) -> None:
    result = cli("tokens", "create", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert tokens.list_tokens(actor=Actor.process(ActorKind.SYSTEM)) == []


def test_list_shows_metadata_never_the_secret(cli: Invoke, owner: str) -> None:
    ops = create_token(cli, "--user", owner, "--name", "ci", "--expires-days", "30")
    admin = create_token(cli, "--user", "admin@example.com", "--name", "backup")
    assert me(ops) == 200  # sets "last used"

    result = cli("tokens", "list")
    assert result.exit_code == 0, result.output
    for secret in (ops, admin):
        assert secret not in result.output
        assert secret[12:20] not in result.output
        assert token_digest(secret) not in result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "id",
        "owner",
        "name",
        "prefix",
        "scopes",
        "created",
        "expires",
        "last",
        "used",
        "revoked",
    ]
    newest, oldest = (row.split() for row in rows)
    assert newest[:5] == [
        "2",
        "admin@example.com",
        "backup",
        f"{admin[:12]}…",
        "tickets:read,tickets:write",
    ]
    assert newest[7:] == ["never", "-", "-"]
    assert oldest[:4] == ["1", owner, "ci", f"{ops[:12]}…"]
    assert oldest[7] != "never" and oldest[9] != "-"  # an expiry date; last used just now

    mine = cli("tokens", "list", "--user", "OPS@example.com")
    assert [row.split()[0] for row in mine.stdout.splitlines()[1:]] == ["1"]
    unknown = cli("tokens", "list", "--user", "nobody@example.com")
    assert unknown.exit_code == 2


def test_revoke_stops_the_token(cli: Invoke, owner: str) -> None:
    secret = create_token(cli, "--user", owner, "--name", "short-lived")
    assert me(secret) == 200
    result = cli("tokens", "revoke", "1")
    assert result.exit_code == 0, result.output
    assert "revoked API token 1 'short-lived' of ops@example.com" in result.stdout
    assert secret not in result.output
    assert me(secret) == 401
    listed = cli("tokens", "list").stdout.splitlines()[1].split()
    assert listed[-1] != "-"  # the revoked column has a time

    again = cli("tokens", "revoke", "1")
    assert again.exit_code == 0  # idempotent
    missing = cli("tokens", "revoke", "99")
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: no API token with id 99"
    not_a_number = cli("tokens", "revoke", "abc")
    assert not_a_number.exit_code == 2


def test_deactivating_the_owner_stops_the_token(cli: Invoke, owner: str) -> None:
    secret = create_token(cli, "--user", owner, "--name", "sync")
    assert me(secret) == 200
    assert cli("users", "deactivate", owner).exit_code == 0
    assert me(secret) == 401
    refused = cli("tokens", "create", "--user", owner, "--name", "another")
    assert refused.exit_code == 2
    assert "ops@example.com is deactivated" in refused.stderr
    assert refused.stdout == ""


def test_changes_are_audited_as_cli(
    cli: Invoke,
    make_user: Callable[..., None],
    audit_events: Callable[[], list[dict[str, object]]],
) -> None:
    make_user("admin@example.com", "admin")
    make_user("lee@example.com", "viewer")
    assert cli("users", "set-role", "lee@example.com", "agent").exit_code == 0
    assert (
        cli(
            "users",
            "reset-password",
            "lee@example.com",
            "--password-stdin",
            input="lantern over the bay",
        ).exit_code
        == 0
    )
    secret = create_token(cli, "--user", "lee@example.com", "--name", "audit me")
    assert cli("tokens", "revoke", "1").exit_code == 0
    assert cli("users", "deactivate", "lee@example.com").exit_code == 0

    events = audit_events()
    assert [(e["kind"], e["field"]) for e in events] == [
        ("user_created", "role"),
        ("user_created", "role"),
        ("user_changed", "role"),
        ("user_changed", "password"),
        ("token_created", "token"),
        ("token_revoked", "token"),
        ("user_changed", "active"),
    ]
    assert {(e["actor_kind"], e["actor_label"]) for e in events} == {("system", "cli")}
    assert all(e["ticket_id"] is None for e in events)
    text = repr(events)
    for secret_text in (
        secret,
        secret[12:],
        token_digest(secret),
        STRONG_PASSWORD,
        "lantern over the bay",
    ):
        assert secret_text not in text


def test_end_to_end_with_database_url_from_the_environment(db, database_url: str) -> None:
    """Separate processes, as a deployment script runs them: DATABASE_URL, stdin, stdout."""
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("SETUP_TOKEN", None)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ticket_app", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            timeout=120,
        )

    created = run(
        "users",
        "create",
        "bot@example.com",
        "--role",
        "agent",
        "--password-stdin",
        stdin=STRONG_PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    token = run("tokens", "create", "--user", "bot@example.com", "--name", "ci")
    assert token.returncode == 0, token.stderr
    lines = token.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tdk_")
    assert me(lines[0]) == 200
    assert "created API token 1 'ci'" in token.stderr and lines[0] not in token.stderr
