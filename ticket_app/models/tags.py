"""Ticket tags: free-form labels, one row per (ticket, tag)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

TAG_MAX_LENGTH = 50
"""Longest tag, in characters (after trimming)."""
MAX_TAGS_PER_TICKET = 20
"""Most tags one ticket may carry."""

TICKET_TAG_CHECKS: dict[str, str] = {
    "ck_ticket_tags_tag_length": f"length(tag) BETWEEN 1 AND {TAG_MAX_LENGTH}",
    "ck_ticket_tags_tag_not_blank": "length(trim(tag)) > 0",
    "ck_ticket_tags_tag_no_comma": "tag NOT LIKE '%,%'",
    "ck_ticket_tags_tag_no_minus": "tag NOT LIKE '-%'",
}


class TicketTag(SQLModel, table=True):
    """One tag on one ticket (migration 0018); rows go with their ticket.

    Tags are stored trimmed and lower-cased (`schemas.fields.normalize_tag`); a ticket holds a
    tag at most once (`ux_ticket_tags_ticket_id_tag`), and `ix_ticket_tags_tag_ticket_id`
    serves the `tag` list filter (an EXISTS probe per ticket, or the tickets of one tag in id
    order) and the autocomplete's counts.
    """

    __tablename__ = "ticket_tags"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in TICKET_TAG_CHECKS.items()),
        sa.Index("ux_ticket_tags_ticket_id_tag", "ticket_id", "tag", unique=True),
        sa.Index("ix_ticket_tags_tag_ticket_id", "tag", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        )
    )
    tag: str = Field(sa_column=sa.Column(sa.String(TAG_MAX_LENGTH), nullable=False))
