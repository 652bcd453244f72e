"""Staff users, sessions, API tokens and the ticket audit trail; tickets record their creator.

Written for both dialects. The new tickets columns are added with a plain `ALTER TABLE ... ADD
COLUMN`, so SQLite does not copy the table (a batch copy could drop its CHECK constraints).
PostgreSQL gets the foreign keys to staff_users; SQLite does not enforce foreign keys here (and
could not drop a referencing column on downgrade), so its columns are plain. Existing tickets keep
every value; their `created_by` and `labels_confirmed_by` stay empty, because nobody signed in when
they were made, so they no longer train the team model until staff confirm them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLES = "'admin', 'agent', 'viewer'"
ACTOR_KINDS = "'user', 'token', 'intake', 'import', 'system'"
EVENT_KINDS = (
    "'created', 'changed', 'imported', 'exported', 'user_created', 'user_changed', "
    "'token_created', 'token_revoked'"
)


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    def created_at() -> sa.Column:
        return sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("password_hash", sa.String(255), nullable=False),
        created_at(),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"role IN ({ROLES})", name="ck_staff_users_role"),
        sa.CheckConstraint("email = lower(email)", name="ck_staff_users_email_lower"),
        sa.CheckConstraint("length(trim(email)) > 0", name="ck_staff_users_email_not_blank"),
        sa.CheckConstraint("length(trim(name)) > 0", name="ck_staff_users_name_not_blank"),
    )
    op.create_index("ux_staff_users_email", "staff_users", ["email"], unique=True)

    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        created_at(),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ux_staff_sessions_token_hash", "staff_sessions", ["token_hash"], unique=True)
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(trim(name)) > 0", name="ck_api_tokens_name_not_blank"),
        sa.CheckConstraint("length(trim(scopes)) > 0", name="ck_api_tokens_scopes_not_blank"),
    )
    op.create_index("ux_api_tokens_token_hash", "api_tokens", ["token_hash"], unique=True)
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("actor_token_id", sa.Integer(), sa.ForeignKey("api_tokens.id"), nullable=True),
        sa.Column("actor_label", sa.String(254), nullable=False),
        created_at(),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("field", sa.String(40), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.CheckConstraint(f"actor_kind IN ({ACTOR_KINDS})", name="ck_ticket_events_actor_kind"),
        sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name="ck_ticket_events_kind"),
    )
    op.create_index("ix_ticket_events_ticket_id_id", "ticket_events", ["ticket_id", "id"])

    references = " REFERENCES staff_users(id)" if dialect == "postgresql" else ""
    for column in ("created_by", "labels_confirmed_by"):
        op.execute(f"ALTER TABLE tickets ADD COLUMN {column} INTEGER{references}")


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN labels_confirmed_by")
    op.execute("ALTER TABLE tickets DROP COLUMN created_by")
    op.drop_table("ticket_events")
    op.drop_table("api_tokens")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
