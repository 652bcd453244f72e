"""Ticket tags: `ticket_tags`, one row per (ticket, tag), indexed for the `tag` list filter.

Tags are free-form, stored trimmed and lower-cased, at most 50 characters, without commas (the
audit trail and the CSV export join a ticket's tags with commas) and not starting with `-`
(the list filter's `-tag` excludes). `ux_ticket_tags_ticket_id_tag` keeps a tag once per
ticket; `ix_ticket_tags_tag_ticket_id` answers "tickets with this tag" and the tag counts.
Rows go with their ticket.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `ticket_tags` with its checks and its two indexes (no tags exist yet)."""
    op.create_table(
        "ticket_tags",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tag", sa.String(50), nullable=False),
        sa.CheckConstraint("length(tag) BETWEEN 1 AND 50", name="ck_ticket_tags_tag_length"),
        sa.CheckConstraint("length(trim(tag)) > 0", name="ck_ticket_tags_tag_not_blank"),
        sa.CheckConstraint("tag NOT LIKE '%,%'", name="ck_ticket_tags_tag_no_comma"),
        sa.CheckConstraint("tag NOT LIKE '-%'", name="ck_ticket_tags_tag_no_minus"),
    )
    op.create_index(
        "ux_ticket_tags_ticket_id_tag", "ticket_tags", ["ticket_id", "tag"], unique=True
    )
    op.create_index("ix_ticket_tags_tag_ticket_id", "ticket_tags", ["tag", "ticket_id"])


def downgrade() -> None:
    """Drop `ticket_tags` (the tags are lost; their audit events stay)."""
    op.drop_table("ticket_tags")
