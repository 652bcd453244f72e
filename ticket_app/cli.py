"""Command-line tools for operators: migrations, import/export, the server start, demo data.

Every command works on DATABASE_URL like the app unless `--database-url` says otherwise. Exit
codes: 0 success, 1 some rows were rejected (the good ones were imported), 2 bad usage or an
unreadable file, 3 the database refused or is unreachable.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import TicketFilters
from ticket_app.services.database import use_database
from ticket_app.services.demo import DEFAULT_DEMO_SEED, DEFAULT_DEMO_TICKETS, seed_demo
from ticket_app.services.errors import ServiceError
from ticket_app.services.exporter import export_csv, write_csv
from ticket_app.services.importer import (
    DEFAULT_BATCH_SIZE,
    ImportFileError,
    ImportReport,
    SchemaOutOfDateError,
    check_schema,
    import_file,
    parse_column_map,
)
from ticket_app.services.migrations import upgrade_database
from ticket_app.settings import PROJECT_ROOT, get_settings

app = typer.Typer(help="Triage Desk command-line tools.", no_args_is_help=True)
DEMO_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'triage_desk_demo.db'}"
MAX_ERRORS_SHOWN = 50

EXIT_REJECTED_ROWS = 1
EXIT_BAD_INPUT = 2
EXIT_DATABASE = 3

_database_option = typer.Option(
    None, "--database-url", help="SQLAlchemy database URL (default: DATABASE_URL)."
)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _connect(database_url: str | None) -> str:
    """Point the process at `database_url` (or the settings' URL) and return the URL used."""
    url = database_url or get_settings().database_url
    use_database(url)
    return url


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more detail.")) -> None:
    """Triage Desk command-line tools; every command uses DATABASE_URL like the app."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)


@app.command()
def migrate(database_url: str | None = _database_option) -> None:
    """Apply all pending schema migrations."""
    url = database_url or get_settings().database_url
    upgrade_database(url)
    typer.echo("database schema is up to date")


@app.command()
def serve(
    port: int = typer.Option(3000, envvar="PORT", help="Port for the UI and the API."),
    host: str = typer.Option("0.0.0.0", envvar="HOST", help="Address to listen on."),
    database_url: str | None = _database_option,
) -> None:
    """Apply pending migrations, then replace this process with the production server.

    Runs `reflex run --env prod` in the project directory, so the frontend is built (or
    refreshed) and served together with the REST API on one port. bun must be on PATH.
    """
    url = database_url or get_settings().database_url
    upgrade_database(url)
    typer.echo(f"database schema is up to date; serving on {host}:{port}")
    env = {**os.environ, "DATABASE_URL": url}
    args = [sys.executable, "-m", "reflex", "run", "--env", "prod"]
    args += ["--frontend-port", str(port), "--backend-port", str(port), "--backend-host", host]
    os.chdir(PROJECT_ROOT)
    sys.stdout.flush()
    os.execve(sys.executable, args, env)


def _report_import(report: ImportReport) -> None:
    for error in report.errors[:MAX_ERRORS_SHOWN]:
        typer.echo(str(error), err=True)
    if len(report.errors) > MAX_ERRORS_SHOWN:
        typer.echo(f"... and {len(report.errors) - MAX_ERRORS_SHOWN} more errors", err=True)
    typer.echo(
        f"read {report.rows} rows: imported {report.inserted}, "
        f"already present {report.already_present}, rejected {report.rejected}, "
        f"classified {report.classified}"
    )


@app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or JSON Lines file."),
    ],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="FIELD=COLUMN",
            help="Read FIELD from COLUMN (repeatable), e.g. --map description=instruction.",
        ),
    ] = None,
    file_format: str | None = typer.Option(
        None, "--format", help="csv or jsonl (default: from the extension)."
    ),
    classify: bool = typer.Option(
        True,
        "--classify/--no-classify",
        help="Ask the classifier for missing or unknown category/priority "
        "(--no-classify: general/medium).",
    ),
    batch_size: int = typer.Option(
        DEFAULT_BATCH_SIZE, min=1, help="Rows per transaction; a batch is stored whole or not."
    ),
    line_ids: bool = typer.Option(
        False,
        "--line-ids",
        help="Give rows without an external_id the id FILENAME:LINE, so a re-run skips them.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    database_url: str | None = _database_option,
) -> None:
    """Import tickets from a CSV or JSON Lines file; bad rows are reported by line and skipped."""
    try:
        columns = parse_column_map(mapping or [])
    except ValueError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from exc
    _connect(database_url)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    )
    task = progress.add_task("importing", total=file.stat().st_size or 1)

    def on_progress(position: int, report: ImportReport) -> None:
        progress.update(task, completed=position, description=f"{report.rows} rows")

    try:
        check_schema()
        with progress:
            report = import_file(
                file,
                file_format=file_format,
                columns=columns,
                classify=classify,
                batch_size=batch_size,
                line_ids=line_ids,
                on_progress=on_progress,
            )
    except ImportFileError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from exc
    except (ServiceError, SchemaOutOfDateError) as exc:
        raise _fail(str(exc), EXIT_DATABASE) from exc
    _report_import(report)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED_ROWS)


@app.command()
def export(
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Case-insensitive text in title or description.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", dir_okay=False, help="Write to this file (default: stdout)."
        ),
    ] = None,
    database_url: str | None = _database_option,
) -> None:
    """Export the matching tickets, newest first, as CSV (the format `import` reads back).

    A file is written under a temporary name and renamed when complete, so a failed export never
    leaves a truncated file behind.
    """
    _connect(database_url)
    filters = TicketFilters(category=category, priority=priority, status=status, search=search)
    try:
        if output is None:
            for chunk in export_csv(filters):
                typer.echo(chunk, nl=False)
            return
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as out:
                count = write_csv(out, filters)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
    except ServiceError as exc:
        raise _fail(str(exc), EXIT_DATABASE) from exc
    typer.echo(f"exported {count} tickets to {output}", err=True)


@app.command()
def demo(
    count: int = typer.Option(DEFAULT_DEMO_TICKETS, min=1, help="How many tickets to generate."),
    seed: int = typer.Option(DEFAULT_DEMO_SEED, help="Random seed; the same seed, the same data."),
    database_url: str = typer.Option(
        DEMO_DATABASE_URL,
        "--database-url",
        help="Database to fill (default: its own SQLite file, never DATABASE_URL).",
    ),
) -> None:
    """Migrate a database and fill it with generated demo tickets from the last 90 days.

    Idempotent: tickets carry external ids demo-NNNNN, so running it again adds nothing.
    """
    upgrade_database(database_url)
    use_database(database_url)
    try:
        report = seed_demo(count, seed=seed)
    except ServiceError as exc:
        raise _fail(str(exc), EXIT_DATABASE) from exc
    typer.echo(
        f"demo database {database_url}: added {report.inserted} tickets "
        f"({report.already_present} were already there)"
    )
