"""The "due soonest" sort: `tickets.sla_order_at`, the nearest due instant or 9999-12-31.

`sla_due_at` is NULL for a ticket with no running target, and a keyset page cannot step across
NULLs with one row-value comparison; this column holds the same instant, or 9999-12-31 UTC
when nothing runs, so `ORDER BY sla_order_at, id` pages through one index
(`ix_tickets_sla_order_at_id`). The service layer keeps it next to `sla_due_at`; existing
tickets get it from `sla_due_at` in one UPDATE.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NO_DUE = {"sqlite": "'9999-12-31 00:00:00.000000'", "postgresql": "'9999-12-31 00:00:00+00'"}


def upgrade() -> None:
    """Add the column (9999-12-31 for every row), copy the due instants, index it."""
    dialect = op.get_bind().dialect.name
    op.add_column(
        "tickets",
        sa.Column(
            "sla_order_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text(NO_DUE[dialect]),
        ),
    )
    op.execute("UPDATE tickets SET sla_order_at = sla_due_at WHERE sla_due_at IS NOT NULL")
    op.create_index("ix_tickets_sla_order_at_id", "tickets", ["sla_order_at", "id"])


def downgrade() -> None:
    """Drop the index and the column (the due instants stay in `sla_due_at`)."""
    op.drop_index("ix_tickets_sla_order_at_id", table_name="tickets")
    op.drop_column("tickets", "sla_order_at")
