"""Saved views: named list filters, search and sort."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.models.base import NAME_MAX_LENGTH, timestamp_column, utc_now

SAVED_VIEW_CHECKS: dict[str, str] = {
    "ck_saved_views_name_not_blank": "length(trim(name)) > 0",
}


class SavedView(SQLModel, table=True):
    """A named set of list filters, search and sort that a staff member saved (migration 0007).

    `query` is canonical JSON of the list's query parameters (`{"status": "open", "sort":
    "-priority"}`); `shared` views (set by admins) appear in everyone's navigation. Names are
    unique per owner.
    """

    __tablename__ = "saved_views"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in SAVED_VIEW_CHECKS.items()),
        sa.Index("ux_saved_views_owner_id_name", "owner_id", "name", unique=True),
        sa.Index("ix_saved_views_shared", "shared"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    shared: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    query: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
