"""Notification shapes: what the bell lists, and which ones to mark read."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from ticket_app.enums import NotificationKind
from ticket_app.schemas.fields import RowId, iso_utc

MAX_READ_IDS = 500


class NotificationRead(BaseModel):
    """One notification of the caller.

    `kind`, the ticket it is about (and its title), who caused it (`actor`), a short `detail`
    (a target's name, a reply's first words) and `read_at` (None while unread).
    """

    id: int
    kind: NotificationKind
    ticket_id: int
    ticket_title: str
    actor: str
    detail: str
    created_at: datetime
    read_at: datetime | None

    @field_serializer("created_at", "read_at", when_used="json")
    def _utc(self, value: datetime | None) -> str | None:
        return iso_utc(value)


class NotificationPage(BaseModel):
    """The caller's notifications, newest first.

    `unread` counts all their unread ones, `total` all of them; `next_cursor` is None on the
    last page.
    """

    items: list[NotificationRead]
    total: int
    unread: int
    next_cursor: str | None


class NotificationsReadRequest(BaseModel):
    """Which notifications to mark read: those in `ids`, or every one with `all: true`.

    Ids of someone else's notifications are ignored; a body with neither marks nothing.
    """

    model_config = ConfigDict(extra="forbid")

    ids: list[RowId] | None = Field(
        default=None, min_length=1, max_length=MAX_READ_IDS, description="Notification ids."
    )
    all: bool = Field(
        default=False, strict=True, description="Mark every notification of the caller read."
    )


class NotificationsReadResult(BaseModel):
    """How many notifications this request marked read, and how many stay unread."""

    marked: int
    unread: int


class NotificationPreferenceRead(BaseModel):
    """Whether the caller is also e-mailed about one kind of notification."""

    kind: NotificationKind
    email: bool


class NotificationPreferenceChange(BaseModel):
    """Whether to also e-mail the caller about notifications of `kind`."""

    model_config = ConfigDict(extra="forbid")

    kind: NotificationKind
    email: bool = Field(strict=True, description="`true`: also send an e-mail.")
