"""In-app notifications: who is told what about which ticket, and whether they read it.

`notifications` holds one row per recipient: the kind (assigned, replied, sla_warning,
sla_breached), the ticket, who caused it (a label, kept when that person is deleted), a short
detail, and when the recipient read it. Rows go with their ticket or their recipient.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = "'assigned', 'replied', 'sla_warning', 'sla_breached'"


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    """Create `notifications` with its checks and the indexes the bell's queries use."""
    dialect = op.get_bind().dialect.name
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False, server_default=""),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="ck_notifications_kind"),
        sa.CheckConstraint(
            "read_at IS NULL OR read_at >= created_at", name="ck_notifications_read_after_created"
        ),
    )
    op.create_index("ix_notifications_user_id_id", "notifications", ["user_id", "id"])
    op.create_index("ix_notifications_user_id_read_at", "notifications", ["user_id", "read_at"])
    op.create_index("ix_notifications_ticket_id", "notifications", ["ticket_id"])


def downgrade() -> None:
    """Drop `notifications` (the notifications are lost; nothing else refers to them)."""
    op.drop_table("notifications")
