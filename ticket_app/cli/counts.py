"""The `counts` commands: the ticket counts behind the stats and list totals, rebuilt."""

from __future__ import annotations

import typer

from ticket_app.cli.common import Command, Group, database_option, print_table, service_errors
from ticket_app.cli.database import connect_migrated
from ticket_app.services import counts

counts_app = typer.Typer(
    help="The ticket and tag counts behind the stats and list totals: rebuild.", cls=Group
)


@counts_app.command("rebuild", cls=Command)
def counts_rebuild(database_url: str | None = database_option) -> None:
    """Recompute the ticket and tag counts behind the stats and list totals; say what was wrong.

    Database triggers keep the counts exact, so normally nothing is: each count that differed
    is printed (table, key, stored, actual). Ticket writes wait while it runs (about a second
    per million tickets); reads go on.
    """
    connect_migrated(database_url, "ticket_counts")
    with service_errors():
        result = counts.rebuild_counts()
    if result.fixes:
        print_table(
            ["TABLE", "KEY", "STORED", "ACTUAL"],
            [
                [fix.table, "/".join(fix.key), str(fix.stored), str(fix.actual)]
                for fix in result.fixes
            ],
        )
    verdict = f"fixed {len(result.fixes)} counts" if result.fixes else "every count was exact"
    typer.echo(
        f"{verdict}; {result.rows} (day, status, category, priority) rows now, "
        f"{result.tag_rows} (tag, status, category, priority) rows, "
        f"{result.empty_rows_removed} empty rows removed"
    )
