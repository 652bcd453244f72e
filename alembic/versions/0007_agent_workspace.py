"""The agent workspace: requester and assignee on tickets, comments, saved views, sort keys.

Tickets gain `assignee_id` (a staff user or none), `requester_name` / `requester_email`, and
`first_public_reply_at` (when staff first answered the requester; the dashboard's median time
to first reply reads it). Two generated columns, `priority_rank` (critical 4 .. low 1) and
`status_rank` (open 4 .. closed 1), give the "critical first" and "open first" sorts a plain
column to index, so every sort pages through an index with one row-value comparison. New
columns are added with `ALTER TABLE ... ADD COLUMN` as in 0004, so SQLite keeps the table (and
its CHECK constraints) in place; SQLite can only add generated columns as VIRTUAL, PostgreSQL
stores them.

`ticket_comments` holds public replies and internal notes, with a `channel` (console, api,
email) and an optional unique `message_id`, so an e-mail channel can attach mail later.
`saved_views` holds named filter sets per staff member, optionally shared with the team.

The audit trail's kinds gain `commented` and `merged`: PostgreSQL swaps the CHECK constraint;
SQLite cannot alter a constraint, so `ticket_events` is rebuilt (copied row by row, ids kept).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACTOR_KINDS = "'user', 'token', 'intake', 'import', 'system'"
OLD_EVENT_KINDS = (
    "'created', 'changed', 'imported', 'exported', 'user_created', 'user_changed', "
    "'token_created', 'token_revoked'"
)
NEW_EVENT_KINDS = f"{OLD_EVENT_KINDS}, 'commented', 'merged'"
PRIORITY_RANK = (
    "CASE priority WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 "
    "WHEN 'low' THEN 1 ELSE 0 END"
)
STATUS_RANK = (
    "CASE status WHEN 'open' THEN 4 WHEN 'in_progress' THEN 3 WHEN 'resolved' THEN 2 "
    "WHEN 'closed' THEN 1 ELSE 0 END"
)
REQUESTER_EMAIL_CHECK = "requester_email IS NULL OR requester_email LIKE '%_@_%'"
REQUESTER_NAME_CHECK = "requester_name IS NULL OR length(trim(requester_name)) > 0"


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def _add_ticket_columns(dialect: str) -> None:
    references = " REFERENCES staff_users(id)" if dialect == "postgresql" else ""
    timestamp = "TIMESTAMP WITH TIME ZONE" if dialect == "postgresql" else "DATETIME"
    stored = "STORED" if dialect == "postgresql" else "VIRTUAL"
    statements = [
        f"ADD COLUMN assignee_id INTEGER{references}",
        "ADD COLUMN requester_name VARCHAR(100) "
        f"CONSTRAINT ck_tickets_requester_name CHECK ({REQUESTER_NAME_CHECK})",
        "ADD COLUMN requester_email VARCHAR(254) "
        f"CONSTRAINT ck_tickets_requester_email CHECK ({REQUESTER_EMAIL_CHECK})",
        f"ADD COLUMN first_public_reply_at {timestamp}",
        f"ADD COLUMN priority_rank SMALLINT GENERATED ALWAYS AS ({PRIORITY_RANK}) {stored}",
        f"ADD COLUMN status_rank SMALLINT GENERATED ALWAYS AS ({STATUS_RANK}) {stored}",
    ]
    for statement in statements:
        op.execute(f"ALTER TABLE tickets {statement}")


def _create_ticket_indexes() -> None:
    op.drop_index("ix_tickets_updated_at", table_name="tickets")
    op.create_index("ix_tickets_updated_at_id", "tickets", ["updated_at", "id"])
    op.create_index(
        "ix_tickets_assignee_id_created_at_id", "tickets", ["assignee_id", "created_at", "id"]
    )
    # "Assigned to me, open" and "Unassigned, open": the page and its capped count.
    op.create_index(
        "ix_tickets_assignee_id_status_created_at_id",
        "tickets",
        ["assignee_id", "status", "created_at", "id"],
    )
    op.create_index(
        "ix_tickets_priority_rank_created_at_id", "tickets", ["priority_rank", "created_at", "id"]
    )
    op.create_index(
        "ix_tickets_status_rank_created_at_id", "tickets", ["status_rank", "created_at", "id"]
    )


def _create_comments(dialect: str) -> None:
    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author_user_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("author_label", sa.String(254), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False, server_default="api"),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.CheckConstraint("length(trim(body)) > 0", name="ck_ticket_comments_body_not_blank"),
        sa.CheckConstraint(
            "channel IN ('console', 'api', 'email')", name="ck_ticket_comments_channel"
        ),
    )
    op.create_index("ix_ticket_comments_ticket_id_id", "ticket_comments", ["ticket_id", "id"])
    op.create_index("ux_ticket_comments_message_id", "ticket_comments", ["message_id"], unique=True)


def _create_saved_views(dialect: str) -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("query", sa.String(2000), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.CheckConstraint("length(trim(name)) > 0", name="ck_saved_views_name_not_blank"),
    )
    op.create_index(
        "ux_saved_views_owner_id_name", "saved_views", ["owner_id", "name"], unique=True
    )
    op.create_index("ix_saved_views_shared", "saved_views", ["shared"])


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
    dialect = op.get_bind().dialect.name
    _add_ticket_columns(dialect)
    _create_ticket_indexes()
    _create_comments(dialect)
    _create_saved_views(dialect)
    _allow_event_kinds(dialect, NEW_EVENT_KINDS)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DELETE FROM ticket_events WHERE kind IN ('commented', 'merged')")
    _allow_event_kinds(dialect, OLD_EVENT_KINDS)
    op.drop_table("saved_views")
    op.drop_table("ticket_comments")
    for index in (
        "ix_tickets_status_rank_created_at_id",
        "ix_tickets_priority_rank_created_at_id",
        "ix_tickets_assignee_id_status_created_at_id",
        "ix_tickets_assignee_id_created_at_id",
        "ix_tickets_updated_at_id",
    ):
        op.drop_index(index, table_name="tickets")
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"])
    for column in (
        "status_rank",
        "priority_rank",
        "first_public_reply_at",
        "requester_email",
        "requester_name",
        "assignee_id",
    ):
        op.execute(f"ALTER TABLE tickets DROP COLUMN {column}")
