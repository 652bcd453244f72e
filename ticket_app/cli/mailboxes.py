"""The `mailboxes` commands: support addresses connected, listed, tested, fetched and removed.

Passwords are read from a hidden prompt or `--password-stdin` (first line IMAP, an optional
second line SMTP), never from an argument, and stored encrypted with MAIL_SECRET_KEY
(`mailboxes keygen` prints a new one).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ticket_app.cli.common import (
    CLI_ACTOR,
    Command,
    Group,
    database_option,
    fail,
    print_table,
    service_errors,
    when,
)
from ticket_app.cli.database import connect_migrated
from ticket_app.enums import TlsMode
from ticket_app.schemas import MailboxCreate
from ticket_app.services import mail_fetch, mailboxes

mailboxes_app = typer.Typer(
    help="Support mailboxes: add, list, test, fetch, remove; keygen for MAIL_SECRET_KEY.",
    cls=Group,
)
EXIT_CHECK_FAILED = 1


def _connect(database_url: str | None) -> None:
    connect_migrated(database_url, "mailboxes")


def _passwords(password_stdin: bool, separate_smtp: bool) -> tuple[str, str | None]:
    """(IMAP password, SMTP password or None for "the same") from stdin or hidden prompts."""
    if password_stdin:
        lines = sys.stdin.read().splitlines()
        if not lines or not lines[0]:
            raise fail("standard input holds no password", 2)
        return lines[0], (lines[1] if len(lines) > 1 and lines[1] else None)
    imap = typer.prompt("IMAP password", hide_input=True)
    smtp = typer.prompt("SMTP password", hide_input=True) if separate_smtp else None
    return imap, smtp


@mailboxes_app.command("keygen", cls=Command)
def mailboxes_keygen() -> None:
    """Print a new MAIL_SECRET_KEY (keep it: without it stored mailbox passwords cannot be read)."""
    typer.echo(mailboxes.generate_key())


@mailboxes_app.command("add", cls=Command)
def mailboxes_add(
    address: Annotated[str, typer.Option("--address", help="The support address.")],
    imap_host: Annotated[str, typer.Option("--imap-host", help="IMAP server name.")],
    smtp_host: Annotated[str, typer.Option("--smtp-host", help="SMTP server name.")],
    name: Annotated[str | None, typer.Option("--name", help="Default: the address.")] = None,
    from_name: Annotated[
        str | None, typer.Option("--from-name", help="Sender name on replies (default: --name).")
    ] = None,
    imap_port: Annotated[int, typer.Option("--imap-port")] = 993,
    imap_tls: Annotated[TlsMode, typer.Option("--imap-tls")] = TlsMode.TLS,
    imap_user: Annotated[
        str | None, typer.Option("--imap-user", help="Default: the address.")
    ] = None,
    folder: Annotated[str, typer.Option("--folder")] = "INBOX",
    smtp_port: Annotated[int, typer.Option("--smtp-port")] = 587,
    smtp_tls: Annotated[TlsMode, typer.Option("--smtp-tls")] = TlsMode.STARTTLS,
    smtp_user: Annotated[
        str | None,
        typer.Option("--smtp-user", help="Default: the IMAP user (and the IMAP password)."),
    ] = None,
    no_smtp_login: Annotated[
        bool, typer.Option("--no-smtp-login", help="Send without logging in (a local relay).")
    ] = False,
    acknowledge: Annotated[
        bool, typer.Option("--acknowledge", help="Acknowledge each new ticket from mail once.")
    ] = False,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the IMAP password (first line) and an SMTP one (second) from stdin.",
        ),
    ] = False,
    database_url: str | None = database_option,
) -> None:
    """Connect a support mailbox: IMAP to read it, SMTP to reply from it."""
    _connect(database_url)
    imap_password, smtp_password = _passwords(password_stdin, smtp_user is not None)
    login = imap_user or address
    with service_errors():
        data = MailboxCreate(
            name=name or address,
            address=address,
            from_name=from_name or name or address,
            imap_host=imap_host,
            imap_port=imap_port,
            imap_tls=imap_tls,
            imap_username=login,
            imap_password=imap_password,
            imap_folder=folder,
            smtp_host=smtp_host,
            smtp_port=smtp_port,
            smtp_tls=smtp_tls,
            smtp_username=None if no_smtp_login else (smtp_user or login),
            smtp_password=None if no_smtp_login else (smtp_password or imap_password),
            acknowledge_new=acknowledge,
        )
        created = mailboxes.create_mailbox(data, actor=CLI_ACTOR)
    typer.echo(f"mailbox {created.id} {created.name!r} <{created.address}> added")


@mailboxes_app.command("list", cls=Command)
def mailboxes_list(database_url: str | None = database_option) -> None:
    """List mailboxes with their servers and the last fetch."""
    _connect(database_url)
    with service_errors():
        rows = mailboxes.list_mailboxes(actor=CLI_ACTOR)
    print_table(
        ["id", "name", "address", "imap", "smtp", "active", "last fetch", "last error"],
        [
            [
                str(m.id),
                m.name,
                m.address,
                f"{m.imap_host}:{m.imap_port} {m.imap_tls}",
                f"{m.smtp_host}:{m.smtp_port} {m.smtp_tls}",
                "yes" if m.active else "no",
                when(m.last_fetch_at) if m.last_fetch_at else "never",
                m.last_fetch_error or "",
            ]
            for m in rows
        ],
    )


@mailboxes_app.command("test", cls=Command)
def mailboxes_test(
    mailbox: Annotated[str, typer.Argument(help="Id, name or address.")],
    database_url: str | None = database_option,
) -> None:
    """Log in to the mailbox's IMAP and SMTP servers; exit 1 naming the step that failed."""
    _connect(database_url)
    with service_errors():
        found = mailboxes.find_mailbox(mailbox, actor=CLI_ACTOR)
        result = mailboxes.check_connection(found.id, actor=CLI_ACTOR)
    for step in result.steps:
        state = "ok" if step.ok else f"FAILED at {step.step}"
        typer.echo(f"{step.service}: {state}: {step.detail}")
    if not result.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@mailboxes_app.command("fetch", cls=Command)
def mailboxes_fetch(
    mailbox: Annotated[str, typer.Argument(help="Id, name or address.")],
    database_url: str | None = database_option,
) -> None:
    """Fetch the mailbox's new mail now, in this process, and say what became of it."""
    _connect(database_url)
    with service_errors():
        found = mailboxes.find_mailbox(mailbox, actor=CLI_ACTOR)
        report = mail_fetch.fetch_mailbox(found.id)
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.outcomes.items()))
    typer.echo(f"fetched {report.fetched} messages{': ' + outcomes if outcomes else ''}")
    if report.error:
        raise fail(report.error, EXIT_CHECK_FAILED)


@mailboxes_app.command("remove", cls=Command)
def mailboxes_remove(
    mailbox: Annotated[str, typer.Argument(help="Id, name or address.")],
    database_url: str | None = database_option,
) -> None:
    """Disconnect a mailbox (the mail it brought stays on its tickets)."""
    _connect(database_url)
    with service_errors():
        found = mailboxes.find_mailbox(mailbox, actor=CLI_ACTOR)
        mailboxes.remove_mailbox(found.id, actor=CLI_ACTOR)
    typer.echo(f"mailbox {found.id} <{found.address}> removed")
