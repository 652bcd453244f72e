"""Ticket followers: staff who are told about replies on a ticket they do not own."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.models.base import timestamp_column, utc_now


class TicketFollower(SQLModel, table=True):
    """One staff member following one ticket (migration 0017); unique per (ticket, user).

    Rows go with their ticket or their user.
    """

    __tablename__ = "ticket_followers"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "user_id", name="uq_ticket_followers_ticket_id_user_id"),
        sa.Index("ix_ticket_followers_user_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        )
    )
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
