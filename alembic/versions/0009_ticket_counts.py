"""Ticket counts kept by triggers: constant-time stats and enum-filtered totals.

`ticket_counts` holds how many tickets have each (status, category, priority) per UTC creation
day; `ticket_count_totals` the same over all days (at most 64 rows), so the stats and
`X-Total-Count` for any combination of enum filters read a handful of rows instead of the
whole table. Triggers on `tickets` keep both exact in the same transaction as every write,
whoever makes it (service layer, import, a person with psql):

- PostgreSQL: statement-level AFTER INSERT / UPDATE / DELETE triggers with transition tables,
  so an import batch or a COPY of a million rows adds one aggregated delta rather than a
  million single-row upserts. Each applies its delta as one upsert per table in key order, so
  concurrent single-statement writers lock count rows in the same order and cannot deadlock.
  AFTER TRUNCATE empties both tables.
- SQLite (row-level triggers only; one writer at a time anyway): +1 / -1 per row.

Both tables are filled from the existing tickets here. `python -m ticket_app counts rebuild`
recomputes them should they ever drift (e.g. triggers disabled for a bulk load).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEY = "status, category, priority"
DAY_KEY = f"day, {KEY}"
PG_DAY = "(created_at AT TIME ZONE 'UTC')::date"
SQLITE_DAY = "date({row}.created_at)"


def _create_tables() -> None:
    op.create_table(
        "ticket_counts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("status", sa.String(20), primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("priority", sa.String(20), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "ticket_count_totals",
        sa.Column("status", sa.String(20), primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("priority", sa.String(20), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )


def _pg_apply(delta: str) -> str:
    """PL/pgSQL statements adding `delta` (day, status, category, priority, n) to both tables."""
    return f"""
        INSERT INTO ticket_counts AS c ({DAY_KEY}, n)
        SELECT {DAY_KEY}, n FROM ({delta}) AS delta WHERE n <> 0
        ORDER BY {DAY_KEY}
        ON CONFLICT ({DAY_KEY}) DO UPDATE SET n = c.n + EXCLUDED.n;
        INSERT INTO ticket_count_totals AS t ({KEY}, n)
        SELECT {KEY}, sum(n) FROM ({delta}) AS delta GROUP BY {KEY} HAVING sum(n) <> 0
        ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET n = t.n + EXCLUDED.n;
    """


def _pg_rows(table: str, sign: str) -> str:
    return f"SELECT {PG_DAY} AS day, {KEY}, {sign}1 AS n FROM {table}"


PG_DELTAS = {
    "INSERT": f"SELECT {DAY_KEY}, sum(n) AS n FROM ({_pg_rows('new_rows', '+')}) AS r "
    f"GROUP BY {DAY_KEY}",
    "DELETE": f"SELECT {DAY_KEY}, sum(n) AS n FROM ({_pg_rows('old_rows', '-')}) AS r "
    f"GROUP BY {DAY_KEY}",
    "UPDATE": f"SELECT {DAY_KEY}, sum(n) AS n FROM ({_pg_rows('new_rows', '+')} UNION ALL "
    f"{_pg_rows('old_rows', '-')}) AS r GROUP BY {DAY_KEY}",
}
PG_REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _create_pg_triggers() -> None:
    for event, delta in PG_DELTAS.items():
        name = f"ticket_counts_after_{event.lower()}"
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_pg_apply(delta)} RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON tickets {PG_REFERENCING[event]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    op.execute(
        "CREATE FUNCTION ticket_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM ticket_counts; DELETE FROM ticket_count_totals; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER ticket_counts_after_truncate AFTER TRUNCATE ON tickets "
        "FOR EACH STATEMENT EXECUTE FUNCTION ticket_counts_after_truncate()"
    )


def _sqlite_add(row: str, sign: str) -> str:
    """Statements adding `sign`1 for the ticket `row` (NEW or OLD) to both tables."""
    day = SQLITE_DAY.format(row=row)
    values = f"{row}.status, {row}.category, {row}.priority"
    return f"""
        INSERT INTO ticket_counts ({DAY_KEY}, n) VALUES ({day}, {values}, {sign}1)
        ON CONFLICT ({DAY_KEY}) DO UPDATE SET n = n {sign} 1;
        INSERT INTO ticket_count_totals ({KEY}, n) VALUES ({values}, {sign}1)
        ON CONFLICT ({KEY}) DO UPDATE SET n = n {sign} 1;
    """


def _create_sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER ticket_counts_after_insert AFTER INSERT ON tickets "
        f"BEGIN {_sqlite_add('NEW', '+')} END"
    )
    op.execute(
        "CREATE TRIGGER ticket_counts_after_delete AFTER DELETE ON tickets "
        f"BEGIN {_sqlite_add('OLD', '-')} END"
    )
    moved = " OR ".join(
        [f"OLD.{column} IS NOT NEW.{column}" for column in ("status", "category", "priority")]
        + [f"{SQLITE_DAY.format(row='OLD')} IS NOT {SQLITE_DAY.format(row='NEW')}"]
    )
    op.execute(
        "CREATE TRIGGER ticket_counts_after_update "
        f"AFTER UPDATE OF {KEY}, created_at ON tickets WHEN {moved} "
        f"BEGIN {_sqlite_add('OLD', '-')} {_sqlite_add('NEW', '+')} END"
    )


def _backfill(dialect: str) -> None:
    day = PG_DAY if dialect == "postgresql" else "date(created_at)"
    op.execute(
        f"INSERT INTO ticket_counts ({DAY_KEY}, n) "
        f"SELECT {day}, {KEY}, count(*) FROM tickets GROUP BY {day}, {KEY}"
    )
    op.execute(
        f"INSERT INTO ticket_count_totals ({KEY}, n) "
        f"SELECT {KEY}, count(*) FROM tickets GROUP BY {KEY}"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _create_tables()
    # Triggers first, then the backfill, in one transaction: on PostgreSQL CREATE TRIGGER
    # holds a lock that keeps writers out until commit, so no ticket is counted twice or never.
    if dialect == "postgresql":
        _create_pg_triggers()
    else:
        _create_sqlite_triggers()
    _backfill(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for event in ("insert", "update", "delete", "truncate"):
        name = f"ticket_counts_after_{event}"
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON tickets")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("ticket_count_totals")
    op.drop_table("ticket_counts")
