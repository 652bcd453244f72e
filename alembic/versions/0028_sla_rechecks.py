"""`sla_rechecks`: a policy or calendar edit queues its tickets instead of writing them.

Before, an edit marked every affected unclosed ticket for the background check with one UPDATE
in the admin's request. At 1,000,000 tickets that UPDATE rewrote a quarter of the table through
every index of `tickets` and ran into the 5 s statement timeout, so the edit failed
(docs/performance.md, "Policy edits at a million tickets"). Now the edit inserts one row here,
naming the tickets by scope (priority, category, calendar), and the background check walks
them in id order, keeping its place in `after_id`.

Both dialects: a plain table. Downgrade drops it; its pending rechecks are then lost, and the
tickets they named keep their due times until each one's next write.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

PRIORITIES = "'low', 'medium', 'high', 'critical'"
CATEGORIES = "'billing', 'technical', 'account', 'general'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        now = sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    else:
        now = sa.text("CURRENT_TIMESTAMP")
    op.create_table(
        "sla_rechecks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("priority", sa.String(20), nullable=True),
        sa.Column("category", sa.String(20), nullable=True),
        sa.Column(
            "calendar_id",
            sa.Integer(),
            sa.ForeignKey("sla_calendars.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("after_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.CheckConstraint("length(trim(reason)) > 0", name="ck_sla_rechecks_reason_not_blank"),
        sa.CheckConstraint(
            f"priority IS NULL OR priority IN ({PRIORITIES})", name="ck_sla_rechecks_priority"
        ),
        sa.CheckConstraint(
            f"category IS NULL OR category IN ({CATEGORIES})", name="ck_sla_rechecks_category"
        ),
        sa.CheckConstraint("after_id >= 0", name="ck_sla_rechecks_after_id"),
    )


def downgrade() -> None:
    op.drop_table("sla_rechecks")
