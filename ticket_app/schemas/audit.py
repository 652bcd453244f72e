"""Audit events as the API and the console show them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from ticket_app.enums import ActorKind, EventKind
from ticket_app.schemas.fields import iso_utc


class EventRead(BaseModel):
    """One audit event: who did what to a ticket, and when.

    `actor_kind` is user, token, intake, import or system; `actor` is the user's email (for a
    token: the owner's email and the token's name) or the process name.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int | None
    actor_kind: ActorKind
    actor_user_id: int | None
    actor: str = Field(validation_alias="actor_label")
    kind: EventKind
    field: str | None
    old_value: str | None
    new_value: str | None
    created_at: datetime

    @field_serializer("created_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return iso_utc(value)


class EventPage(BaseModel):
    """Events oldest first; `next_cursor` continues after the last one, None at the end."""

    items: list[EventRead]
    next_cursor: str | None
