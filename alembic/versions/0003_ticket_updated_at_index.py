"""Index tickets.updated_at so the console's change check is a single index lookup.

Every open console asks "has anything changed?" every few seconds; max(updated_at) and max(id)
answered from indexes keep that cheap with millions of tickets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_updated_at", table_name="tickets")
