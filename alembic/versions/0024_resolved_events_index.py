"""A partial index on the time of status changes into resolved or closed; view deletions audited.

The dashboard's created-versus-resolved chart counts, per day of a period, the audit events
that moved a ticket into resolved or closed. The trail holds every change of every ticket, so
without an index that count reads the whole `ticket_events` table; this partial index holds
only those status changes, by time, so a period's count reads the period's rows. Both
databases support partial indexes; the predicate is written with literals, as the service's
query repeats it (SQLite uses a partial index only then).

`ck_ticket_events_kind` learns `view_deleted` and `view_restored` (deleting a saved view, and
its undo, are audited). As in 0020 the CHECK is extended from what the database holds now:
PostgreSQL swaps the constraint; SQLite edits the table's stored `CREATE TABLE` text in place
(`PRAGMA writable_schema`), valid because every stored row satisfies the wider CHECK; on
downgrade the events of the two kinds are deleted first. No table is copied.

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from alembic import op

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None

INDEX = "ix_ticket_events_resolved_at"
# As models.audit.RESOLVED_EVENT_PREDICATE when this revision was written (a migration keeps
# its own copy: the model may change later).
PREDICATE = (
    "ticket_events.kind = 'changed' AND ticket_events.field = 'status' "
    "AND ticket_events.new_value IN ('resolved', 'closed')"
)

EVENT_CHECK = ("ticket_events", "ck_ticket_events_kind")
ADDED_KINDS = ("view_deleted", "view_restored")


def _sqlite_check(table: str, constraint: str) -> tuple[str, str]:
    """`table`'s stored CREATE TABLE text and the `CONSTRAINT ... CHECK (kind IN (...))` in it.

    Raises RuntimeError unless the text holds that constraint exactly once.
    """
    table_sql = (
        op.get_bind()
        .execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": table},
        )
        .scalar_one()
    )
    found = re.findall(rf"CONSTRAINT {constraint} CHECK \(kind IN \([^)]*\)\)", table_sql)
    if len(found) != 1:
        raise RuntimeError(f"{table} does not define {constraint} as kind IN (...); not changed")
    return table_sql, found[0]


def _current_kinds(dialect: str, table: str, constraint: str) -> list[str]:
    """The kinds `constraint` on `table` allows now, in their stored order."""
    if dialect == "sqlite":
        definition = _sqlite_check(table, constraint)[1]
    else:
        definition = (
            op.get_bind()
            .execute(
                sa.text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conname = :name AND conrelid = CAST(:table AS regclass)"
                ),
                {"name": constraint, "table": table},
            )
            .scalar_one()
        )
    return re.findall(r"'([a-z_]+)'", definition)


def _set_kinds(dialect: str, table: str, constraint: str, kinds: list[str]) -> None:
    """Make `constraint` on `table` allow exactly `kinds` (rows must already satisfy it)."""
    check = f"CONSTRAINT {constraint} CHECK (kind IN ({', '.join(repr(k) for k in kinds)}))"
    if dialect != "sqlite":
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
        op.execute(f"ALTER TABLE {table} ADD {check}")
        return
    bind = op.get_bind()
    table_sql, old = _sqlite_check(table, constraint)
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": table_sql.replace(old, check), "name": table},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    """Create the partial index; widen the audit kinds' CHECK."""
    dialect = op.get_bind().dialect.name
    current = _current_kinds(dialect, *EVENT_CHECK)
    _set_kinds(dialect, *EVENT_CHECK, [*current, *(k for k in ADDED_KINDS if k not in current)])
    op.create_index(
        INDEX,
        "ticket_events",
        ["created_at"],
        sqlite_where=sa.text(PREDICATE),
        postgresql_where=sa.text(PREDICATE),
    )


def downgrade() -> None:
    """Drop the index; delete the events of the added kinds and narrow the CHECK."""
    dialect = op.get_bind().dialect.name
    op.drop_index(INDEX, table_name="ticket_events")
    listed = ", ".join(repr(kind) for kind in ADDED_KINDS)
    op.execute(f"DELETE FROM ticket_events WHERE kind IN ({listed})")
    current = _current_kinds(dialect, *EVENT_CHECK)
    _set_kinds(dialect, *EVENT_CHECK, [k for k in current if k not in ADDED_KINDS])
