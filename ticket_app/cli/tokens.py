"""The `tokens` commands: API tokens created, listed and revoked.

A new token's secret is the only thing `tokens create` writes to standard output.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ticket_app.cli.common import (
    CLI_ACTOR,
    Command,
    Group,
    database_option,
    print_table,
    service_errors,
    when,
)
from ticket_app.cli.database import connect_identity
from ticket_app.schemas import TokenRead
from ticket_app.services.identity import tokens as token_service

tokens_app = typer.Typer(
    help="API tokens: create (the secret is printed once), list, revoke.", cls=Group
)


@tokens_app.command("create", cls=Command)
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="Email of the token's owner.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. ci-export.")],
    scopes: Annotated[
        str | None,
        typer.Option(
            "--scopes", help="Comma-separated: tickets:read,tickets:write (default: both)."
        ),
    ] = None,
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", help="Expire after N days (default: never).")
    ] = None,
    database_url: str | None = database_option,
) -> None:
    """Create an API token acting for USER with their role, limited to its scopes.

    The secret is printed alone on standard output (one line, shown only this once; it is not
    stored, only its hash); everything else goes to standard error.
    """
    connect_identity(database_url)
    with service_errors():
        secret, info = token_service.create_token(
            user, name, scopes=scopes, expires_days=expires_days, actor=CLI_ACTOR
        )
    expiry = f"expires {when(info.expires_at)} UTC" if info.expires_at else "never expires"
    typer.echo(
        f"created API token {info.id} {info.name!r} for {info.user_email} "
        f"(scopes {','.join(info.scopes)}; {expiry}); the secret below is shown only once",
        err=True,
    )
    typer.echo(secret)


@tokens_app.command("list", cls=Command)
def tokens_list(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this owner's tokens (email).")
    ] = None,
    database_url: str | None = database_option,
) -> None:
    """List API tokens, newest first (times in UTC); secrets are never shown, only prefixes."""
    connect_identity(database_url)
    with service_errors():
        tokens = token_service.list_tokens(actor=CLI_ACTOR, owner_email=user)
    if not tokens:
        typer.echo("no API tokens", err=True)
        return
    print_table(
        (
            "id",
            "owner",
            "name",
            "prefix",
            "scopes",
            "created",
            "expires",
            "last used",
            "revoked",
        ),
        [_token_row(token) for token in tokens],
    )


def _token_row(token: TokenRead) -> list[str]:
    expires = "never"
    if token.expires_at is not None:
        expires = when(token.expires_at)
        if token_service.expires_in(token.expires_at) == "expired":
            expires += " (expired)"
    return [
        str(token.id),
        token.user_email,
        token.name,
        f"{token.prefix}…",
        ",".join(token.scopes),
        when(token.created_at),
        expires,
        when(token.last_used_at),
        when(token.revoked_at),
    ]


@tokens_app.command("revoke", cls=Command)
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="Token id (see `tokens list`).")],
    database_url: str | None = database_option,
) -> None:
    """Revoke an API token; it stops working at once. Revoking it again changes nothing."""
    connect_identity(database_url)
    with service_errors():
        token = token_service.revoke_token(token_id, actor=CLI_ACTOR)
    typer.echo(f"revoked API token {token.id} {token.name!r} of {token.user_email}")
