"""Interrupted work can be told apart: interrupted exports, and import runs that were killed.

The audit trail's kinds gain `export_interrupted`. An export used to be recorded as `exported`
before its first byte was sent, so a download cut off mid-stream looked complete in the trail;
it is now recorded when it ends, as `exported` or `export_interrupted`. PostgreSQL swaps the
CHECK constraint; SQLite cannot alter a constraint, so `ticket_events` is rebuilt (copied row
by row, ids kept), as in 0007.

`import_runs` gains `heartbeat_at`, the last sign of life of a running import: a run whose
process was killed stayed `running` forever; one silent for too long is now marked `failed`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ACTOR_KINDS = "'user', 'token', 'intake', 'import', 'system'"
OLD_EVENT_KINDS = (
    "'created', 'changed', 'imported', 'exported', 'user_created', 'user_changed', "
    "'token_created', 'token_revoked', 'commented', 'merged'"
)
NEW_EVENT_KINDS = f"{OLD_EVENT_KINDS}, 'export_interrupted'"


def _rebuild_sqlite_events(kinds: str) -> None:
    """Copy `ticket_events` into a table whose kind CHECK allows `kinds` (SQLite only)."""
    op.execute(
        f"""
        CREATE TABLE ticket_events_rebuilt (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            ticket_id INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
            actor_kind VARCHAR(20) NOT NULL,
            actor_user_id INTEGER REFERENCES staff_users (id),
            actor_token_id INTEGER REFERENCES api_tokens (id),
            actor_label VARCHAR(254) NOT NULL,
            created_at DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL,
            kind VARCHAR(30) NOT NULL,
            field VARCHAR(40),
            old_value TEXT,
            new_value TEXT,
            CONSTRAINT ck_ticket_events_actor_kind CHECK (actor_kind IN ({ACTOR_KINDS})),
            CONSTRAINT ck_ticket_events_kind CHECK (kind IN ({kinds}))
        )
        """
    )
    op.execute(
        "INSERT INTO ticket_events_rebuilt (id, ticket_id, actor_kind, actor_user_id, "
        "actor_token_id, actor_label, created_at, kind, field, old_value, new_value) "
        "SELECT id, ticket_id, actor_kind, actor_user_id, actor_token_id, actor_label, "
        "created_at, kind, field, old_value, new_value FROM ticket_events"
    )
    op.execute("DROP TABLE ticket_events")
    op.execute("ALTER TABLE ticket_events_rebuilt RENAME TO ticket_events")
    op.create_index("ix_ticket_events_ticket_id_id", "ticket_events", ["ticket_id", "id"])


def _allow_event_kinds(dialect: str, kinds: str) -> None:
    if dialect == "sqlite":
        _rebuild_sqlite_events(kinds)
        return
    op.execute("ALTER TABLE ticket_events DROP CONSTRAINT ck_ticket_events_kind")
    op.execute(
        f"ALTER TABLE ticket_events ADD CONSTRAINT ck_ticket_events_kind CHECK (kind IN ({kinds}))"
    )


def upgrade() -> None:
    _allow_event_kinds(op.get_bind().dialect.name, NEW_EVENT_KINDS)
    op.add_column(
        "import_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("import_runs", "heartbeat_at")
    op.execute("DELETE FROM ticket_events WHERE kind = 'export_interrupted'")
    _allow_event_kinds(op.get_bind().dialect.name, OLD_EVENT_KINDS)
