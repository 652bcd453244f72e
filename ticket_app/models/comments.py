"""Comments on tickets: public replies and internal notes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import CommentChannel
from ticket_app.models.base import EMAIL_MAX_LENGTH, enum_check, timestamp_column, utc_now

COMMENT_CHECKS: dict[str, str] = {
    "ck_ticket_comments_body_not_blank": "length(trim(body)) > 0",
    "ck_ticket_comments_channel": enum_check("channel", CommentChannel),
}


class TicketComment(SQLModel, table=True):
    """A public reply to the requester or an internal note on a ticket (migration 0007).

    `author_user_id` is the staff user who wrote it (none for mail from a requester, once an
    e-mail channel exists); `author_label` is what the timeline shows (the author's email, or the
    sender's). `channel` says how it arrived; `message_id` is the e-mail Message-ID of incoming
    or outgoing mail, unique so a mail is attached once. Body is plain text, kept as written.
    """

    __tablename__ = "ticket_comments"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in COMMENT_CHECKS.items()),
        sa.Index("ix_ticket_comments_ticket_id_id", "ticket_id", "id"),
        sa.Index("ux_ticket_comments_message_id", "message_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        )
    )
    author_user_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
    )
    author_label: str = Field(sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    public: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    channel: CommentChannel = Field(
        default=CommentChannel.API,
        sa_column=sa.Column(sa.String(20), nullable=False, server_default="api"),
    )
    message_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(255), nullable=True))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
