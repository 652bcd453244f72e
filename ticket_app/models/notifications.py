"""In-app notifications: one row per person told about something on a ticket."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import NotificationKind
from ticket_app.models.base import enum_check, timestamp_column, utc_now

DETAIL_MAX_LENGTH = 200

NOTIFICATION_CHECKS: dict[str, str] = {
    "ck_notifications_kind": enum_check("kind", NotificationKind),
    "ck_notifications_read_after_created": "read_at IS NULL OR read_at >= created_at",
}


class Notification(SQLModel, table=True):
    """Something a staff member is told about a ticket (migration 0014).

    `actor` names who caused it (a person's name, "service levels", a requester's address);
    `detail` is the short text shown (a target's name, a reply's first words); `read_at` is set
    when its recipient opened or dismissed it.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in NOTIFICATION_CHECKS.items()),
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
        sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        sa.Index("ix_notifications_ticket_id", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    kind: NotificationKind = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    ticket_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        )
    )
    actor: str = Field(sa_column=sa.Column(sa.String(254), nullable=False))
    detail: str = Field(
        default="", sa_column=sa.Column(sa.String(DETAIL_MAX_LENGTH), nullable=False)
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    read_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


NOTIFICATION_PREFERENCE_CHECKS: dict[str, str] = {
    "ck_notification_preferences_kind": enum_check("kind", NotificationKind),
}


class NotificationPreference(SQLModel, table=True):
    """Whether a staff member is also e-mailed about one kind of notification (migration 0020).

    One row per (user, kind) they changed; a kind without a row has its default
    (`services.notification_preferences.EMAIL_BY_DEFAULT`). Rows go with their user.
    """

    __tablename__ = "notification_preferences"
    __table_args__ = (
        *(
            sa.CheckConstraint(sql, name=name)
            for name, sql in NOTIFICATION_PREFERENCE_CHECKS.items()
        ),
        sa.UniqueConstraint("user_id", "kind", name="uq_notification_preferences_user_id_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    kind: NotificationKind = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    email: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    updated_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
