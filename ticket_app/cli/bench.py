"""The `bench` command: every kind of API request measured through the real HTTP stack."""

from __future__ import annotations

import os

import typer
from sqlalchemy.engine import make_url

from ticket_app.bench import format_table, run_bench
from ticket_app.cli.common import EXIT_BAD_INPUT, fail, service_errors
from ticket_app.cli.database import apply_migrations


def _client_counts(value: str) -> list[int]:
    """`1,4` as [1, 4]; exit 2 unless every part is a whole number from 1 to 64."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or not all(part.isascii() and part.isdigit() for part in parts):
        raise fail(
            f"--clients must be comma-separated numbers such as 1,4, not {value!r}", EXIT_BAD_INPUT
        )
    counts = [int(part) for part in parts]
    if not all(1 <= count <= 64 for count in counts):
        raise fail("--clients must be between 1 and 64", EXIT_BAD_INPUT)
    return counts


def bench(
    tickets: int = typer.Option(100_000, "--tickets", min=1, help="Tickets to measure with."),
    database_url: str = typer.Option(
        ...,
        "--database-url",
        help="A database of its own (generated tickets are added and stay); PostgreSQL for "
        "meaningful figures.",
    ),
    clients: str = typer.Option("1,4", "--clients", help="Concurrent clients, e.g. 1,4."),
    seconds: float = typer.Option(5.0, "--seconds", min=0.5, help="Run time per row."),
) -> None:
    """Measure every kind of API request through the real HTTP stack, as a table.

    Migrates the database, tops it up to TICKETS generated tickets (COPY on PostgreSQL),
    starts the API under granian and runs: first page, enum filters, deep page, rare and common
    search, stats (all and filtered), ticket by id, create (classified offline) and PATCH, at
    each client count. Prints p50/p95 latency, requests per second, errors and the load average.
    """
    client_counts = _client_counts(clients)
    apply_migrations(database_url)
    with service_errors():
        run = run_bench(
            database_url,
            tickets,
            clients=client_counts,
            seconds=seconds,
            progress=lambda line: typer.echo(line, err=True),
        )
    loaded = f", {run.loaded:,} loaded in {run.load_seconds:.1f} s" if run.loaded else ""
    typer.echo(
        f"{run.tickets:,} tickets on {make_url(database_url).get_backend_name()}{loaded}; "
        f"API under granian (1 worker), {os.cpu_count()} CPUs; {seconds:g} s per row"
    )
    typer.echo(format_table(run.results))
