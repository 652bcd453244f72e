"""Add tickets.external_id: the id a ticket had in the system it was imported from.

Nullable VARCHAR(200) with a unique index, so a re-run of an import skips the rows it already
stored (`INSERT ... ON CONFLICT (external_id) DO NOTHING`); NULLs never conflict, so tickets
created in the app need no id. Written for both dialects: the batch context adds the column with
a plain ALTER on SQLite (no table copy); the downgrade drops the index first and then the column
with SQLite's native DROP COLUMN (3.35+), which keeps the table's CHECK constraints untouched.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EXTERNAL_ID_MAX_LENGTH = 200


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("external_id", sa.String(EXTERNAL_ID_MAX_LENGTH), nullable=True))
        batch.create_index("ux_tickets_external_id", ["external_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_tickets_external_id", table_name="tickets")
    op.execute("ALTER TABLE tickets DROP COLUMN external_id")
