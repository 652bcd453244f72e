"""Create the tickets table with its constraints and indexes.

Written by hand for both dialects: SQLite gets a timestamp default in the same text format
SQLAlchemy writes (so ordering compares like with like); PostgreSQL gets pg_trgm GIN indexes so
substring search on title and description is index-backed.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TITLE_MAX_LENGTH = 200
# A migration is a frozen record of the schema, so it spells its constraints out instead of
# importing them from the models (which may change later).
CHECKS = {
    "ck_tickets_title_length": "length(title) BETWEEN 1 AND 200",
    "ck_tickets_title_not_blank": "length(trim(title)) > 0",
    "ck_tickets_description_not_blank": "length(trim(description)) > 0",
    "ck_tickets_category": "category IN ('billing', 'technical', 'account', 'general')",
    "ck_tickets_priority": "priority IN ('low', 'medium', 'high', 'critical')",
    "ck_tickets_status": "status IN ('open', 'in_progress', 'resolved', 'closed')",
    "ck_tickets_suggested_category": (
        "suggested_category IS NULL OR "
        "suggested_category IN ('billing', 'technical', 'account', 'general')"
    ),
    "ck_tickets_suggested_priority": (
        "suggested_priority IS NULL OR suggested_priority IN ('low', 'medium', 'high', 'critical')"
    ),
}


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(TITLE_MAX_LENGTH), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("suggested_category", sa.String(20), nullable=True),
        sa.Column("suggested_priority", sa.String(20), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        *(sa.CheckConstraint(sql, name=name) for name, sql in CHECKS.items()),
    )
    op.create_index("ix_tickets_created_at_id", "tickets", ["created_at", "id"])
    op.create_index("ix_tickets_status_created_at_id", "tickets", ["status", "created_at", "id"])
    op.create_index(
        "ix_tickets_category_created_at_id", "tickets", ["category", "created_at", "id"]
    )
    op.create_index(
        "ix_tickets_priority_created_at_id", "tickets", ["priority", "created_at", "id"]
    )
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_tickets_title_trgm ON tickets USING gin (title gin_trgm_ops)")
        op.execute(
            "CREATE INDEX ix_tickets_description_trgm ON tickets "
            "USING gin (description gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_tickets_description_trgm", table_name="tickets")
        op.drop_index("ix_tickets_title_trgm", table_name="tickets")
    op.drop_table("tickets")
