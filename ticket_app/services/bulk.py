"""Bulk changes: set status, priority, category or assignee on many tickets in one transaction.

The selection is a list of ids or the ticket list's filters. Each ticket whose value actually
changes gets one `changed` audit event per changed field, written with the change; tickets
already holding the new values are left alone (no event, `updated_at` kept) and not counted.
A selection of more than BULK_CONFIRM_ABOVE tickets must be confirmed with its exact count, so
a filter typed wrong cannot rewrite the whole desk. The old values are handed back, so the
console can undo the last bulk change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import EventKind, Ticket, TicketEvent, utc_now
from ticket_app.schemas import BULK_CONFIRM_ABOVE, BulkFilters, BulkRequest, TicketFilters
from ticket_app.services import counts
from ticket_app.services.audit import Actor, event_row
from ticket_app.services.database import service_session
from ticket_app.services.errors import InvalidInputError, TicketNotFoundError
from ticket_app.services.permissions import Action
from ticket_app.services.tickets import (
    LABEL_FIELDS,
    _filter_clauses,
    check_assignee,
    resolve_assignee,
)
from ticket_app.triage import get_history_learner

BULK_FIELDS = ("status", "priority", "category", "assignee_id")
# Ids per UPDATE statement: well under SQLite's limit of bound parameters per statement.
_ID_CHUNK = 500


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk change did: how many tickets changed, and what they held before.

    `previous` maps each changed ticket's id to the old values of the fields that changed (enum
    values as text, ids as int): what `undo_bulk` takes.
    """

    updated: int
    previous: dict[int, dict[str, object]] = field(default_factory=dict)


def ticket_filters(filters: BulkFilters, *, actor: Actor | None) -> TicketFilters:
    """The service filters of a bulk request's `filters` (`assignee=me` is `actor`'s id).

    Raises InvalidInputError naming `filters.assignee` for an assignee that is not me, none or
    an id.
    """
    values = filters.model_dump(exclude={"assignee"})
    if filters.assignee is None:
        return TicketFilters(**values)
    try:
        assignee = resolve_assignee(filters.assignee, actor)
    except InvalidInputError as exc:
        raise InvalidInputError("filters.assignee", str(exc)) from exc
    return TicketFilters(**values, assignee=assignee)


def count_matching(filters: TicketFilters) -> int:
    """Exactly how many tickets match `filters`.

    Enum-only filters read the trigger-kept counts (constant time); others count the rows.
    """
    with service_session() as session:
        if counts.reads_counts(filters):
            return counts.counted_total(session, filters)
        return session.execute(
            sa.select(sa.func.count()).select_from(Ticket).where(*_filter_clauses(session, filters))
        ).scalar_one()


def _selection(session: Session, request: BulkRequest, actor: Actor) -> list[sa.ColumnElement]:
    """WHERE clauses selecting the request's tickets (by ids, else by filters).

    An unknown id is a TicketNotFoundError naming the first one.
    """
    if request.ids is not None:
        ids = sorted(set(request.ids))
        found: set[int] = set()
        for chunk in _chunks(ids):
            found.update(
                session.execute(sa.select(Ticket.id).where(Ticket.id.in_(chunk))).scalars()
            )
        missing = [ticket_id for ticket_id in ids if ticket_id not in found]
        if missing:
            raise TicketNotFoundError(missing[0])
        return [Ticket.id.in_(ids)]
    return _filter_clauses(session, ticket_filters(request.filters or BulkFilters(), actor=actor))


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]


def _check_count(count: int, confirm_count: int | None) -> None:
    if confirm_count is not None and confirm_count != count:
        raise InvalidInputError(
            "confirm_count",
            f"the selection holds {count} tickets, not {confirm_count}; check it and send "
            f"confirm_count: {count}",
        )
    if count > BULK_CONFIRM_ABOVE and confirm_count is None:
        raise InvalidInputError(
            "confirm_count",
            f"this changes {count} tickets (more than {BULK_CONFIRM_ABOVE:,}); send "
            f"confirm_count: {count} to confirm",
        )


def _stored(value: object) -> object:
    """A column value as `previous` keeps it: enum members as their text."""
    return getattr(value, "value", value)


def _apply(
    session: Session,
    actor: Actor,
    old_values: Mapping[int, Mapping[str, object]],
    new_values: Mapping[int, Mapping[str, object]],
) -> None:
    """Write `new_values` (ticket id -> field -> value) with one event per field and ticket.

    Tickets that get the same values are updated with one statement per chunk of ids.
    """
    now = utc_now()
    events = [
        event_row(
            actor,
            EventKind.CHANGED,
            ticket_id=ticket_id,
            field=name,
            old=old_values[ticket_id][name],
            new=value,
        )
        for ticket_id, values in new_values.items()
        for name, value in values.items()
    ]
    groups: dict[tuple[tuple[str, object], ...], list[int]] = {}
    for ticket_id, values in new_values.items():
        groups.setdefault(tuple(sorted(values.items())), []).append(ticket_id)
    for values, ids in groups.items():
        assignments: dict[str, object] = {**dict(values), "updated_at": now}
        if {name for name, _ in values} & LABEL_FIELDS and actor.confirms_labels:
            assignments["labels_confirmed_by"] = actor.user_id
        for chunk in _chunks(sorted(ids)):
            session.execute(sa.update(Ticket).where(Ticket.id.in_(chunk)).values(assignments))
    if events:
        session.execute(sa.insert(TicketEvent), events)


def _label_change(changed: Iterable[Mapping[str, object]], actor: Actor) -> bool:
    return actor.confirms_labels and any(values.keys() & LABEL_FIELDS for values in changed)


def bulk_update(request: BulkRequest, *, actor: Actor) -> BulkOutcome:
    """Apply `request.changes` to every selected ticket in one transaction.

    Only fields whose value differs are written, each with a `changed` event; `updated`
    counts the tickets that changed. Raises PermissionDeniedError (the right to edit tickets),
    TicketNotFoundError (the first of `ids` that no ticket has), InvalidInputError naming
    `changes.assignee_id` (not an active agent or admin), `filters.assignee`, or
    `confirm_count` (more than BULK_CONFIRM_ABOVE tickets without it, or a count that differs
    from the selection's; the message says the count), and DatabaseUnavailableError. Nothing
    is written when it raises.
    """
    actor.require(Action.TICKETS_EDIT)
    # BulkRequest guarantees one selection and at least one change.
    changes: dict[str, Any] = request.changes.model_dump(exclude_unset=True)
    columns = [getattr(Ticket, name) for name in changes]
    with service_session() as session:
        check_assignee(session, changes.get("assignee_id"), "changes.assignee_id")
        clauses = _selection(session, request, actor)
        count = session.execute(
            sa.select(sa.func.count()).select_from(Ticket).where(*clauses)
        ).scalar_one()
        _check_count(count, request.confirm_count)
        # Locked (PostgreSQL) so a concurrent edit cannot slip between the read and the write.
        rows = session.execute(
            sa.select(Ticket.id, *columns).where(*clauses).with_for_update()
        ).all()
        old_values: dict[int, dict[str, object]] = {}
        new_values: dict[int, dict[str, object]] = {}
        for ticket_id, *current in rows:
            differing = {
                name: (_stored(old), _stored(new))
                for (name, new), old in zip(changes.items(), current, strict=True)
                if _stored(old) != _stored(new)
            }
            if differing:
                old_values[ticket_id] = {name: old for name, (old, _) in differing.items()}
                new_values[ticket_id] = {name: new for name, (_, new) in differing.items()}
        _apply(session, actor, old_values, new_values)
    if _label_change(new_values.values(), actor):
        get_history_learner().mark_stale()
    return BulkOutcome(updated=len(new_values), previous=old_values)


def undo_bulk(previous: Mapping[int, Mapping[str, object]], *, actor: Actor) -> int:
    """Put back the values a bulk change replaced (`BulkOutcome.previous`); return the count.

    The count is of tickets that changed. One transaction, a `changed` event per restored
    field; tickets deleted since, and fields that already hold their old value, are skipped.
    Raises PermissionDeniedError (the right to edit tickets), InvalidInputError naming
    `previous` for a field bulk changes never set, and DatabaseUnavailableError.
    """
    actor.require(Action.TICKETS_EDIT)
    names = sorted({name for values in previous.values() for name in values})
    unknown = set(names) - set(BULK_FIELDS)
    if unknown:
        raise InvalidInputError("previous", f"cannot restore {', '.join(sorted(unknown))}")
    if not names:
        return 0
    columns = [getattr(Ticket, name) for name in names]
    old_values: dict[int, dict[str, object]] = {}
    new_values: dict[int, dict[str, object]] = {}
    with service_session() as session:
        for chunk in _chunks(sorted(previous)):
            rows = session.execute(
                sa.select(Ticket.id, *columns).where(Ticket.id.in_(chunk)).with_for_update()
            ).all()
            for ticket_id, *current in rows:
                now_values = dict(zip(names, (_stored(value) for value in current), strict=True))
                restore = {
                    name: value
                    for name, value in previous[ticket_id].items()
                    if now_values[name] != value
                }
                if restore:
                    old_values[ticket_id] = {name: now_values[name] for name in restore}
                    new_values[ticket_id] = restore
        _apply(session, actor, old_values, new_values)
    if _label_change(new_values.values(), actor):
        get_history_learner().mark_stale()
    return len(new_values)
