"""Idempotency keys: a repeated `POST /api/tickets/` with the same key returns the first answer.

One row per (user, key): the SHA-256 of the validated request (a repeat with another body is
refused), the first answer's status and JSON body, the ticket it created, and when. Rows older
than 24 hours no longer count and are deleted whenever a key is stored. Written for both dialects
in the style of 0004 (a new table; the foreign keys are declared on both, SQLite does not enforce
them). The tickets table is not touched: `external_id` and its unique index exist since 0002.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEY_MAX_LENGTH = 255


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(KEY_MAX_LENGTH), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.CheckConstraint(
            f"length(idempotency_key) BETWEEN 1 AND {KEY_MAX_LENGTH}",
            name="ck_idempotency_keys_key_length",
        ),
        sa.CheckConstraint("length(request_sha256) = 64", name="ck_idempotency_keys_sha256_length"),
    )
    op.create_index(
        "ux_idempotency_keys_user_id_key",
        "idempotency_keys",
        ["user_id", "idempotency_key"],
        unique=True,
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_index("ux_idempotency_keys_user_id_key", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
