"""`python -m ticket_app users ...` on SQLite and PostgreSQL: accounts through the service layer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from tests.cli.support import STRONG_PASSWORD, Invoke
from tests.conftest import SYSTEM
from ticket_app.cli import app
from ticket_app.models import Role
from ticket_app.services.errors import InvalidCredentialsError
from ticket_app.services.identity import sessions, tokens, users
from ticket_app.settings import get_settings


def signs_in(email: str, password: str) -> bool:
    try:
        sessions.sign_in(email, password)
    except InvalidCredentialsError:
        return False
    return True


def user(email: str):
    return next(u for u in users.list_users() if u.email == email)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_create_prompts_twice_hidden_then_list_shows_the_user(cli: Invoke) -> None:
    password = "purple kettle on the stairs"
    result = cli(
        "users",
        "create",
        "Ada@Example.com",
        "--role",
        "admin",
        "--name",
        "Ada Lovelace",
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.stdout and "Repeat for confirmation" in result.stdout
    assert password not in result.output  # hidden input is not echoed
    assert "created admin ada@example.com" in result.stdout

    listing = cli("users", "list")
    assert listing.exit_code == 0, listing.output
    header, row = listing.stdout.splitlines()
    assert header.split() == ["id", "email", "name", "role", "active", "created", "last", "login"]
    assert row.split()[:6] == ["1", "ada@example.com", "Ada", "Lovelace", "admin", "yes"]
    assert row.split()[-1] == "-"  # never signed in

    assert signs_in("ada@example.com", password)
    assert cli("users", "list").stdout.splitlines()[1].split()[-1] != "-"


def test_mismatched_confirmation_asks_again(cli: Invoke) -> None:
    result = cli(
        "users",
        "create",
        "bob@example.com",
        "--role",
        "agent",
        input=f"first try of a password\nsecond try typo\n{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert signs_in("bob@example.com", STRONG_PASSWORD)


@pytest.mark.parametrize(
    ("stdin", "password"),
    [
        ("tabs\tand  spaces kept \n", "tabs\tand  spaces kept "),
        ("no newline at the end", "no newline at the end"),
        ("windows line ending\r\n", "windows line ending"),
        ("only one newline goes\n\n", "only one newline goes\n"),
    ],
)
def test_password_stdin_drops_one_trailing_newline_only(
    cli: Invoke, stdin: str, password: str
) -> None:
    result = cli(
        "users", "create", "cy@example.com", "--role", "viewer", "--password-stdin", input=stdin
    )
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # no prompt
    assert signs_in("cy@example.com", password)
    assert user("cy@example.com").role == Role.VIEWER
    assert user("cy@example.com").name == "cy"  # default: the email's local part


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pw", "password must be at least 12 characters long"),
        ("Password1234", "password is one of the most common passwords"),
        ("", "password must be at least 12 characters long"),
        ("            ", "password must not be only spaces"),
        ("abababababab", "password must use at least 5 different characters"),
        ("abcdefghijklmnop", "password is too easy to guess"),
    ],
)
def test_weak_password_is_refused(cli: Invoke, password: str, message: str) -> None:
    result = cli(
        "users",
        "create",
        "dee@example.com",
        "--role",
        "agent",
        "--password-stdin",
        input=password + "\n",
    )
    assert result.exit_code == 2
    assert message in one_line(result.stderr)
    assert result.stdout == ""
    if password:
        assert password not in result.output
    assert users.list_users() == []


def test_weak_password_from_the_prompt_is_refused(cli: Invoke) -> None:
    result = cli(
        "users", "create", "dee@example.com", "--role", "agent", input="too short\ntoo short\n"
    )
    assert result.exit_code == 2
    assert "password must be at least 12 characters long" in one_line(result.stderr)
    assert users.list_users() == []


def test_duplicate_email_is_refused_before_asking_for_a_password(
    cli: Invoke, make_user: Callable[..., None]
) -> None:
    make_user("eve@example.com", "agent")
    # No input at all: a prompt would abort with exit 1, so exit 2 shows nothing was asked.
    result = cli("users", "create", " EVE@example.com ", "--role", "admin")
    assert result.exit_code == 2, result.output
    assert (
        one_line(result.stderr) == "error: a staff user with email eve@example.com already exists"
    )
    assert "Password" not in result.output
    assert [u.role for u in users.list_users()] == [Role.AGENT]


@pytest.mark.parametrize(
    "args",
    [
        ["users", "create", "fay@example.com", "--role", "owner", "--password-stdin"],
        ["users", "set-role", "fay@example.com", "superuser"],
    ],
)
def test_unknown_role_is_refused(cli: Invoke, args: list[str]) -> None:
    result = cli(*args, input=STRONG_PASSWORD)
    assert result.exit_code == 2
    assert "unknown role" in one_line(result.stderr)
    assert "admin, agent, viewer" in result.stderr


def test_role_is_required_and_email_checked(cli: Invoke) -> None:
    missing = cli("users", "create", "gil@example.com", "--password-stdin", input=STRONG_PASSWORD)
    assert missing.exit_code == 2
    assert "--role" in missing.stderr
    bad = cli(
        "users",
        "create",
        "not-an-email",
        "--role",
        "agent",
        "--password-stdin",
        input=STRONG_PASSWORD,
    )
    assert bad.exit_code == 2
    assert "valid email" in one_line(bad.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ["users", "deactivate", "nobody@example.com"],
        ["users", "set-role", "nobody@example.com", "agent"],
        ["users", "reset-password", "nobody@example.com", "--password-stdin"],
    ],
)
def test_unknown_user_is_refused(cli: Invoke, args: list[str]) -> None:
    result = cli(*args, input=STRONG_PASSWORD)
    assert result.exit_code == 2
    assert one_line(result.stderr) == "error: no staff user with email nobody@example.com"


def test_deactivate_and_activate(cli: Invoke, make_user: Callable[..., None]) -> None:
    make_user("admin@example.com", "admin")
    make_user("hal@example.com", "agent")
    signed_in = sessions.sign_in("hal@example.com", STRONG_PASSWORD)

    result = cli("users", "deactivate", "HAL@example.com")
    assert result.exit_code == 0, result.output
    assert "deactivated hal@example.com" in result.stdout
    assert not user("hal@example.com").is_active
    assert sessions.resolve_session(signed_in.token) is None
    assert not signs_in("hal@example.com", STRONG_PASSWORD)
    rows = [line.split() for line in cli("users", "list").stdout.splitlines()[1:]]
    assert [(row[1], row[4]) for row in rows] == [
        ("admin@example.com", "yes"),
        ("hal@example.com", "no"),
    ]
    assert cli("users", "deactivate", "hal@example.com").exit_code == 0  # idempotent

    assert cli("users", "activate", "hal@example.com").exit_code == 0
    assert signs_in("hal@example.com", STRONG_PASSWORD)


def test_the_last_admin_stays(cli: Invoke, make_user: Callable[..., None]) -> None:
    make_user("admin@example.com", "admin")
    deactivate = cli("users", "deactivate", "admin@example.com")
    assert deactivate.exit_code == 2
    assert "last active admin" in one_line(deactivate.stderr)
    demote = cli("users", "set-role", "admin@example.com", "viewer")
    assert demote.exit_code == 2
    assert "last active admin" in one_line(demote.stderr)
    assert user("admin@example.com").role == Role.ADMIN
    assert user("admin@example.com").is_active


def test_set_role_ends_sessions(cli: Invoke, make_user: Callable[..., None]) -> None:
    make_user("ivy@example.com", "viewer")
    signed_in = sessions.sign_in("ivy@example.com", STRONG_PASSWORD)
    result = cli("users", "set-role", "ivy@example.com", "Agent")
    assert result.exit_code == 0, result.output
    assert one_line(result.stdout) == "ivy@example.com is now agent"
    assert user("ivy@example.com").role == Role.AGENT
    assert sessions.resolve_session(signed_in.token) is None


def test_reset_password_by_prompt_and_by_stdin(cli: Invoke, make_user: Callable[..., None]) -> None:
    make_user("jo@example.com", "agent")
    signed_in = sessions.sign_in("jo@example.com", STRONG_PASSWORD)
    prompted = "amber river at midnight"
    result = cli("users", "reset-password", "jo@example.com", input=f"{prompted}\n{prompted}\n")
    assert result.exit_code == 0, result.output
    assert prompted not in result.output
    assert sessions.resolve_session(signed_in.token) is None
    assert signs_in("jo@example.com", prompted)
    assert not signs_in("jo@example.com", STRONG_PASSWORD)

    piped = "quiet harbour lights 42"
    result = cli("users", "reset-password", "jo@example.com", "--password-stdin", input=piped)
    assert result.exit_code == 0, result.output
    assert signs_in("jo@example.com", piped)

    weak = cli("users", "reset-password", "jo@example.com", "--password-stdin", input="weak")
    assert weak.exit_code == 2
    assert "password must be at least 12" in one_line(weak.stderr)
    assert signs_in("jo@example.com", piped)


def test_reset_password_revokes_api_tokens_unless_kept(
    cli: Invoke,
    make_user: Callable[..., None],
    audit_events: Callable[[], list[dict[str, object]]],
) -> None:
    make_user("jo@example.com", "agent")
    old_token, _ = tokens.create_token("jo@example.com", "laptop script", actor=SYSTEM)
    result = cli(
        "users",
        "reset-password",
        "jo@example.com",
        "--password-stdin",
        input="amber river at midnight",
    )
    assert result.exit_code == 0, result.output
    assert "tokens revoked" in result.stdout
    assert tokens.resolve_token(old_token) is None
    revoked = [e for e in audit_events() if e["kind"] == "token_revoked"]
    assert [(e["old_value"], e["new_value"]) for e in revoked] == [
        ("jo@example.com: laptop script (" + old_token[:12] + "…)", "revoked by password reset")
    ]

    kept_token, _ = tokens.create_token("jo@example.com", "ci", actor=SYSTEM)
    result = cli(
        "users",
        "reset-password",
        "jo@example.com",
        "--password-stdin",
        "--keep-tokens",
        input="quiet harbour lights 42",
    )
    assert result.exit_code == 0, result.output
    assert tokens.resolve_token(kept_token) is not None
    assert len([e for e in audit_events() if e["kind"] == "token_revoked"]) == 1


def test_empty_list_says_so_on_stderr(cli: Invoke) -> None:
    result = cli("users", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no staff users" in result.stderr


def test_database_url_from_the_environment(
    db, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            ["users", "create", "kim@example.com", "--role", "viewer", "--password-stdin"],
            input=STRONG_PASSWORD,
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert user("kim@example.com").role == Role.VIEWER
