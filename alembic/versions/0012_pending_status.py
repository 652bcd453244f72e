"""The ticket status `pending` (waiting on the requester), between `in_progress` and `resolved`.

Three things name the statuses in the schema, and each learns `pending`:

- `ck_tickets_status`, the CHECK on `tickets.status`. PostgreSQL swaps the constraint (the
  scan that validates it reads the table once). SQLite cannot alter a constraint, and rebuilding
  `tickets` (as 0007 rebuilt `ticket_events`) would copy every row and recreate its 14 indexes
  and the count triggers (0009), with five tables holding foreign keys to it; so the table's
  stored `CREATE TABLE` text is edited in place with `PRAGMA writable_schema`, the procedure
  SQLite documents for changing a CHECK constraint when the rows already on disk satisfy the new
  one (https://www.sqlite.org/lang_altertable.html#otheralter, "Making Other Kinds Of Table
  Schema Changes": edit `sqlite_schema`, then increment `schema_version`, in one transaction).
- `status_rank`, the generated column behind the "by status" sort (0007): now open 5,
  in_progress 4, pending 3, resolved 2, closed 1. Neither database can change a generated
  column's expression in place (PostgreSQL before 17), so the column and its index are dropped
  and added again: PostgreSQL rewrites `tickets` once (the column is STORED), SQLite computes it
  on read (VIRTUAL) and rebuilds the index. A "by status" cursor issued before the upgrade holds
  the old rank, so a reader paging through that sort across the upgrade may skip or repeat rows
  once; other sorts' cursors hold no rank.
- PostgreSQL's partial index for similar-ticket search (0008): pending tickets are still
  unresolved, so they are offered as similar too (`services.similarity` repeats the predicate).

The trigger-kept counts (0009) are keyed by the status text, so pending tickets are counted
without a change here.

Downgrade maps every pending ticket back to `open` (the status that still needs staff) rather
than refusing: each one gets a `changed` audit event from the system actor "migration 0012
downgrade" and a new `updated_at`, the counts follow through their triggers, and saved views
filtering on `pending` filter on `open` instead. Then the constraint, the rank and the index
are restored; the count tables drop their (then empty) pending rows.

Measured at 200,000 tickets on a loaded 2-core machine, `tickets` locked throughout: PostgreSQL
15 up 17.8 s, down (20,000 pending) 25.2 s; SQLite up 0.8 s, down 2.3 s.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_STATUS_CHECK = "status IN ('open', 'in_progress', 'resolved', 'closed')"
NEW_STATUS_CHECK = "status IN ('open', 'in_progress', 'pending', 'resolved', 'closed')"
OLD_STATUS_RANK = (
    "CASE status WHEN 'open' THEN 4 WHEN 'in_progress' THEN 3 WHEN 'resolved' THEN 2 "
    "WHEN 'closed' THEN 1 ELSE 0 END"
)
NEW_STATUS_RANK = (
    "CASE status WHEN 'open' THEN 5 WHEN 'in_progress' THEN 4 WHEN 'pending' THEN 3 "
    "WHEN 'resolved' THEN 2 WHEN 'closed' THEN 1 ELSE 0 END"
)
OLD_SIMILAR_CANDIDATE = "status IN ('open', 'in_progress') AND duplicate_of_id IS NULL"
NEW_SIMILAR_CANDIDATE = "status IN ('open', 'in_progress', 'pending') AND duplicate_of_id IS NULL"
DOWNGRADE_ACTOR = "migration 0012 downgrade"


def _sqlite_replace_check(old: str, new: str) -> None:
    """Swap the CHECK text `old` for `new` in the stored definition of `tickets` (SQLite only).

    Only valid when every stored row satisfies `new`. Raises RuntimeError, changing nothing,
    unless the definition holds `old` exactly once.
    """
    bind = op.get_bind()
    table_sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tickets'")
    ).scalar_one()
    old_constraint = f"CONSTRAINT ck_tickets_status CHECK ({old})"
    if table_sql.count(old_constraint) != 1:
        raise RuntimeError(f"tickets is not defined with {old_constraint!r}; not changed")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'tickets'"),
        {"sql": table_sql.replace(old_constraint, f"CONSTRAINT ck_tickets_status CHECK ({new})")},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def _replace_check(dialect: str, old: str, new: str) -> None:
    if dialect == "sqlite":
        _sqlite_replace_check(old, new)
        return
    op.execute("ALTER TABLE tickets DROP CONSTRAINT ck_tickets_status")
    op.execute(f"ALTER TABLE tickets ADD CONSTRAINT ck_tickets_status CHECK ({new})")


def _replace_status_rank(dialect: str, rank: str) -> None:
    stored = "STORED" if dialect == "postgresql" else "VIRTUAL"
    op.execute("DROP INDEX ix_tickets_status_rank_created_at_id")
    op.execute("ALTER TABLE tickets DROP COLUMN status_rank")
    op.execute(
        f"ALTER TABLE tickets ADD COLUMN status_rank SMALLINT GENERATED ALWAYS AS ({rank}) {stored}"
    )
    op.execute(
        "CREATE INDEX ix_tickets_status_rank_created_at_id ON tickets (status_rank, created_at, id)"
    )


def _replace_similarity_index(candidate: str) -> None:
    """PostgreSQL's partial GIN index of similar-ticket candidates, as 0008 builds it."""
    op.execute("DROP INDEX ix_tickets_similarity_vector")
    op.execute(
        "CREATE INDEX ix_tickets_similarity_vector ON tickets USING gin (similarity_vector) "
        f"WITH (fastupdate = off) WHERE {candidate}"
    )


def _reopen_pending(dialect: str) -> None:
    """Every pending ticket becomes open, with its audit event; saved views follow."""
    now = "strftime('%Y-%m-%d %H:%M:%f000', 'now')" if dialect == "sqlite" else "CURRENT_TIMESTAMP"
    op.execute(
        "INSERT INTO ticket_events (ticket_id, actor_kind, actor_label, created_at, kind, field, "
        f"old_value, new_value) SELECT id, 'system', '{DOWNGRADE_ACTOR}', {now}, 'changed', "
        "'status', 'pending', 'open' FROM tickets WHERE status = 'pending'"
    )
    op.execute(f"UPDATE tickets SET status = 'open', updated_at = {now} WHERE status = 'pending'")
    # The triggers moved every count to `open`, leaving zero rows the old status list lacks.
    op.execute("DELETE FROM ticket_counts WHERE status = 'pending'")
    op.execute("DELETE FROM ticket_count_totals WHERE status = 'pending'")
    # Saved views hold canonical JSON (no spaces), in which this text is only ever the filter.
    op.execute(
        'UPDATE saved_views SET query = replace(query, \'"status":"pending"\', \'"status":"open"\')'
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _replace_check(dialect, OLD_STATUS_CHECK, NEW_STATUS_CHECK)
    _replace_status_rank(dialect, NEW_STATUS_RANK)
    if dialect == "postgresql":
        _replace_similarity_index(NEW_SIMILAR_CANDIDATE)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _reopen_pending(dialect)
    _replace_check(dialect, NEW_STATUS_CHECK, OLD_STATUS_CHECK)
    _replace_status_rank(dialect, OLD_STATUS_RANK)
    if dialect == "postgresql":
        _replace_similarity_index(OLD_SIMILAR_CANDIDATE)
