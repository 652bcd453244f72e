"""Ticket service: list, get, create and update tickets, with their audit events and ETags.

The REST API, the Reflex UI and the command-line tools all call these functions, so a rule
exists exactly once. A list's WHERE conditions, sort orders and cursors are built in
`services.ticket_query`, its total in `services.counts` and the statistics in `services.stats`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from ticket_app.models import (
    ActorKind,
    Category,
    EventKind,
    Priority,
    Role,
    StaffUser,
    Ticket,
    TicketEvent,
    utc_now,
)
from ticket_app.schemas import (
    EventPage,
    TicketCreate,
    TicketFilters,
    TicketPage,
    TicketRead,
    TicketSort,
    TicketUpdate,
)
from ticket_app.services import audit
from ticket_app.services import idempotency as idempotency_keys
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.counts import page_total
from ticket_app.services.database import service_session
from ticket_app.services.errors import (
    ConstraintViolationError,
    EditConflictError,
    ExternalIdConflictError,
    InvalidInputError,
    TicketNotFoundError,
)
from ticket_app.services.idempotency import IdempotentRequest, StoredAnswer
from ticket_app.services.notifications import notify_assigned
from ticket_app.services.requesters import upsert_requester
from ticket_app.services.sla import (
    CLOCK_FIELDS,
    initial_sla_values,
    refresh_loaded_ticket_sla,
    refresh_ticket_sla,
)
from ticket_app.services.tags import (
    read_ticket,
    read_ticket_rows,
    tags_by_ticket,
    write_tag_changes,
)
from ticket_app.services.ticket_query import (
    RANK_LABEL,
    close_matches_query,
    filter_clauses,
    is_row_id,
    next_page_cursor,
    plain_rows,
    sorted_query,
)
from ticket_app.services.ticket_search import text_search
from ticket_app.services.triage_signals import signal_columns
from ticket_app.triage import (
    TicketClassifier,
    TriageSuggestion,
    get_classifier,
    get_history_learner,
)

logger = logging.getLogger(__name__)

ASSIGNABLE_ROLES = (Role.AGENT.value, Role.ADMIN.value)


def check_assignee(session: Session, assignee_id: int | None, field: str = "assignee_id") -> None:
    """Refuse an assignee that is not an active agent or admin (None, unassigned, is fine).

    Raises InvalidInputError naming `field`.
    """
    if assignee_id is None:
        return
    found = session.execute(
        sa.select(StaffUser.id).where(
            StaffUser.id == assignee_id,
            StaffUser.is_active.is_(True),
            StaffUser.role.in_(ASSIGNABLE_ROLES),
        )
    ).first()
    if found is None:
        raise InvalidInputError(field, "must be the id of an active agent or admin")


def list_tickets(
    filters: TicketFilters | None = None,
    *,
    limit: int = 50,
    cursor: str | None = None,
    sort: TicketSort = TicketSort.NEWEST,
    close_matches: bool = False,
) -> TicketPage:
    """One page of tickets matching `filters` in `sort` order (default newest first).

    With `close_matches`, a first page sorted by relevance whose search words match nothing
    lists close matches instead (`TicketPage.close_matches`; one page); the export and bulk
    never ask for them.

    Ties are broken by id in the sort's direction. `limit` is the page size
    (1..page_size_max, enforced by callers); `cursor` is the `next_cursor` of the previous page
    of the same sort. Keyset pagination keeps pages free of duplicates and gaps while tickets
    arrive, on an index for every sort. `total` is exact or flagged as an estimate
    (`total_exact`, see `services.counts.page_total`). Raises InvalidCursorError for a
    foreign or stale cursor or one issued for another sort, and DatabaseUnavailableError when
    the database is down.
    """
    filters = filters or TicketFilters()
    with service_session() as session:
        clauses = filter_clauses(session, filters)
        rows = plain_rows(session, sorted_query(session, filters, sort, cursor, limit + 1))
        search = text_search(filters.search_terms())
        close = (
            close_matches
            and sort is TicketSort.RELEVANCE
            and cursor is None
            and not rows
            and search is not None
            and bool(search.query.clauses)
        )
        if close:
            rows = plain_rows(session, close_matches_query(session, filters, search).limit(limit))
        has_more = len(rows) > limit and not close
        rows = rows[:limit]
        # A first page that is not full holds every match: no count needed (a rare search).
        total, total_exact = (
            (len(rows), True)
            if cursor is None and not has_more
            else page_total(session, filters, clauses)
        )
        items = read_ticket_rows(session, rows)
        next_cursor = None
        if has_more and rows:
            rank = rows[-1]._mapping[RANK_LABEL] if sort is TicketSort.RELEVANCE else None
            next_cursor = next_page_cursor(rows[-1], sort, rank)
    return TicketPage(
        items=items,
        total=total,
        next_cursor=next_cursor,
        total_exact=total_exact,
        close_matches=close,
    )


def iter_tickets(
    filters: TicketFilters | None = None,
    *,
    sort: TicketSort = TicketSort.NEWEST,
    batch_size: int = 1000,
) -> Iterator[TicketRead]:
    """Every ticket matching `filters` in `sort` order, fetched page by page."""
    cursor: str | None = None
    while True:
        page = list_tickets(filters, limit=batch_size, cursor=cursor, sort=sort)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def get_ticket(ticket_id: int) -> TicketRead:
    """The ticket with this id; raises TicketNotFoundError if there is none."""
    if not is_row_id(ticket_id):
        raise TicketNotFoundError(ticket_id)
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise TicketNotFoundError(ticket_id)
        return read_ticket(session, ticket)


def _labels_confirmed(
    actor: Actor, data: TicketCreate, suggestion: TriageSuggestion | None
) -> bool:
    """Whether a new ticket's labels are a staff decision.

    Set by an agent or admin (or their
    token) without a suggestion, or different from the suggestion they were shown.
    """
    if not actor.confirms_labels or data.category is None or data.priority is None:
        return False
    if suggestion is None:
        return True
    return data.category != suggestion.category or data.priority != suggestion.priority


def _insert_ticket(
    session: Session,
    data: TicketCreate,
    suggestion: TriageSuggestion | None,
    actor: Actor,
    now: datetime,
    and_then: Callable[[Session, int], bool] | None = None,
) -> Ticket:
    """Add a ticket created at `now` and what comes with it to `session` (flushed only).

    What `create_ticket` writes, with `and_then` run after it (see `store_ticket`). The
    returned ticket holds what was inserted, not read back; when `refresh_ticket_sla`
    recomputed its service levels after the INSERT, it is expired, so reading it reloads it.
    """
    actor.require(Action.TICKETS_CREATE)
    if data.tags:
        actor.require(Action.TICKETS_EDIT)
    ticket = Ticket(
        title=data.title,
        description=data.description,
        category=data.category or (suggestion.category if suggestion else Category.GENERAL),
        priority=data.priority or (suggestion.priority if suggestion else Priority.MEDIUM),
        status=data.status,
        suggested_category=suggestion.category if suggestion else None,
        suggested_priority=suggestion.priority if suggestion else None,
        external_id=data.external_id,
        requester_name=data.requester_name,
        requester_email=data.requester_email,
        assignee_id=data.assignee_id,
        created_at=now,
        updated_at=now,
        created_by=actor.user_id if actor.kind in (ActorKind.USER, ActorKind.TOKEN) else None,
        labels_confirmed_by=actor.user_id if _labels_confirmed(actor, data, suggestion) else None,
        **signal_columns(data.title, data.description, suggestion),
    )
    check_assignee(session, data.assignee_id)
    if data.requester_email:
        ticket.requester_id = upsert_requester(session, data.requester_email, data.requester_name)
    sla_values = initial_sla_values(session, ticket)
    for name, value in (sla_values or {}).items():
        setattr(ticket, name, value)
    session.add(ticket)
    session.flush()
    record_event(session, actor, EventKind.CREATED, ticket_id=ticket.id, new=ticket.title)
    if data.tags:
        write_tag_changes(session, actor, {int(ticket.id): ([], data.tags)})
    notify_assigned(session, ticket, actor)
    added_to_history = and_then is not None and and_then(session, int(ticket.id))
    if sla_values is None or added_to_history:
        refresh_ticket_sla(session, int(ticket.id), now)
        session.expire(ticket)  # written by the refresh's own UPDATE: reloaded if read
    return ticket


def _after_create(ticket: Ticket) -> None:
    """What follows a committed create: staff-confirmed labels are news to the team model."""
    if ticket.labels_confirmed_by is not None:
        get_history_learner().mark_stale()


def create_ticket(
    data: TicketCreate,
    suggestion: TriageSuggestion | None = None,
    *,
    actor: Actor,
    idempotency: IdempotentRequest | None = None,
) -> TicketRead:
    """Store a new ticket, with its `created` audit event, and return it.

    Missing category/priority are taken from `suggestion`; without one they default to
    general/medium. The suggestion itself is stored alongside so overrides can be measured.
    A requester address links the ticket to that requester's record (created when new); an
    assignee other than the creator is notified. Its `tags` are stored with a `changed` event
    (field `tags`).
    With `idempotency`, the key and this answer are stored in the same transaction (see
    `services.idempotency`). Raises PermissionDeniedError unless `actor` may
    create tickets (and edit them, to set tags), DatabaseUnavailableError, or
    ConstraintViolationError (a taken `external_id` or key among them: `submit_ticket_once`
    tells those apart); nothing is written then.
    """
    now = utc_now()
    with service_session() as session:
        ticket = _insert_ticket(session, data, suggestion, actor, now)
        created = read_ticket(session, ticket)
        if idempotency is not None:
            answer = StoredAnswer(
                status_code=CREATED_STATUS, body=created.model_dump_json(), ticket_id=created.id
            )
            idempotency_keys.remember_answer(session, idempotency, answer, now=now)
    _after_create(ticket)
    return created


def store_ticket(
    data: TicketCreate,
    suggestion: TriageSuggestion | None = None,
    *,
    actor: Actor,
    and_then: Callable[[Session, int], bool] | None = None,
) -> int:
    """`create_ticket` for a caller that needs only the new ticket's id, which it returns.

    The ticket is not read back (two reads fewer: inbound mail creates many). `and_then(session,
    ticket_id)` adds what must commit with the ticket (the mail it came in) and returns whether
    it added comments (the service-level clock is then computed again from them); whatever it
    raises rolls the create back and propagates. Raises as `create_ticket`.
    """
    with service_session() as session:
        ticket = _insert_ticket(session, data, suggestion, actor, utc_now(), and_then)
        ticket_id = int(ticket.id)
    _after_create(ticket)
    return ticket_id


async def _suggest_if_needed(
    data: TicketCreate,
    suggestion: TriageSuggestion | None,
    classifier: TicketClassifier | None,
) -> TriageSuggestion | None:
    """`suggestion`, or the classifier's when category or priority is missing (None on failure)."""
    if suggestion is not None or (data.category is not None and data.priority is not None):
        return suggestion
    try:
        return await (classifier or get_classifier()).suggest(data.description, data.title)
    except Exception:  # the classifier contract says it never raises; stay safe if it does
        logger.exception("classifier failed; creating the ticket with defaults")
        return None


async def submit_ticket(
    data: TicketCreate,
    *,
    actor: Actor,
    suggestion: TriageSuggestion | None = None,
    classifier: TicketClassifier | None = None,
) -> TicketRead:
    """Create a ticket, asking the classifier for whatever the submitter left out.

    A `suggestion` the caller already holds (the UI asks while the user types) is stored as is;
    otherwise the classifier is asked only when category or priority is missing. A classifier
    failure never blocks creation: the ticket is stored with general/medium defaults. The
    permission is checked before the classifier is asked (PermissionDeniedError).
    """
    actor.require(Action.TICKETS_CREATE)
    suggestion = await _suggest_if_needed(data, suggestion, classifier)
    return await run_in_threadpool(lambda: create_ticket(data, suggestion, actor=actor))


CREATED_STATUS = 201


@dataclass(frozen=True)
class Submission:
    """What a create answered: the ticket, its HTTP status, and whether it is a replay.

    `replayed` is True when an Idempotency-Key repeated an earlier create: `ticket` and
    `status_code` are then that first answer's.
    """

    ticket: TicketRead
    status_code: int = CREATED_STATUS
    replayed: bool = False


def _replay(request: IdempotentRequest) -> Submission | None:
    with service_session() as session:
        answer = idempotency_keys.find_answer(session, request)
    if answer is None:
        return None
    ticket = TicketRead.model_validate_json(answer.body)
    return Submission(ticket=ticket, status_code=answer.status_code, replayed=True)


def _refuse_taken_external_id(external_id: str | None) -> None:
    """Raise ExternalIdConflictError if a ticket already has `external_id`."""
    if external_id is None:
        return
    with service_session() as session:
        existing = session.exec(select(Ticket.id).where(Ticket.external_id == external_id)).first()
    if existing is not None:
        raise ExternalIdConflictError(external_id, existing)


async def submit_ticket_once(
    data: TicketCreate,
    *,
    actor: Actor,
    idempotency_key: str | None = None,
    classifier: TicketClassifier | None = None,
) -> Submission:
    """Create a ticket as `submit_ticket` does, at most once per key and per `external_id`.

    With `idempotency_key`, a repeat of the same request by the same user within 24 hours gets
    the first answer again (`replayed`), and nothing new is written; the same key with another
    request raises InvalidInputError naming `Idempotency-Key`. A `data.external_id` that a
    stored ticket already has raises ExternalIdConflictError (with that ticket's id), also
    when a concurrent create took it first. Otherwise as `submit_ticket`.
    """
    actor.require(Action.TICKETS_CREATE)
    if data.assignee_id is not None or data.tags:
        actor.require(Action.TICKETS_EDIT)
    request = None
    if idempotency_key is not None:
        request = idempotency_keys.new_request(
            actor.user_id, idempotency_key, data.model_dump(mode="json")
        )
        replayed = await run_in_threadpool(_replay, request)
        if replayed is not None:
            return replayed
    # Checked before the classifier is asked: a duplicate should cost nothing.
    await run_in_threadpool(_refuse_taken_external_id, data.external_id)
    suggestion = await _suggest_if_needed(data, None, classifier)

    def create() -> Submission:
        try:
            ticket = create_ticket(data, suggestion, actor=actor, idempotency=request)
        except ConstraintViolationError:
            # A concurrent request committed the same key or external_id first (its unique
            # index refused ours, and nothing of ours was written): answer as if it came first.
            replayed = _replay(request) if request is not None else None
            if replayed is not None:
                return replayed
            _refuse_taken_external_id(data.external_id)
            raise
        return Submission(ticket=ticket)

    return await run_in_threadpool(create)


LABEL_FIELDS = frozenset({"category", "priority", "status"})


def ticket_etag(ticket: TicketRead) -> str:
    """The ticket's entity tag: a quoted strong ETag from its id and `updated_at`.

    Every change (a field, a comment) moves `updated_at`, so the tag names one version.
    """
    stamp = ticket.updated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f'"{ticket.id}-{stamp}"'


def etag_matches(if_match: str, etag: str) -> bool:
    """Whether an `If-Match` header value matches `etag` (RFC 9110: strong comparison).

    `*` matches any current ticket; otherwise one of the comma-separated tags must equal
    `etag` exactly (a weak `W/` tag never does).
    """
    tags = {part.strip() for part in if_match.split(",")}
    return "*" in tags or etag in tags


def _last_changed_by(session: Session, ticket_id: int) -> str | None:
    """The actor label of the ticket's latest audit event (None without events)."""
    return session.execute(
        sa.select(TicketEvent.actor_label)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.id.desc())
        .limit(1)
    ).scalar()


def update_ticket(
    ticket_id: int, changes: TicketUpdate, *, actor: Actor, if_match: str | None = None
) -> TicketRead:
    """Apply the fields present in `changes` to a ticket and return it.

    Each changed field gets a `changed` audit event (old and new value) in the same
    transaction; unchanged values write nothing. A label change by an agent or admin marks the
    ticket's labels as staff-confirmed. With `if_match` (an `If-Match` header value), the
    ticket must still be the version it names (see `ticket_etag`, `etag_matches`), checked
    under the row lock: else EditConflictError with the current ticket and who changed it.
    A new assignee is notified (unless they assigned themselves). `tags` replaces the ticket's
    set (one `changed` event with the old and new sets; null or absent: unchanged).
    A new requester address moves the ticket to that requester's record (created when new);
    clearing it leaves the ticket without one.
    Raises PermissionDeniedError, TicketNotFoundError, InvalidInputError naming `assignee_id`
    (not an active agent or admin), DatabaseUnavailableError, or ConstraintViolationError if
    the database refuses the values. Nothing is written when it raises.
    """
    actor.require(Action.TICKETS_EDIT)
    if not is_row_id(ticket_id):
        raise TicketNotFoundError(ticket_id)
    values = changes.model_dump(exclude_unset=True)
    new_tags = values.pop("tags", None)
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise TicketNotFoundError(ticket_id)
        if if_match is not None:
            current = read_ticket(session, ticket)
            if not etag_matches(if_match, ticket_etag(current)):
                raise EditConflictError(current, _last_changed_by(session, ticket_id))
        changed = {
            field: (getattr(ticket, field), value)
            for field, value in values.items()
            if getattr(ticket, field) != value
        }
        tag_change = None
        if new_tags is not None:
            old_tags = tags_by_ticket(session, [ticket_id]).get(ticket_id, [])
            if set(new_tags) != set(old_tags):
                tag_change = (old_tags, new_tags)
        if "assignee_id" in changed:
            check_assignee(session, changed["assignee_id"][1])
        if changed or tag_change:
            if tag_change:
                write_tag_changes(session, actor, {ticket_id: tag_change})
            for field, (old, new) in changed.items():
                record_event(
                    session,
                    actor,
                    EventKind.CHANGED,
                    ticket_id=ticket_id,
                    field=field,
                    old=old,
                    new=new,
                )
            # The events go first and the ticket's changes after, so its service levels are
            # computed from them before its one UPDATE (see refresh_loaded_ticket_sla).
            session.flush()
            if "requester_email" in changed:
                email = changed["requester_email"][1]
                name = values.get("requester_name", ticket.requester_name)
                ticket.requester_id = upsert_requester(session, email, name) if email else None
            for field, (_, new) in changed.items():
                setattr(ticket, field, new)
            if changed.keys() & LABEL_FIELDS and actor.confirms_labels:
                ticket.labels_confirmed_by = actor.user_id
            ticket.updated_at = utc_now()
            if changed.keys() & set(CLOCK_FIELDS):
                refresh_loaded_ticket_sla(session, ticket, ticket.updated_at)
            session.flush()
            if changed.get("assignee_id", (None, None))[1] is not None:
                notify_assigned(session, ticket, actor)
        updated = read_ticket(session, ticket)
    if changed.keys() & LABEL_FIELDS and actor.confirms_labels:
        get_history_learner().mark_stale()
    return updated


def list_ticket_events(ticket_id: int, *, limit: int = 50, cursor: str | None = None) -> EventPage:
    """The ticket's audit trail, oldest first, `limit` per page after `cursor`.

    Raises TicketNotFoundError for an unknown ticket, InvalidCursorError for a foreign cursor.
    """
    if not is_row_id(ticket_id):
        raise TicketNotFoundError(ticket_id)
    with service_session() as session:
        if not audit.ticket_exists(session, ticket_id):
            raise TicketNotFoundError(ticket_id)
        return audit.ticket_events(session, ticket_id, limit=limit, cursor=cursor)


def record_export(filters: TicketFilters, *, actor: Actor, interrupted: bool = False) -> None:
    """Check that `actor` may export and write the export's audit event (with the filters).

    `exported` for a file delivered whole, `export_interrupted` (with `interrupted`) for one
    whose delivery stopped part-way. Raises PermissionDeniedError before anything is written,
    DatabaseUnavailableError when the event cannot be stored.
    """
    actor.require(Action.TICKETS_EXPORT)
    described = filters.model_dump_json(exclude_none=True)
    kind = EventKind.EXPORT_INTERRUPTED if interrupted else EventKind.EXPORTED
    with service_session() as session:
        record_event(session, actor, kind, field="filters", new=described)


def change_marker() -> str:
    """A short fingerprint that changes whenever any ticket is created or updated.

    Built from max(id) and max(updated_at), both answered from indexes, so a console can poll
    it every few seconds and reload its page and stats only when something changed.
    """
    with service_session() as session:
        newest_id, newest_update = session.execute(
            sa.select(sa.func.max(Ticket.id), sa.func.max(Ticket.updated_at))
        ).one()
    return f"{newest_id or 0}@{newest_update or ''}"
