"""Canned responses: reply snippets with placeholders, personal or shared with the team.

Who may do what (the permission table in `services.access`):
- everyone on the staff lists the shared responses and their own (`CANNED_READ`; a viewer has
  none of their own, since keeping responses needs `CANNED_MANAGE_OWN`);
- agents and admins keep their own (create, edit, delete) and insert any response they see
  (`CANNED_MANAGE_OWN`);
- only admins share one, or edit or delete a shared one (`CANNED_SHARE`).
Another person's personal response is invisible: a 404, never a 403. Every create, edit and
delete writes an audit event (field `canned <id>`) with its actor, in the same transaction.

Placeholders (`fill_placeholders`): `{{requester.name}}`, `{{requester.email}}`,
`{{ticket.id}}`, `{{ticket.title}}`, `{{agent.name}}`, spaces inside the braces allowed. A
missing requester name becomes "there" (so "Hi {{requester.name}}," reads "Hi there,"), a
missing e-mail the empty string; `agent.name` is the name of the person inserting it. Any other
`{{...}}` stays as typed. Filling is one regular-expression replace over a fixed dictionary:
no template engine ever runs the text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import CannedResponse, EventKind, StaffUser, Ticket, utc_now
from ticket_app.schemas import (
    CannedResponseCreate,
    CannedResponseRead,
    CannedResponseUpdate,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import (
    InvalidCursorError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from ticket_app.services.ticket_query import is_row_id

NAME_FALLBACK = "there"
"""What `{{requester.name}}` becomes when the ticket has no requester name."""
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z]+\.[a-z]+)\s*\}\}")
_CURSOR_PREFIX = "canned:"


def fill_placeholders(body: str, values: Mapping[str, str]) -> str:
    """`body` with every `{{name}}` whose name is a key of `values` replaced by its value.

    Names not in `values` (and anything not shaped `{{word.word}}`) stay as typed; values are
    inserted as plain text, never read as placeholders again.
    """
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body)


def placeholder_values(ticket: Ticket, agent_name: str) -> dict[str, str]:
    """The placeholders' values for `ticket` answered by `agent_name` (see the module)."""
    return {
        "requester.name": (ticket.requester_name or "").strip() or NAME_FALLBACK,
        "requester.email": ticket.requester_email or "",
        "ticket.id": str(ticket.id),
        "ticket.title": ticket.title,
        "agent.name": agent_name,
    }


def _read(row: CannedResponse) -> CannedResponseRead:
    return CannedResponseRead(
        id=row.id,
        title=row.title,
        body=row.body,
        shared=row.shared,
        owner_id=row.owner_id,
        uses=row.uses,
    )


def _staff_id(actor: Actor, action: Action) -> int:
    """The actor's user id: canned responses belong to people (PermissionDeniedError else)."""
    actor.require(action)
    if actor.user_id is None:
        raise PermissionDeniedError(action.value)
    return actor.user_id


def _visible(actor_id: int) -> sa.ColumnElement[bool]:
    return sa.or_(CannedResponse.owner_id == actor_id, CannedResponse.shared.is_(True))


def _encode_cursor(title: str, row_id: int) -> str:
    raw = _CURSOR_PREFIX + json.dumps([title, row_id], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        title, row_id = json.loads(raw.removeprefix(_CURSOR_PREFIX))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
    if not raw.startswith(_CURSOR_PREFIX) or not isinstance(title, str) or not is_row_id(row_id):
        raise InvalidCursorError("cursor is not one this API issued")
    return title, row_id


def list_canned_responses(
    *, actor: Actor, limit: int = 100, cursor: str | None = None
) -> tuple[list[CannedResponseRead], int, str | None]:
    """The actor's own responses and the shared ones, by title (then id), `limit` per page.

    Returns (items, total across pages, the next page's cursor or None). Raises
    PermissionDeniedError unless `actor` is a staff member who may list them,
    InvalidCursorError for a cursor this list did not issue, DatabaseUnavailableError.
    """
    user_id = _staff_id(actor, Action.CANNED_READ)
    query = (
        sa.select(CannedResponse)
        .where(_visible(user_id))
        .order_by(CannedResponse.title, CannedResponse.id)
        .limit(limit + 1)
    )
    if cursor:
        title, row_id = _decode_cursor(cursor)
        query = query.where(
            sa.or_(
                CannedResponse.title > title,
                sa.and_(CannedResponse.title == title, CannedResponse.id > row_id),
            )
        )
    with service_session() as session:
        rows = list(session.execute(query).scalars())
        total = session.execute(
            sa.select(sa.func.count()).select_from(CannedResponse).where(_visible(user_id))
        ).scalar_one()
    items = [_read(row) for row in rows[:limit]]
    more = len(rows) > limit
    return items, total, _encode_cursor(items[-1].title, items[-1].id) if more else None


def _editable(session: Session, response_id: int, actor: Actor, user_id: int) -> CannedResponse:
    """The response to change, locked.

    NotFoundError for one the actor cannot see, PermissionDeniedError for a shared one unless
    the actor may share.
    """
    row = (
        session.get(CannedResponse, response_id, with_for_update=True)
        if is_row_id(response_id)
        else None
    )
    if row is None or (row.owner_id != user_id and not row.shared):
        raise NotFoundError(f"no canned response with id {response_id}")
    if row.shared:
        actor.require(Action.CANNED_SHARE)
    return row


def create_canned_response(data: CannedResponseCreate, *, actor: Actor) -> CannedResponseRead:
    """Store a new response owned by `actor` (with its audit event) and return it.

    Raises PermissionDeniedError (keeping responses: agents and admins; `shared`: admins in a
    session), DatabaseUnavailableError.
    """
    user_id = _staff_id(actor, Action.CANNED_MANAGE_OWN)
    if data.shared:
        actor.require(Action.CANNED_SHARE)
    now = utc_now()
    with service_session() as session:
        row = CannedResponse(
            owner_id=user_id,
            title=data.title,
            body=data.body,
            shared=data.shared,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            actor,
            EventKind.CANNED_RESPONSE_CREATED,
            field=f"canned {row.id}",
            new=json.dumps({"title": row.title, "shared": row.shared}, ensure_ascii=False),
        )
        return _read(row)


def update_canned_response(
    response_id: int, data: CannedResponseUpdate, *, actor: Actor
) -> CannedResponseRead:
    """Change the fields given in `data`; one audit event per field that changed.

    Raises PermissionDeniedError (a shared response, or sharing one: admins only),
    NotFoundError for a response the actor cannot see, DatabaseUnavailableError.
    """
    user_id = _staff_id(actor, Action.CANNED_MANAGE_OWN)
    if data.shared:
        actor.require(Action.CANNED_SHARE)
    with service_session() as session:
        row = _editable(session, response_id, actor, user_id)
        changed = False
        for name in ("title", "body", "shared"):
            value = getattr(data, name)
            if name not in data.model_fields_set or value == getattr(row, name):
                continue
            record_event(
                session,
                actor,
                EventKind.CANNED_RESPONSE_CHANGED,
                field=f"canned {row.id}.{name}",
                old=getattr(row, name),
                new=value,
            )
            setattr(row, name, value)
            changed = True
        if changed:
            row.updated_at = utc_now()
            session.add(row)
            session.flush()
        return _read(row)


def delete_canned_response(response_id: int, *, actor: Actor) -> None:
    """Delete a response (its owner, or an admin for a shared one), with its audit event.

    Raises PermissionDeniedError, NotFoundError for a response the actor cannot see,
    DatabaseUnavailableError.
    """
    user_id = _staff_id(actor, Action.CANNED_MANAGE_OWN)
    with service_session() as session:
        row = _editable(session, response_id, actor, user_id)
        record_event(
            session,
            actor,
            EventKind.CANNED_RESPONSE_DELETED,
            field=f"canned {row.id}",
            old=json.dumps({"title": row.title, "shared": row.shared}, ensure_ascii=False),
        )
        session.delete(row)


def render_canned_response(response_id: int, ticket_id: int, *, actor: Actor) -> str:
    """The response's body filled in for `ticket_id` (see the module); counts one use.

    The use is counted with one `uses = uses + 1` UPDATE, so concurrent inserts all count. What
    it reveals of the ticket (title, requester) is what a reply's writer sees anyway.
    Raises PermissionDeniedError (agents and admins), NotFoundError for a response the actor
    cannot see, InvalidInputError naming `ticket_id` for a ticket that does not exist,
    DatabaseUnavailableError.
    """
    user_id = _staff_id(actor, Action.CANNED_MANAGE_OWN)
    with service_session() as session:
        row = session.get(CannedResponse, response_id) if is_row_id(response_id) else None
        if row is None or (row.owner_id != user_id and not row.shared):
            raise NotFoundError(f"no canned response with id {response_id}")
        ticket = session.get(Ticket, ticket_id) if is_row_id(ticket_id) else None
        if ticket is None:
            raise InvalidInputError("ticket_id", f"no ticket with id {ticket_id}")
        agent = session.get(StaffUser, user_id)
        session.execute(
            sa.update(CannedResponse)
            .where(CannedResponse.id == row.id)
            .values(uses=CannedResponse.uses + 1)
        )
        return fill_placeholders(
            row.body, placeholder_values(ticket, agent.name if agent else actor.label)
        )
