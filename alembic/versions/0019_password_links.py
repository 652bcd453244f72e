"""One-time password links (invitations and resets) and the sessions' browser name.

- `password_links`: a user's one-time link that sets their password, for an `invite` or a
  `reset`; only the SHA-256 of its token is stored (unique), with when it expires and when it
  was used. Rows go with their user.
- `staff_sessions.user_agent`: the first 200 characters of the browser's `User-Agent` at sign-in,
  so "My account" can name each session; empty for sessions opened before this revision.

Both are additions (a new table, a nullable column added with a plain `ALTER TABLE ... ADD
COLUMN`), so no table is copied. Downgrade drops the table and the column (SQLite 3.35+ drops a
column in place): outstanding links stop working and the sessions forget their browser.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "password_links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name="ck_password_links_purpose"),
    )
    op.create_index("ux_password_links_token_hash", "password_links", ["token_hash"], unique=True)
    op.create_index("ix_password_links_user_id", "password_links", ["user_id"])
    op.execute("ALTER TABLE staff_sessions ADD COLUMN user_agent VARCHAR(200)")


def downgrade() -> None:
    op.execute("ALTER TABLE staff_sessions DROP COLUMN user_agent")
    op.drop_index("ix_password_links_user_id", table_name="password_links")
    op.drop_index("ux_password_links_token_hash", table_name="password_links")
    op.drop_table("password_links")
