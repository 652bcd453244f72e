"""The `import` and `export` commands: tickets from and to CSV or JSON Lines files."""

from __future__ import annotations

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

from ticket_app.cli.common import (
    CLI_ACTOR,
    EXIT_BAD_INPUT,
    EXIT_DATABASE,
    EXIT_REJECTED_ROWS,
    database_option,
    fail,
)
from ticket_app.cli.database import connect
from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import TicketFilters
from ticket_app.services.errors import ServiceError
from ticket_app.services.export_files import export_to_file
from ticket_app.services.exporter import export_csv
from ticket_app.services.imports.read import ImportFileError, parse_column_map
from ticket_app.services.imports.runs import import_file
from ticket_app.services.imports.write import (
    DEFAULT_BATCH_SIZE,
    ImportReport,
    SchemaOutOfDateError,
    check_schema,
)
from ticket_app.services.tickets import record_export

MAX_ERRORS_SHOWN = 50


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
    allow_duplicates: bool = typer.Option(
        False,
        "--allow-duplicates",
        help="Import a file again even though an earlier import of the same bytes wrote "
        "tickets and rows without an external_id would be stored twice.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    database_url: str | None = database_option,
) -> None:
    """Import tickets from a CSV or JSON Lines file; bad rows are reported by line and skipped."""
    try:
        columns = parse_column_map(mapping or [])
    except ValueError as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from exc
    connect(database_url)
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
                allow_duplicates=allow_duplicates,
            )
    except ImportFileError as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from exc
    except (ServiceError, SchemaOutOfDateError) as exc:
        raise fail(str(exc), EXIT_DATABASE) from exc
    _report_import(report)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED_ROWS)


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
            "--output",
            "-o",
            dir_okay=False,
            help="Write to this file (default, or '-': stdout).",
        ),
    ] = None,
    database_url: str | None = database_option,
) -> None:
    """Export the matching tickets, newest first, as CSV (the format `import` reads back).

    A file is written under a hidden temporary name and renamed when complete, so a failed or
    killed export never leaves a truncated file behind; a temporary file left by a killed
    export is removed by the next export to the same file. The export is recorded in the audit
    trail (actor `cli`).
    """
    connect(database_url)
    filters = TicketFilters(category=category, priority=priority, status=status, search=search)
    try:
        record_export(filters, actor=CLI_ACTOR)
        if output is None or str(output) == "-":
            for chunk in export_csv(filters):
                typer.echo(chunk, nl=False)
            return
        count = export_to_file(output, filters)
    except ServiceError as exc:
        raise fail(str(exc), EXIT_DATABASE) from exc
    typer.echo(f"exported {count} tickets to {output}", err=True)
