"""Count deltas: ticket writers on PostgreSQL no longer queue on the shared count rows.

Before: the statement-level count triggers of 0009 upserted `ticket_counts` and
`ticket_count_totals` in the writer's transaction. Two writers touching tickets of the same
(status, category, priority) both updated the same total row, so the second waited (a
`transactionid` lock) until the first committed: concurrent creates and PATCHes serialized,
and the upserts cost 0.13-0.16 ms a statement warm (6.5 ms on a connection's first call).

Now (PostgreSQL) the same triggers append the statement's aggregated delta to
`ticket_count_deltas`, an insert-only table: no row is shared between writers, so none waits,
and the append costs 0.02 ms. A count is its row in `ticket_counts` / `ticket_count_totals`
plus its pending deltas; `services.stats.fold_count_deltas` moves the deltas into the count
tables in one transaction (every minute on the worker, and on read once more than a few
hundred are pending), so readers add at most that many rows. TRUNCATE empties the deltas too.

SQLite keeps its row-level triggers updating the counts directly (one writer at a time, so
nothing to queue on); its `ticket_count_deltas` stays empty and readers add nothing.

Indexes on `tickets` (24 at 0020 on PostgreSQL, every non-HOT UPDATE writes all of them, and a
PATCH is never HOT: `status` and `updated_at` are indexed):

- `ix_tickets_status_created_at_id` and `ix_tickets_priority_created_at_id` are dropped: each
  duplicated `ix_tickets_status_rank_created_at_id` / `ix_tickets_priority_rank_created_at_id`
  (0007, 0012), whose rank is a one-to-one function of the column. The list filters now also
  say the rank (`services.ticket_query`, `models.RANKED_COLUMNS`), so `status=open` newest
  first walks the rank index the same way (EXPLAIN in docs/performance.md); nothing else
  filtered on these columns in `created_at` order.
- The GIN indexes (trigram on title and description, full text) keep their pending lists
  (`fastupdate = on`, 4 MB). With it every UPDATE appends its ~400 entries there and the
  request that fills the list merges it (the 0.2-0.9 s UPDATEs seen at 4 clients); without
  it each UPDATE writes its entries into the index itself. Measured at 1,000,000 tickets
  (1,500 single-ticket status UPDATEs, load 24-28, docs/performance.md): on, p50 16 ms, p99
  60 ms, max 672 ms; off, p50 32 ms, p99 121 ms, max 322 ms. Off halves the worst case and
  doubles everything else, so the pending lists stay as they are.

Downgrade folds the pending deltas into the count tables and restores 0009's triggers and the
two indexes.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

KEY = "status, category, priority"
DAY_KEY = f"day, {KEY}"
MERGED_INDEXES = {
    "ix_tickets_status_created_at_id": ["status", "created_at", "id"],
    "ix_tickets_priority_created_at_id": ["priority", "created_at", "id"],
}
PG_DAY = "(created_at AT TIME ZONE 'UTC')::date"


def _pg_rows(table: str, sign: str) -> str:
    return f"SELECT {PG_DAY} AS day, {KEY}, {sign}1 AS n FROM {table}"


# A statement's change per (day, key), from its transition tables (as in 0009).
PG_DELTAS = {
    "INSERT": f"SELECT {DAY_KEY}, sum(n) AS n FROM ({_pg_rows('new_rows', '+')}) AS r "
    f"GROUP BY {DAY_KEY}",
    "DELETE": f"SELECT {DAY_KEY}, sum(n) AS n FROM ({_pg_rows('old_rows', '-')}) AS r "
    f"GROUP BY {DAY_KEY}",
    "UPDATE": f"SELECT {DAY_KEY}, sum(n) AS n FROM ({_pg_rows('new_rows', '+')} UNION ALL "
    f"{_pg_rows('old_rows', '-')}) AS r GROUP BY {DAY_KEY}",
}

FOLD = f"""
    WITH moved AS (DELETE FROM ticket_count_deltas RETURNING {DAY_KEY}, n),
    per_day AS (SELECT {DAY_KEY}, sum(n) AS n FROM moved GROUP BY {DAY_KEY}),
    days AS (
        INSERT INTO ticket_counts AS c ({DAY_KEY}, n)
        SELECT {DAY_KEY}, n FROM per_day WHERE n <> 0 ORDER BY {DAY_KEY}
        ON CONFLICT ({DAY_KEY}) DO UPDATE SET n = c.n + EXCLUDED.n
    )
    INSERT INTO ticket_count_totals AS t ({KEY}, n)
    SELECT {KEY}, sum(n) FROM per_day GROUP BY {KEY} HAVING sum(n) <> 0 ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE SET n = t.n + EXCLUDED.n
"""
"""Every pending delta moved into the count tables, in one statement (used on downgrade)."""


def _pg_append(delta: str) -> str:
    return (
        f"INSERT INTO ticket_count_deltas ({DAY_KEY}, n) "
        f"SELECT {DAY_KEY}, n FROM ({delta}) AS delta WHERE n <> 0;"
    )


def _pg_upsert(delta: str) -> str:
    """0009's body: `delta` added to both count tables, rows locked in key order."""
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


def _pg_replace_functions(body: Callable[[str], str], truncate: str) -> None:
    """Redefine the count triggers' functions (the triggers themselves stay as 0009 made them)."""
    for event, delta in PG_DELTAS.items():
        op.execute(
            f"CREATE OR REPLACE FUNCTION ticket_counts_after_{event.lower()}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {body(delta)} RETURN NULL; END $$"
        )
    op.execute(
        "CREATE OR REPLACE FUNCTION ticket_counts_after_truncate() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {truncate} RETURN NULL; END $$"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "ticket_count_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    for name in MERGED_INDEXES:
        op.drop_index(name, table_name="tickets")
    if dialect == "postgresql":
        _pg_replace_functions(
            _pg_append,
            "DELETE FROM ticket_counts; DELETE FROM ticket_count_totals; "
            "DELETE FROM ticket_count_deltas;",
        )


def downgrade() -> None:
    for name, columns in MERGED_INDEXES.items():
        op.create_index(name, "tickets", columns)
    if op.get_bind().dialect.name == "postgresql":
        # Writers wait from here to commit, so no delta lands after the fold.
        op.execute("LOCK TABLE tickets IN SHARE MODE")
        _pg_replace_functions(
            _pg_upsert, "DELETE FROM ticket_counts; DELETE FROM ticket_count_totals;"
        )
        op.execute(FOLD)
    op.drop_table("ticket_count_deltas")
