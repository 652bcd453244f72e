"""The audit trail: who did what, written in the same transaction as the change itself.

`Actor` is the one description of "who" that every service call takes: a signed-in user, an API
token (acting with its owner's role within its scopes), or a process (import, intake, system).
Its `can`/`require` consult the permission table, so the API, the console and the CLI decide
alike.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from ticket_app.models import (
    MAX_ROW_ID,
    ActorKind,
    EventKind,
    Role,
    Ticket,
    TicketEvent,
    utc_now,
)
from ticket_app.schemas import EventPage, EventRead
from ticket_app.services.errors import InvalidCursorError, PermissionDeniedError
from ticket_app.services.permissions import (
    LABELLING_ROLES,
    Action,
    role_allows,
    scopes_allow,
)

# What processes acting on their own may do; people and tokens go through the role table.
_PROCESS_ACTIONS: dict[ActorKind, frozenset[Action]] = {
    ActorKind.IMPORT: frozenset({Action.TICKETS_IMPORT, Action.TICKETS_CREATE}),
    ActorKind.INTAKE: frozenset({Action.TICKETS_CREATE, Action.TICKETS_CLASSIFY}),
    ActorKind.SYSTEM: frozenset(Action),
}
_EVENT_CURSOR_PREFIX = "e1:"
MAX_VALUE_CHARS = 2000


@dataclass(frozen=True)
class Actor:
    """Who is acting.

    `kind` says what sort of actor; `label` is what the audit trail shows (an email, "email
    (token NAME)", or the process name); `user_id` is the staff user (for tokens: the owner);
    `token_id` the API token; `role` the user's role; `scopes` the token's scopes (None when
    the actor is not a token).
    """

    kind: ActorKind
    label: str
    user_id: int | None = None
    token_id: int | None = None
    role: Role | None = None
    scopes: frozenset[str] | None = None

    @classmethod
    def process(cls, kind: ActorKind, label: str | None = None) -> Actor:
        """A process acting on its own: import, intake or system (e.g. the CLI's `migrate`)."""
        return cls(kind=kind, label=label or kind.value)

    def can(self, action: Action) -> bool:
        """Whether this actor may perform `action` (the permission table, then token scopes)."""
        if self.kind in _PROCESS_ACTIONS:
            return action in _PROCESS_ACTIONS[self.kind]
        return role_allows(self.role, action) and scopes_allow(self.scopes, action)

    def require(self, action: Action) -> None:
        """Raise PermissionDeniedError unless this actor may perform `action`."""
        if not self.can(action):
            raise PermissionDeniedError(action.value)

    @property
    def confirms_labels(self) -> bool:
        """Whether labels this actor sets count as staff decisions (they may train the model)."""
        return (
            self.kind in (ActorKind.USER, ActorKind.TOKEN)
            and self.user_id is not None
            and self.role in LABELLING_ROLES
        )


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
    raw = f"{_EVENT_CURSOR_PREFIX}{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_event_cursor(cursor: str) -> int:
    """The event id inside a cursor from `encode_event_cursor`; InvalidCursorError otherwise.

    ASCII digits only, within the id column's range.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
    digits = raw.removeprefix(_EVENT_CURSOR_PREFIX)
    if (
        not raw.startswith(_EVENT_CURSOR_PREFIX)
        or not (digits.isascii() and digits.isdigit())
        or len(digits) > len(str(MAX_ROW_ID))
        or not 1 <= int(digits) <= MAX_ROW_ID
    ):
        raise InvalidCursorError("cursor is not one this API issued")
    return int(digits)


def ticket_events(
    session: Session, ticket_id: int, *, limit: int = 50, cursor: str | None = None
) -> EventPage:
    """The ticket's audit events, oldest first, `limit` per page after `cursor`."""
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if cursor is not None:
        query = query.where(TicketEvent.id > _decode_event_cursor(cursor))
    rows = list(session.exec(query.order_by(TicketEvent.id).limit(limit + 1)).all())
    items = [EventRead.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit
    return EventPage(items=items, next_cursor=encode_event_cursor(items[-1].id) if more else None)


def ticket_exists(session: Session, ticket_id: int) -> bool:
    """Whether a ticket with this id is stored."""
    return session.execute(sa.select(Ticket.id).where(Ticket.id == ticket_id)).first() is not None
