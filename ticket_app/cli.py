"""Command-line tools for operators: database migrations (and, later, import/export)."""

from __future__ import annotations

import logging

import typer

from ticket_app.services.migrations import upgrade_database
from ticket_app.settings import get_settings

app = typer.Typer(help="Triage Desk command-line tools.", no_args_is_help=True)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more detail.")) -> None:
    """Triage Desk command-line tools; every command uses DATABASE_URL like the app."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)


@app.command()
def migrate(
    database_url: str = typer.Option(
        None, "--database-url", help="Database to migrate (default: DATABASE_URL)."
    ),
) -> None:
    """Apply all pending schema migrations."""
    url = database_url or get_settings().database_url
    upgrade_database(url)
    typer.echo("database schema is up to date")
