"""The audit trail: who did what, written in the same transaction as the change itself.

Who is acting is an `Actor` (`services.access`); `ticket_events` reads the trail back by pages.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from ticket_app.models import (
    EventKind,
    Ticket,
    TicketEvent,
    utc_now,
)
from ticket_app.schemas import EventPage, EventRead
from ticket_app.services.access import Actor
from ticket_app.services.id_cursors import decode_id_cursor, encode_id_cursor

_EVENT_CURSOR_PREFIX = "e1:"
MAX_VALUE_CHARS = 2000


def _clip(value: Any) -> str | None:
    """An event value as text, cut to MAX_VALUE_CHARS (a long description stays readable)."""
    if value is None:
        return None
    text = value.value if hasattr(value, "value") else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def event_row(
    actor: Actor,
    kind: EventKind,
    *,
    ticket_id: int | None = None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
) -> dict[str, Any]:
    """The column values of one `ticket_events` row (for single and bulk inserts)."""
    return {
        "ticket_id": ticket_id,
        "actor_kind": actor.kind.value,
        "actor_user_id": actor.user_id,
        "actor_token_id": actor.token_id,
        "actor_label": actor.label[:254],
        "created_at": utc_now(),
        "kind": kind.value,
        "field": field,
        "old_value": _clip(old),
        "new_value": _clip(new),
    }


def record_event(session: Session, actor: Actor, kind: EventKind, **details: Any) -> None:
    """Add one audit event to `session`; it commits or rolls back with the change it records.

    `details` are `ticket_id`, `field`, `old` and `new` (see `event_row`).
    """
    session.add(TicketEvent(**event_row(actor, kind, **details)))


def encode_event_cursor(event_id: int) -> str:
    """Opaque cursor for the events after `event_id`."""
    return encode_id_cursor(_EVENT_CURSOR_PREFIX, event_id)


def ticket_events(
    session: Session, ticket_id: int, *, limit: int = 50, cursor: str | None = None
) -> EventPage:
    """The ticket's audit events, oldest first, `limit` per page after `cursor`."""
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if cursor is not None:
        query = query.where(TicketEvent.id > decode_id_cursor(_EVENT_CURSOR_PREFIX, cursor))
    rows = list(session.exec(query.order_by(TicketEvent.id).limit(limit + 1)).all())
    items = [EventRead.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit
    return EventPage(items=items, next_cursor=encode_event_cursor(items[-1].id) if more else None)


def ticket_exists(session: Session, ticket_id: int) -> bool:
    """Whether a ticket with this id is stored."""
    return session.execute(sa.select(Ticket.id).where(Ticket.id == ticket_id)).first() is not None
