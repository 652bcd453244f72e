"""Canned responses: reusable reply snippets, personal or shared with the team."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.models.base import timestamp_column, utc_now

CANNED_TITLE_MAX_LENGTH = 120
CANNED_BODY_MAX_LENGTH = 10_000

CANNED_RESPONSE_CHECKS: dict[str, str] = {
    "ck_canned_responses_title_not_blank": "length(trim(title)) > 0",
    "ck_canned_responses_uses_not_negative": "uses >= 0",
}


class CannedResponse(SQLModel, table=True):
    """A reply snippet with placeholders (migration 0017).

    `owner_id` is who wrote it; `shared` ones (set by admins) are offered to everyone, the
    others to their owner only. `uses` counts how often it was inserted into a reply.
    """

    __tablename__ = "canned_responses"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in CANNED_RESPONSE_CHECKS.items()),
        sa.Index("ix_canned_responses_owner_id_title", "owner_id", "title"),
        sa.Index("ix_canned_responses_shared_title", "shared", "title"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    title: str = Field(sa_column=sa.Column(sa.String(CANNED_TITLE_MAX_LENGTH), nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    shared: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    uses: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
