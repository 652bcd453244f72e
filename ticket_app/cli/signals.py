"""The `signals` commands: the triage signals of stored tickets, backfilled."""

from __future__ import annotations

import typer

from ticket_app.cli.common import CLI_ACTOR, Command, Group, database_option, service_errors
from ticket_app.cli.database import connect_migrated
from ticket_app.services.triage_signals import (
    BACKFILL_BATCH_SIZE,
    BackfillReport,
    backfill_signals,
)

signals_app = typer.Typer(
    help="Triage signals (language, sentiment, frustration) of stored tickets: backfill.",
    cls=Group,
)
BACKFILL_PROGRESS_EVERY = 10  # batches between progress lines on standard error


@signals_app.command("backfill", cls=Command)
def signals_backfill(
    batch_size: int = typer.Option(
        BACKFILL_BATCH_SIZE, "--batch-size", min=1, help="Tickets per transaction."
    ),
    database_url: str | None = database_option,
) -> None:
    """Read the language, sentiment and frustration of tickets that have none yet.

    Tickets stored before these columns existed, or imported by an older version, have empty
    signals, so the language and frustrated-customer filters do not find them. Each batch is
    committed with one audit event; run it again after an interruption and it continues. No
    network: about a millisecond a ticket.
    """
    connect_migrated(database_url, "ticket_counts")

    def progress(report: BackfillReport) -> None:
        if report.batches % BACKFILL_PROGRESS_EVERY == 0:
            typer.echo(f"{report.filled:,} tickets so far", err=True)

    with service_errors():
        report = backfill_signals(actor=CLI_ACTOR, batch_size=batch_size, on_batch=progress)
    if not report.filled:
        typer.echo("every ticket already has its signals")
        return
    typer.echo(
        f"read the signals of {report.filled:,} tickets in {report.batches:,} batches: "
        f"{report.frustrated:,} frustrated, {report.without_language:,} too short to tell "
        "the language"
    )
