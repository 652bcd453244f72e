"""Bulk changes: set status, priority, category or assignee, add or remove tags, batch by batch.

The selection is a list of ids or the ticket list's filters. Each ticket whose value actually
changes gets one `changed` audit event per changed field (tags: one event with the old and new
sets), written with the change; tickets
already holding the new values are left alone (no event, `updated_at` kept) and not counted.
A selection of more than BULK_CONFIRM_ABOVE tickets must be confirmed with its exact count, so
a filter typed wrong cannot rewrite the whole desk. The old values are handed back, so the
console can undo the last bulk change.

Batches, not one transaction. The selected ids are read once (sorted), then changed in batches
of `Settings.bulk_batch_size` tickets, each in its own short transaction that locks its tickets
in id order and changes them with a single UPDATE. One transaction over 20,000 tickets held the
shared count rows (migration 0009's statement-level triggers) for its whole run: every create
waited until `statement_timeout` (503), and a create that had taken a per-day count row first
deadlocked with the bulk's next statement. A single UPDATE per transaction takes the count rows
in the triggers' key order, like every other writer, so nothing can deadlock on them, and a
create waits for one batch at most (milliseconds).

The trade-off: each batch is all-or-nothing, the whole change is not. When the database fails
between batches, the batches already committed stay (with their audit events) and
`BulkInterruptedError` says how many tickets changed, up to which id, and carries their old
values for undo. Sending the same request again finishes the job: tickets already changed are
skipped, so nothing is changed or audited twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import (
    MAX_TAGS_PER_TICKET,
    EventKind,
    Ticket,
    TicketEvent,
    TicketTag,
    utc_now,
)
from ticket_app.schemas import BULK_CONFIRM_ABOVE, BulkFilters, BulkRequest, TicketFilters
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import event_row
from ticket_app.services.counts import counted_total, page_total, reads_counts
from ticket_app.services.database import get_engine, service_session
from ticket_app.services.errors import (
    DatabaseUnavailableError,
    InvalidInputError,
    TicketNotFoundError,
)
from ticket_app.services.sla import CLOCK_FIELDS
from ticket_app.services.sla_check import mark_for_check
from ticket_app.services.tags import tags_by_ticket, write_tag_changes
from ticket_app.services.ticket_query import filter_clauses, resolve_assignee
from ticket_app.services.tickets import LABEL_FIELDS, check_assignee
from ticket_app.settings import get_settings
from ticket_app.triage import get_history_learner

BULK_FIELDS = ("status", "priority", "category", "assignee_id", "tags")
TAGS = "tags"
# Ids per IN (...) list when checking a selection: well under SQLite's bound-parameter limit.
_ID_CHUNK = 500
# SQLite has no queue of waiting writers: a blocked writer sleeps in its busy handler, in steps
# of up to 100 ms, and would keep missing the moment between two batches (creates measured
# 4.5 s behind a 10,000-ticket bulk). Pausing longer than one step lets every waiting writer in.
_SQLITE_PAUSE_SECONDS = 0.12


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk change did: how many tickets changed, and what they held before.

    `previous` maps each changed ticket's id to the old values of the fields that changed (enum
    values as text, ids as int, `tags` the sorted list of the ticket's tags): what `undo_bulk`
    takes.
    """

    updated: int
    previous: dict[int, dict[str, object]] = field(default_factory=dict)


class BulkInterruptedError(DatabaseUnavailableError):
    """The database failed part-way through a bulk change or undo; earlier batches stay applied.

    `applied` is what the committed batches did (`updated` tickets, `previous` their old values,
    which `undo_bulk` takes); `applied_through_id` is the highest selected id whose batch
    committed (None: no batch did); `remaining` counts the selected tickets not yet handled.
    Every selected ticket with an id above `applied_through_id` is untouched. Sending the same
    request again finishes it (changed tickets are skipped). A DatabaseUnavailableError, so
    callers that answer "try again" (the API's 503) still do.
    """

    def __init__(
        self, applied: BulkOutcome, applied_through_id: int | None, remaining: int, *, verb: str
    ) -> None:
        noun = "ticket" if applied.updated == 1 else "tickets"
        through = (
            f" (every selected ticket up to id {applied_through_id})"
            if applied_through_id is not None
            else ""
        )
        super().__init__(
            f"The database failed part-way: {applied.updated:,} {noun} {verb}{through}, "
            f"{remaining:,} selected tickets not yet handled. Send the same request again to "
            "finish; tickets already changed are skipped."
        )
        self.applied = applied
        self.applied_through_id = applied_through_id
        self.remaining = remaining


def ticket_filters(
    filters: BulkFilters, *, actor: Actor | None, assignee_field: str = "filters.assignee"
) -> TicketFilters:
    """The service filters of parsed list filters (`assignee=me` is `actor`'s id).

    Raises InvalidInputError naming `assignee_field` (a bulk request's `filters.assignee` by
    default) for `me` without a staff actor, or an assignee that is not me, none or an id.
    """
    values = filters.model_dump(exclude={"assignee"})
    if filters.assignee is None:
        return TicketFilters(**values)
    try:
        assignee = resolve_assignee(filters.assignee, actor)
    except InvalidInputError as exc:
        raise InvalidInputError(assignee_field, str(exc)) from exc
    return TicketFilters(**values, assignee=assignee)


def count_up_to_cap(filters: TicketFilters) -> tuple[int, bool]:
    """(total, exact): how many tickets match `filters`, exact up to `Settings.count_cap`.

    What a queue's or a saved view's badge shows (`ui.logic.tickets.count_text` words it):
    enum-only filters are exact at any size (the trigger-kept counts); other filters count at
    most cap + 1 matches, and beyond the cap the total is an estimate with `exact` False
    (`services.counts.page_total`). An exact count of the 203,449 open unassigned tickets at
    1M read them all: 650 to 730 ms, on every navigation and every refresh of the counts.
    """
    with service_session() as session:
        clauses = filter_clauses(session, filters)
        return page_total(session, filters, clauses, planner_first=False)


def count_matching(filters: TicketFilters) -> int:
    """Exactly how many tickets match `filters` (what a bulk change's confirmation names).

    Enum-only filters read the trigger-kept counts (constant time); others count the rows.
    """
    with service_session() as session:
        if reads_counts(filters):
            return counted_total(session, filters)
        return session.execute(
            sa.select(sa.func.count()).select_from(Ticket).where(*filter_clauses(session, filters))
        ).scalar_one()


def _chunks(ids: list[int], size: int = _ID_CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _selected_ids(request: BulkRequest, actor: Actor) -> tuple[list[int], TicketFilters | None]:
    """The ids the request selects, sorted, and its filters (None for a selection by ids).

    Read without locks, in one short transaction. An unknown id is a TicketNotFoundError naming
    the first one.
    """
    with service_session() as session:
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
            return ids, None
        filters = ticket_filters(request.filters or BulkFilters(), actor=actor)
        selected = sa.select(Ticket.id).where(*filter_clauses(session, filters)).order_by(Ticket.id)
        return list(session.execute(selected).scalars()), filters


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

    One UPDATE statement whatever the values: a field every ticket gets the same value for is
    set plainly, one whose values differ (an undo) through a CASE on the id. A single statement
    fires the count triggers once, so the count rows are locked in their key order (see the
    module docstring). Tickets whose status, priority or category changed get their SLA
    columns recomputed in the same transaction. New `tags` sets are written by
    `services.tags.write_tag_changes` (rows and one event per ticket).
    """
    if not new_values:
        return
    ids = sorted(new_values)
    assignments: dict[str, object] = {"updated_at": utc_now()}
    columns = {name for values in new_values.values() for name in values} - {TAGS}
    for name in sorted(columns):
        column = getattr(Ticket, name)
        targets = {
            ticket_id: values[name] for ticket_id, values in new_values.items() if name in values
        }
        distinct = set(targets.values())
        if len(distinct) == 1 and len(targets) == len(ids):
            assignments[name] = distinct.pop()
        else:
            assignments[name] = sa.case(
                *(
                    (Ticket.id == ticket_id, sa.literal(value, column.type))
                    for ticket_id, value in targets.items()
                ),
                else_=column,
            )
    if actor.confirms_labels:
        labelled = [ticket_id for ticket_id in ids if new_values[ticket_id].keys() & LABEL_FIELDS]
        if len(labelled) == len(ids):
            assignments["labels_confirmed_by"] = actor.user_id
        elif labelled:
            assignments["labels_confirmed_by"] = sa.case(
                (Ticket.id.in_(labelled), sa.literal(actor.user_id, sa.Integer())),
                else_=Ticket.labels_confirmed_by,
            )
    session.execute(sa.update(Ticket).where(Ticket.id.in_(ids)).values(assignments))
    events = [
        event_row(
            actor,
            EventKind.CHANGED,
            ticket_id=ticket_id,
            field=name,
            old=old_values[ticket_id][name],
            new=value,
        )
        for ticket_id in ids
        for name, value in new_values[ticket_id].items()
        if name != TAGS
    ]
    if events:
        session.execute(sa.insert(TicketEvent), events)
    tag_changes = {
        ticket_id: (old_values[ticket_id][TAGS], values[TAGS])
        for ticket_id, values in new_values.items()
        if TAGS in values
    }
    write_tag_changes(session, actor, tag_changes)
    clocked = [ticket_id for ticket_id in ids if new_values[ticket_id].keys() & set(CLOCK_FIELDS)]
    if clocked:
        # One UPDATE, not a clock per ticket under the batch's row locks: the background check
        # recomputes their due times within a minute (creates beside a 10,000-ticket change
        # waited over 10 s on SQLite's one write lock when every clock ran here).
        mark_for_check(session, Ticket.id.in_(clocked), utc_now())


# Given the fields' current values of one locked ticket: the values to write (field -> value).
Planner = Callable[[int, dict[str, object]], dict[str, object]]


def _run_batches(
    ids: list[int],
    names: list[str],
    plan: Planner,
    actor: Actor,
    *,
    where: Callable[[Session], list[sa.ColumnElement[bool]]] | None = None,
    verb: str,
) -> BulkOutcome:
    """Change the tickets `ids` (sorted) batch by batch; return what changed.

    Per batch, one transaction: lock the batch's tickets that still exist (and still match
    `where`, when given) in id order, read `names` (`tags`: each ticket's sorted tag list), ask
    `plan` what to write for each, write it with `_apply`. Raises BulkInterruptedError when a
    batch fails after an earlier one committed; the error of the first batch as it is (nothing
    was written then).
    """
    columns = [getattr(Ticket, name) for name in names if name != TAGS]
    column_names = [name for name in names if name != TAGS]
    previous: dict[int, dict[str, object]] = {}
    applied_through: int | None = None
    label_change = False
    try:
        for batch in _chunks(ids, get_settings().bulk_batch_size):
            if applied_through is not None and get_engine().dialect.name == "sqlite":
                time.sleep(_SQLITE_PAUSE_SECONDS)
            old_values: dict[int, dict[str, object]] = {}
            new_values: dict[int, dict[str, object]] = {}
            try:
                with service_session() as session:
                    clauses = where(session) if where is not None else []
                    rows = session.execute(
                        sa.select(Ticket.id, *columns)
                        .where(Ticket.id.in_(batch), *clauses)
                        .order_by(Ticket.id)
                        .with_for_update()
                    ).all()
                    tags = (
                        tags_by_ticket(session, (row[0] for row in rows)) if TAGS in names else {}
                    )
                    for ticket_id, *current in rows:
                        now_values = dict(zip(column_names, map(_stored, current), strict=True))
                        if TAGS in names:
                            now_values[TAGS] = tags.get(ticket_id, [])
                        changes = plan(ticket_id, now_values)
                        if changes:
                            old_values[ticket_id] = {name: now_values[name] for name in changes}
                            new_values[ticket_id] = changes
                    _apply(session, actor, old_values, new_values)
            except DatabaseUnavailableError as exc:
                if applied_through is None:
                    raise
                remaining = len(ids) - ids.index(applied_through) - 1
                outcome = BulkOutcome(updated=len(previous), previous=previous)
                raise BulkInterruptedError(outcome, applied_through, remaining, verb=verb) from exc
            previous.update(old_values)
            applied_through = batch[-1]
            label_change = label_change or (
                actor.confirms_labels
                and any(values.keys() & LABEL_FIELDS for values in new_values.values())
            )
    finally:
        if label_change:
            get_history_learner().mark_stale()
    return BulkOutcome(updated=len(previous), previous=previous)


def bulk_update(request: BulkRequest, *, actor: Actor) -> BulkOutcome:
    """Apply `request.changes` to every selected ticket, in batches (see the module docstring).

    Only fields whose value differs are written, each with a `changed` event in the same
    transaction; `updated` counts the tickets that changed. The selection is fixed when the
    request starts; a ticket deleted since, or (for `filters`) no longer matching them when its
    batch comes, is skipped. Raises PermissionDeniedError (the right to edit tickets),
    TicketNotFoundError (the first of `ids` that no ticket has), InvalidInputError naming
    `changes.assignee_id` (not an active agent or admin), `filters.assignee`, or
    `confirm_count` (more than BULK_CONFIRM_ABOVE tickets without it, or a count that differs
    from the selection's; the message says the count) or `changes.add_tags` (a ticket would
    hold more than MAX_TAGS_PER_TICKET tags): nothing is written then. `add_tags` and
    `remove_tags` change each ticket's set of tags (the undo puts the old set back). Raises
    DatabaseUnavailableError when the database fails before the first batch commits (nothing
    written) and BulkInterruptedError when it fails after (what was written, and up to which
    id, is on the error).
    """
    actor.require(Action.TICKETS_EDIT)
    # BulkRequest guarantees one selection and at least one change.
    changes: dict[str, Any] = {
        name: _stored(value)
        for name, value in request.changes.model_dump(exclude_unset=True).items()
    }
    added = set(changes.pop("add_tags", None) or ())
    removed = set(changes.pop("remove_tags", None) or ())
    with service_session() as session:
        check_assignee(session, changes.get("assignee_id"), "changes.assignee_id")
    ids, filters = _selected_ids(request, actor)
    _check_count(len(ids), request.confirm_count)
    _check_tag_room(ids, added, removed)

    def plan(_ticket_id: int, current: dict[str, object]) -> dict[str, object]:
        planned = {name: new for name, new in changes.items() if current[name] != new}
        if added or removed:
            tags = current[TAGS]
            assert isinstance(tags, list)
            new_tags = sorted((set(tags) | added) - removed)
            if new_tags != tags:
                planned[TAGS] = new_tags
        return planned

    names = [*changes, TAGS] if added or removed else list(changes)
    where = None if filters is None else (lambda session: filter_clauses(session, filters))
    return _run_batches(ids, names, plan, actor, where=where, verb="changed")


def _check_tag_room(ids: list[int], added: set[str], removed: set[str]) -> None:
    """Refuse adding tags that would leave a selected ticket with more than 20 of them.

    Raises InvalidInputError naming `changes.add_tags` and the first such ticket; nothing is
    written then. (A ticket tagged concurrently between this check and its batch keeps at
    most what the check allowed plus that tag: the database does not bound the count.)
    """
    added = added - removed
    if not added:
        return
    kept = sa.select(TicketTag.ticket_id).where(TicketTag.tag.not_in(added | removed))
    with service_session() as session:
        for chunk in _chunks(ids):
            crowded = session.execute(
                kept.where(TicketTag.ticket_id.in_(chunk))
                .group_by(TicketTag.ticket_id)
                .having(sa.func.count() + len(added) > MAX_TAGS_PER_TICKET)
                .order_by(TicketTag.ticket_id)
                .limit(1)
            ).scalar()
            if crowded is not None:
                raise InvalidInputError(
                    "changes.add_tags",
                    f"ticket {crowded} would hold more than {MAX_TAGS_PER_TICKET} tags",
                )


def undo_bulk(previous: Mapping[int, Mapping[str, object]], *, actor: Actor) -> int:
    """Put back the values a bulk change replaced (`BulkOutcome.previous`); return the count.

    The count is of tickets that changed, each with a `changed` event per restored field;
    tickets deleted since, and fields that already hold their old value, are skipped, so an
    undo can be sent again safely. Batched like `bulk_update`. Raises PermissionDeniedError
    (the right to edit tickets), InvalidInputError naming `previous` for a field bulk changes
    never set, DatabaseUnavailableError (nothing restored) and BulkInterruptedError (the
    database failed after some batches were restored; sending the undo again finishes it).
    """
    actor.require(Action.TICKETS_EDIT)
    names = sorted({name for values in previous.values() for name in values})
    unknown = set(names) - set(BULK_FIELDS)
    if unknown:
        raise InvalidInputError("previous", f"cannot restore {', '.join(sorted(unknown))}")
    if not names:
        return 0

    def plan(ticket_id: int, current: dict[str, object]) -> dict[str, object]:
        return {
            name: value for name, value in previous[ticket_id].items() if current[name] != value
        }

    return _run_batches(sorted(previous), names, plan, actor, verb="restored").updated
