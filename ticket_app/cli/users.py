"""The `users` commands: staff accounts created, listed, (de)activated, given a role or password.

Passwords are read from a hidden prompt or `--password-stdin`, never from an argument.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ticket_app.cli.common import (
    CLI_ACTOR,
    EXIT_BAD_INPUT,
    Command,
    Group,
    database_option,
    fail,
    print_table,
    service_errors,
    when,
)
from ticket_app.cli.database import connect_identity
from ticket_app.models import Role
from ticket_app.schemas import UserRead
from ticket_app.services.identity import users as user_service

users_app = typer.Typer(
    help="Staff accounts: create, list, deactivate, change role or password.", cls=Group
)

_password_stdin_option = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from standard input (one trailing newline is dropped) "
    "instead of prompting.",
)


def _parse_role(value: str) -> Role:
    """The role named `value` (any case); exit 2 naming the allowed roles otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(role.value for role in Role)
        raise fail(f"unknown role {value!r}; use one of {allowed}", EXIT_BAD_INPUT) from None


def _read_password(password_stdin: bool) -> str:
    """The new password: all of standard input (minus one trailing newline) or two prompts."""
    if password_stdin:
        text = sys.stdin.read()
        if text.endswith("\n"):
            text = text[:-1]
            if text.endswith("\r"):
                text = text[:-1]
        return text
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _known_emails() -> set[str]:
    with service_errors():
        return {user.email for user in user_service.list_users()}


def _normalized_email(email: str) -> str:
    with service_errors():
        return user_service.normalize_email(email)


@users_app.command("create", cls=Command)
def users_create(
    email: Annotated[str, typer.Argument(help="Sign-in email of the new staff user.")],
    role: Annotated[str, typer.Option("--role", help="admin, agent or viewer.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: the email's local part).")
    ] = None,
    password_stdin: bool = _password_stdin_option,
    database_url: str | None = database_option,
) -> None:
    """Create an active staff user; the password is prompted for twice unless --password-stdin.

    Passwords need at least 12 characters and must not be one of the most common ones.
    """
    new_role = _parse_role(role)
    address = _normalized_email(email)
    connect_identity(database_url)
    # Ask before the password prompt, so a taken email does not cost typing a password twice.
    if address in _known_emails():
        raise fail(f"a staff user with email {address} already exists", EXIT_BAD_INPUT)
    password = _read_password(password_stdin)
    with service_errors():
        user = user_service.create_user(address, new_role, password, name=name, actor=CLI_ACTOR)
    typer.echo(f"created {user.role.value} {user.email} (id {user.id})")


@users_app.command("list", cls=Command)
def users_list(database_url: str | None = database_option) -> None:
    """List staff users, active first: id, email, name, role, active, created, last login (UTC)."""
    connect_identity(database_url)
    with service_errors():
        users = user_service.list_users()
    if not users:
        typer.echo("no staff users yet; add one with `users create EMAIL --role admin`", err=True)
        return
    print_table(
        ("id", "email", "name", "role", "active", "created", "last login"),
        [_user_row(user) for user in users],
    )


def _user_row(user: UserRead) -> list[str]:
    return [
        str(user.id),
        user.email,
        user.name,
        user.role.value,
        "yes" if user.is_active else "no",
        when(user.created_at),
        when(user.last_login_at),
    ]


@users_app.command("deactivate", cls=Command)
def users_deactivate(
    email: Annotated[str, typer.Argument(help="Email of the staff user.")],
    database_url: str | None = database_option,
) -> None:
    """Deactivate a user: their sessions end and their API tokens stop working at once.

    The last active admin cannot be deactivated.
    """
    connect_identity(database_url)
    with service_errors():
        user = user_service.set_active(email, False, actor=CLI_ACTOR)
    typer.echo(f"deactivated {user.email}; their sessions and API tokens no longer work")


@users_app.command("activate", cls=Command)
def users_activate(
    email: Annotated[str, typer.Argument(help="Email of the staff user.")],
    database_url: str | None = database_option,
) -> None:
    """Reactivate a deactivated user (their unrevoked, unexpired tokens work again)."""
    connect_identity(database_url)
    with service_errors():
        user = user_service.set_active(email, True, actor=CLI_ACTOR)
    typer.echo(f"activated {user.email}")


@users_app.command("set-role", cls=Command)
def users_set_role(
    email: Annotated[str, typer.Argument(help="Email of the staff user.")],
    role: Annotated[str, typer.Argument(help="admin, agent or viewer.")],
    database_url: str | None = database_option,
) -> None:
    """Change a user's role; their sessions end. The last active admin cannot be demoted."""
    new_role = _parse_role(role)
    connect_identity(database_url)
    with service_errors():
        user = user_service.set_role(email, new_role, actor=CLI_ACTOR)
    typer.echo(f"{user.email} is now {user.role.value}")


@users_app.command("reset-password", cls=Command)
def users_reset_password(
    email: Annotated[str, typer.Argument(help="Email of the staff user.")],
    password_stdin: bool = _password_stdin_option,
    keep_tokens: Annotated[
        bool,
        typer.Option(
            "--keep-tokens",
            help="Leave their API tokens working (by default a reset revokes them too).",
        ),
    ] = False,
    database_url: str | None = database_option,
) -> None:
    """Set a new password (prompted for twice unless --password-stdin).

    Their sessions end and their API tokens are revoked, unless --keep-tokens.
    """
    address = _normalized_email(email)
    connect_identity(database_url)
    if address not in _known_emails():
        raise fail(f"no staff user with email {address}", EXIT_BAD_INPUT)
    password = _read_password(password_stdin)
    with service_errors():
        user = user_service.reset_password(
            address, password, actor=CLI_ACTOR, revoke_tokens=not keep_tokens
        )
    ended = "their sessions ended" if keep_tokens else "their sessions ended, tokens revoked"
    typer.echo(f"password of {user.email} changed; {ended}")
