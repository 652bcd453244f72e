"""The `demo` command: a database of its own filled with demo tickets and demo staff."""

from __future__ import annotations

import typer

from ticket_app.cli.common import CLI_ACTOR, EXIT_DATABASE, fail
from ticket_app.cli.database import apply_migrations
from ticket_app.cli.demo_data import (
    DEFAULT_DEMO_SEED,
    DEFAULT_DEMO_TICKETS,
    seed_demo,
    seed_demo_staff,
)
from ticket_app.services.database import use_database
from ticket_app.services.errors import ServiceError
from ticket_app.settings import PROJECT_ROOT

DEMO_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'triage_desk_demo.db'}"


def demo(
    count: int = typer.Option(DEFAULT_DEMO_TICKETS, min=1, help="How many tickets to generate."),
    seed: int = typer.Option(
        DEFAULT_DEMO_SEED, help="Random seed; the same seed on the same UTC day, the same data."
    ),
    database_url: str = typer.Option(
        DEMO_DATABASE_URL,
        "--database-url",
        help="Database to fill (default: its own SQLite file, never DATABASE_URL).",
    ),
) -> None:
    """Migrate a database, fill it with demo tickets and add demo staff with printed passwords.

    The tickets are generated for the 90 days before today (UTC), the same ones for the same
    seed all day; the staff are an admin, an agent and a viewer, each with a generated password
    printed once.

    Idempotent: tickets carry external ids demo-NNNNN and demo accounts are looked up by email,
    so running it again adds nothing (and leaves existing passwords as they are).
    """
    apply_migrations(database_url)
    use_database(database_url)
    try:
        report = seed_demo(count, seed=seed)
        accounts = seed_demo_staff(CLI_ACTOR)
    except ServiceError as exc:
        raise fail(str(exc), EXIT_DATABASE) from exc
    typer.echo(
        f"demo database {database_url}: added {report.inserted} tickets "
        f"({report.already_present} were already there)"
    )
    for number, account in enumerate(accounts):
        label = "Demo sign-in" if number == 0 else f"Demo {account.role.value}"
        password = account.password or "(already there; password unchanged)"
        typer.echo(f"{label}: {account.email} / {password}")
    if any(account.password is None for account in accounts):
        typer.echo(
            "a forgotten demo password can be replaced with `python -m ticket_app users "
            f"reset-password EMAIL --database-url {database_url}`"
        )
