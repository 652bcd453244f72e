"""Command-line tools for operators: migrations, import/export, serving, demo data, staff, tokens.

Every command works on DATABASE_URL like the app unless `--database-url` says otherwise. Exit
codes: 0 success, 1 some rows were rejected (the good ones were imported), 2 bad usage or input
(an unreadable file, a weak password, an unknown role or user, a taken email), 3 the database
refused or is unreachable.

The `users` and `tokens` commands act as the system actor "cli" (an operator with shell access
may do everything) through the service layer, so the audit trail records what they changed.
Passwords are read from a hidden prompt or `--password-stdin`, never from an argument; a new
token's secret is the only thing `tokens create` writes to standard output.

This module is the root command (`app`, run by `python -m ticket_app`) and lists every command
in help order; each command group lives in its own module: `database` (`migrate`), `serve`,
`import_export` (`import`, `export`), `demo`, `bench`, `users`, `tokens`, `counts`, `signals`,
`worker` (background jobs), `mailboxes`; `common` holds what they share.
"""

from __future__ import annotations

import logging

import typer

from ticket_app import log_redaction
from ticket_app.cli import bench, database, demo, import_export, serve, worker
from ticket_app.cli.common import Command, Group
from ticket_app.cli.counts import counts_app
from ticket_app.cli.mailboxes import mailboxes_app
from ticket_app.cli.signals import signals_app
from ticket_app.cli.tokens import tokens_app
from ticket_app.cli.users import users_app

app = typer.Typer(help="Triage Desk command-line tools.", no_args_is_help=True, cls=Group)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more detail.")) -> None:
    """Triage Desk command-line tools; every command uses DATABASE_URL like the app."""
    log_redaction.install()
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)


# Registered here, in the order `--help` lists them.
app.command(cls=Command)(database.migrate)
app.command(cls=Command)(serve.serve)
app.command(cls=Command)(worker.worker)
app.command("import", cls=Command)(import_export.import_command)
app.command(cls=Command)(import_export.export)
app.command(cls=Command)(demo.demo)
app.command(cls=Command)(bench.bench)
app.add_typer(users_app, name="users", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens", no_args_is_help=True)
app.add_typer(counts_app, name="counts", no_args_is_help=True)
app.add_typer(signals_app, name="signals", no_args_is_help=True)
app.add_typer(mailboxes_app, name="mailboxes", no_args_is_help=True)
