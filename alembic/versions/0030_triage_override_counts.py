"""Triage override counts kept beside the ticket counts: the dashboard stops reading every ticket.

The dashboard's "AI suggestions overridden" figure (`services.stats.triage_override_stats`)
summed two CASE expressions over every matching ticket. With no filter, or enum filters only,
that was a sequential scan of the whole table on each load and on each refresh (each change
made anywhere): 322 to 445 ms at 1,000,000 tickets (docs/performance.md).

Now `ticket_count_totals` carries, per (status, category, priority), besides `n`:

- `suggested`: tickets with a classifier suggestion (`suggested_category IS NOT NULL`);
- `overridden`: those whose category or priority differs from the suggestion (the same
  expression the stats used, so a missing suggested priority counts as not overridden).

The count triggers keep them exactly as they keep `n`, in the writer's transaction: on
PostgreSQL the statement-level triggers append them to `ticket_count_deltas` with `n` (a
delta whose `n` nets to zero is still appended when a suggestion flag changed), and the fold
adds them to the totals; on SQLite the row triggers of 0009 are recreated with the two terms
(and also fire when a suggestion changes). Both columns are filled from the tickets here, in
the same transaction as the new triggers, which lock writers out until commit (one
aggregate over `tickets`).

Downgrade restores 0022's trigger functions (PostgreSQL) or 0009's triggers (SQLite) and
drops the columns.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

KEY = "status, category, priority"
DAY_KEY = f"day, {KEY}"
PG_DAY = "(created_at AT TIME ZONE 'UTC')::date"
SQLITE_DAY = "date({row}.created_at)"
MEASURES = ("suggested", "overridden")
SUGGESTED = "CASE WHEN {row}suggested_category IS NOT NULL THEN 1 ELSE 0 END"
OVERRIDDEN = (
    "CASE WHEN {row}suggested_category IS NOT NULL AND ({row}category <> {row}suggested_category "
    "OR {row}priority <> {row}suggested_priority) THEN 1 ELSE 0 END"
)
"""1 for an overridden suggestion; NULL comparisons fall to 0, as in the stats' former SUM."""


def _pg_rows(table: str, sign: str, measures: bool) -> str:
    extra = (
        f", {sign}{SUGGESTED.format(row='')} AS suggested, "
        f"{sign}{OVERRIDDEN.format(row='')} AS overridden"
        if measures
        else ""
    )
    return f"SELECT {PG_DAY} AS day, {KEY}, {sign}1 AS n{extra} FROM {table}"


def _pg_deltas(measures: bool) -> dict[str, str]:
    sums = "sum(n) AS n" + (
        ", sum(suggested) AS suggested, sum(overridden) AS overridden" if measures else ""
    )

    def rows(*parts: tuple[str, str]) -> str:
        union = " UNION ALL ".join(_pg_rows(table, sign, measures) for table, sign in parts)
        return f"SELECT {DAY_KEY}, {sums} FROM ({union}) AS r GROUP BY {DAY_KEY}"

    return {
        "INSERT": rows(("new_rows", "+")),
        "DELETE": rows(("old_rows", "-")),
        "UPDATE": rows(("new_rows", "+"), ("old_rows", "-")),
    }


def _pg_replace_functions(measures: bool) -> None:
    """Redefine the count triggers' functions (the triggers themselves stay as 0009 made them)."""
    columns = f"{DAY_KEY}, n" + (", suggested, overridden" if measures else "")
    changed = "n <> 0" + (" OR suggested <> 0 OR overridden <> 0" if measures else "")
    for event, delta in _pg_deltas(measures).items():
        op.execute(
            f"CREATE OR REPLACE FUNCTION ticket_counts_after_{event.lower()}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ticket_count_deltas ({columns}) "
            f"SELECT {columns} FROM ({delta}) AS delta WHERE {changed}; RETURN NULL; END $$"
        )


def _sqlite_add(row: str, sign: str, measures: bool) -> str:
    """Statements adding `sign`1 for the ticket `row` (NEW or OLD) to both tables."""
    day = SQLITE_DAY.format(row=row)
    values = f"{row}.status, {row}.category, {row}.priority"
    totals = f"""
        INSERT INTO ticket_count_totals ({KEY}, n) VALUES ({values}, {sign}1)
        ON CONFLICT ({KEY}) DO UPDATE SET n = n {sign} 1;
    """
    if measures:
        suggested = SUGGESTED.format(row=f"{row}.")
        overridden = OVERRIDDEN.format(row=f"{row}.")
        totals = f"""
            INSERT INTO ticket_count_totals ({KEY}, n, suggested, overridden)
            VALUES ({values}, {sign}1, {sign}({suggested}), {sign}({overridden}))
            ON CONFLICT ({KEY}) DO UPDATE SET n = n {sign} 1,
                suggested = suggested + excluded.suggested,
                overridden = overridden + excluded.overridden;
        """
    return f"""
        INSERT INTO ticket_counts ({DAY_KEY}, n) VALUES ({day}, {values}, {sign}1)
        ON CONFLICT ({DAY_KEY}) DO UPDATE SET n = n {sign} 1;
        {totals}
    """


def _sqlite_recreate_triggers(measures: bool) -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS ticket_counts_after_{event}")
    op.execute(
        "CREATE TRIGGER ticket_counts_after_insert AFTER INSERT ON tickets "
        f"BEGIN {_sqlite_add('NEW', '+', measures)} END"
    )
    op.execute(
        "CREATE TRIGGER ticket_counts_after_delete AFTER DELETE ON tickets "
        f"BEGIN {_sqlite_add('OLD', '-', measures)} END"
    )
    watched = ["status", "category", "priority"]
    if measures:
        watched += ["suggested_category", "suggested_priority"]
    moved = " OR ".join(
        [f"OLD.{column} IS NOT NEW.{column}" for column in watched]
        + [f"{SQLITE_DAY.format(row='OLD')} IS NOT {SQLITE_DAY.format(row='NEW')}"]
    )
    op.execute(
        "CREATE TRIGGER ticket_counts_after_update "
        f"AFTER UPDATE OF {', '.join(watched)}, created_at ON tickets WHEN {moved} "
        f"BEGIN {_sqlite_add('OLD', '-', measures)} {_sqlite_add('NEW', '+', measures)} END"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("ticket_count_totals", "ticket_count_deltas"):
        for name in MEASURES:
            op.add_column(
                table, sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
            )
    if dialect == "postgresql":
        # Writers wait from here to commit: none is counted by the old functions after the
        # backfill below has read the tickets.
        op.execute("LOCK TABLE tickets IN SHARE MODE")
        _pg_replace_functions(measures=True)
    else:
        _sqlite_recreate_triggers(measures=True)
    # Every key's suggestions land on its totals row (older deltas carry none). A key only in
    # the deltas (no totals row yet) gets one with n = 0; its deltas still add the rest.
    # WHERE true keeps SQLite from reading ON CONFLICT as a join's ON.
    op.execute(
        f"INSERT INTO ticket_count_totals ({KEY}, n, suggested, overridden) "
        f"SELECT {KEY}, 0, sum({SUGGESTED.format(row='')}), sum({OVERRIDDEN.format(row='')}) "
        f"FROM tickets WHERE true GROUP BY {KEY} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET suggested = excluded.suggested, "
        "overridden = excluded.overridden"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_replace_functions(measures=False)
    else:
        _sqlite_recreate_triggers(measures=False)
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of the table would trip over the
    # count triggers naming it.
    for table in ("ticket_count_totals", "ticket_count_deltas"):
        for name in MEASURES:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
