"""Ticket service: every query on the `tickets` table is built here.

The REST API, the Reflex UI and the command-line tools all call these functions, so a rule
(ordering, search semantics, the stats definitions) exists exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from ticket_app.models import (
    MAX_ROW_ID,
    ActorKind,
    Category,
    EventKind,
    Priority,
    Role,
    StaffUser,
    Status,
    Ticket,
    TicketEvent,
    utc_now,
)
from ticket_app.schemas import (
    ASSIGNEE_ME,
    ASSIGNEE_NONE,
    ASSIGNEE_PATTERN,
    AssigneeLoad,
    EventPage,
    TicketCreate,
    TicketFilters,
    TicketPage,
    TicketRead,
    TicketSort,
    TicketStats,
    TicketUpdate,
    TriageOverrideStats,
    is_id_text,
)
from ticket_app.services import audit, counts
from ticket_app.services import idempotency as idempotency_keys
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import (
    ConstraintViolationError,
    EditConflictError,
    ExternalIdConflictError,
    InvalidCursorError,
    InvalidInputError,
    TicketNotFoundError,
)
from ticket_app.services.idempotency import IdempotentRequest, StoredAnswer
from ticket_app.services.triage_signals import signal_columns
from ticket_app.triage import (
    TicketClassifier,
    TriageSuggestion,
    get_classifier,
    get_history_learner,
)

logger = logging.getLogger(__name__)

_LIKE_ESCAPE = "\\"
_CURSOR_PREFIX = "t1:"
# Cursors of the other sorts carry the sort and the last row's sort key (see `_SortOrder`).
_SORTED_CURSOR_PREFIX = "t2:"


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_clause(session: Session, term: str) -> sa.ColumnElement[bool]:
    r"""Case-insensitive substring match on title or description, with `%`, `_`, `\` literal.

    PostgreSQL uses ILIKE, which its pg_trgm GIN indexes serve. SQLite's LIKE folds ASCII only,
    so both sides go through the Unicode-aware `casefold()` registered on its connections.
    """
    if session.get_bind().dialect.name == "sqlite":
        pattern = f"%{_escape_like(term.casefold())}%"
        return sa.or_(
            sa.func.casefold(Ticket.title).like(pattern, escape=_LIKE_ESCAPE),
            sa.func.casefold(Ticket.description).like(pattern, escape=_LIKE_ESCAPE),
        )
    pattern = f"%{_escape_like(term)}%"
    return sa.or_(
        Ticket.title.ilike(pattern, escape=_LIKE_ESCAPE),
        Ticket.description.ilike(pattern, escape=_LIKE_ESCAPE),
    )


def _filter_clauses(session: Session, filters: TicketFilters) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of `filters`, combined with AND by the caller."""
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.category is not None:
        clauses.append(Ticket.category == filters.category.value)
    if filters.priority is not None:
        clauses.append(Ticket.priority == filters.priority.value)
    if filters.status is not None:
        clauses.append(Ticket.status == filters.status.value)
    clauses.extend(_search_clause(session, term) for term in filters.search_terms())
    # Inclusive bounds: a client syncing with the newest timestamp it saw gets that ticket again
    # rather than missing others stamped with the same instant.
    if filters.created_since is not None:
        clauses.append(Ticket.created_at >= filters.created_since)
    if filters.updated_since is not None:
        clauses.append(Ticket.updated_at >= filters.updated_since)
    if filters.assignee == ASSIGNEE_NONE:
        clauses.append(Ticket.assignee_id.is_(None))
    elif filters.assignee is not None:
        # An id beyond the column's range is no one's (and would not bind as an integer).
        assignee_id = int(filters.assignee)
        clauses.append(Ticket.assignee_id == assignee_id if is_row_id(assignee_id) else sa.false())
    if filters.language is not None:
        clauses.append(Ticket.language == filters.language)
    if filters.frustrated is not None:
        clauses.append(Ticket.frustrated == filters.frustrated)
    return clauses


def resolve_assignee(value: str, actor: Actor | None) -> str:
    """The `assignee` filter value for TicketFilters: "me" becomes the actor's user id.

    Accepts exactly `me` (the signed-in user, or a token's owner), `none` and a user id of 1
    to 10 ASCII digits (ASSIGNEE_PATTERN; an id no user has matches no ticket). Raises
    InvalidInputError naming `assignee` for anything else, and for `me` when the actor is not
    a staff user (a process).
    """
    if not re.fullmatch(ASSIGNEE_PATTERN, value):
        raise InvalidInputError("assignee", "must be me, none or a staff user's id")
    if value == ASSIGNEE_ME:
        if actor is None or actor.user_id is None:
            raise InvalidInputError("assignee", "me needs a signed-in staff user or their token")
        return str(actor.user_id)
    return value if value == ASSIGNEE_NONE else str(int(value))


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


def is_row_id(value: int) -> bool:
    """Whether `value` can be the id of a stored ticket or event (1..MAX_ROW_ID)."""
    return 1 <= value <= MAX_ROW_ID


def encode_cursor(ticket_id: int) -> str:
    """Opaque cursor for the page that follows the ticket `ticket_id` (newest-first order)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{ticket_id}".encode()).decode().rstrip("=")


def _unbase64(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc


def decode_cursor(cursor: str) -> int:
    """Ticket id inside a cursor from `encode_cursor`; raises InvalidCursorError otherwise.

    The id must be ASCII digits (`str.isdigit` also accepts `²`, which `int()` refuses) within
    the id column's range.
    """
    raw = _unbase64(cursor)
    digits = raw.removeprefix(_CURSOR_PREFIX)
    if not raw.startswith(_CURSOR_PREFIX) or not is_id_text(digits):
        raise InvalidCursorError("cursor is not one this API issued")
    return int(digits)


@dataclass(frozen=True)
class _SortOrder:
    """A sort as index columns: `keys` then the id, all descending or all ascending.

    One direction for every column lets a single row-value comparison, `(keys..., id) <
    (values..., id)` (`>` ascending), select the rows after a cursor, which PostgreSQL serves
    as a range of the matching index (`ix_tickets_<keys>_id`).
    """

    keys: tuple[Any, ...]
    descending: bool

    def order_by(self) -> list[Any]:
        columns = [*self.keys, Ticket.id]
        return [column.desc() if self.descending else column.asc() for column in columns]

    def after(self, values: tuple[Any, ...], ticket_id: int) -> sa.ColumnElement[bool]:
        """Rows strictly after the row with sort key `values` and id `ticket_id`."""
        left = sa.tuple_(*self.keys, Ticket.id)
        bound = [
            sa.literal(value, type_=column.type)
            for column, value in zip(self.keys, values, strict=True)
        ]
        right = sa.tuple_(*bound, sa.literal(ticket_id, type_=sa.Integer))
        return left < right if self.descending else left > right


_SORT_ORDERS: dict[TicketSort, _SortOrder] = {
    TicketSort.NEWEST: _SortOrder((Ticket.created_at,), descending=True),
    TicketSort.OLDEST: _SortOrder((Ticket.created_at,), descending=False),
    TicketSort.UPDATED: _SortOrder((Ticket.updated_at,), descending=True),
    TicketSort.PRIORITY: _SortOrder((Ticket.priority_rank, Ticket.created_at), descending=True),
    TicketSort.STATUS: _SortOrder((Ticket.status_rank, Ticket.created_at), descending=True),
}
_RANKS = {"priority_rank": len(Priority), "status_rank": len(Status)}
_OTHER_SORT = "cursor was issued for another sort order; start again from the first page"


def _sort_key(ticket: Ticket, sort: TicketSort) -> list[Any]:
    """The JSON form of `ticket`'s sort key: ranks as numbers, timestamps as ISO 8601 UTC."""
    values = []
    for column in _SORT_ORDERS[sort].keys:
        value = getattr(ticket, column.key)
        values.append(value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value)
    return values


def _encode_sorted_cursor(ticket: Ticket, sort: TicketSort) -> str:
    """Cursor after `ticket` in `sort` order: the sort, the id and the sort key themselves.

    Carrying the key keeps paging stable when the cursor's ticket changes meanwhile (a ticket
    edited between two pages of `-updated_at` does not send the reader back to the top).
    """
    payload = json.dumps([sort.value, ticket.id, *_sort_key(ticket, sort)], separators=(",", ":"))
    raw = f"{_SORTED_CURSOR_PREFIX}{payload}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _key_value(column: Any, value: object) -> Any:
    """One sort-key value read back from a cursor; ValueError if it is not one we wrote."""
    if column.key in _RANKS:
        if type(value) is not int or not 0 <= value <= _RANKS[column.key]:
            raise ValueError("rank out of range")
        return value
    if not isinstance(value, str):
        raise ValueError("timestamp expected")
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() is None:
        raise ValueError("timestamp without offset")
    return moment


def _decode_sorted_cursor(raw: str, sort: TicketSort) -> tuple[tuple[Any, ...], int]:
    """(sort key, ticket id) of a `t2:` cursor issued for `sort`; InvalidCursorError otherwise."""
    try:
        payload = json.loads(raw.removeprefix(_SORTED_CURSOR_PREFIX))
    except ValueError as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
    keys = _SORT_ORDERS[sort].keys
    sorts = {member.value for member in TicketSort}
    if not isinstance(payload, list) or len(payload) < 2 or not isinstance(payload[0], str):
        raise InvalidCursorError("cursor is not one this API issued")
    if payload[0] not in sorts:
        raise InvalidCursorError("cursor is not one this API issued")
    if payload[0] != sort.value:
        raise InvalidCursorError(_OTHER_SORT)
    ticket_id = payload[1]
    if len(payload) != 2 + len(keys) or type(ticket_id) is not int or not is_row_id(ticket_id):
        raise InvalidCursorError("cursor is not one this API issued")
    try:
        values = tuple(
            _key_value(column, value) for column, value in zip(keys, payload[2:], strict=True)
        )
    except ValueError as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
    return values, ticket_id


def _after_cursor(session: Session, cursor: str, sort: TicketSort) -> sa.ColumnElement[bool]:
    """Keyset condition: rows strictly after the cursor's row in `sort` order.

    Newest-first cursors hold only the ticket id (the format clients have always held): the
    ticket's created_at is read by a subquery rather than round-tripped through Python, so the
    comparison uses exactly the stored value. Raises InvalidCursorError for a cursor of another
    sort, a foreign one, or (newest first) one whose ticket is gone.
    """
    raw = _unbase64(cursor)
    if raw.startswith(_SORTED_CURSOR_PREFIX):
        values, ticket_id = _decode_sorted_cursor(raw, sort)
        return _SORT_ORDERS[sort].after(values, ticket_id)
    cursor_id = decode_cursor(cursor)
    if sort is not TicketSort.NEWEST:
        raise InvalidCursorError(_OTHER_SORT)
    if session.get(Ticket, cursor_id) is None:
        raise InvalidCursorError("cursor points to a ticket that no longer exists")
    cursor_created = select(Ticket.created_at).where(Ticket.id == cursor_id).scalar_subquery()
    return sa.tuple_(Ticket.created_at, Ticket.id) < sa.tuple_(cursor_created, cursor_id)


def _next_cursor(ticket: Ticket, sort: TicketSort) -> str:
    if sort is TicketSort.NEWEST:
        return encode_cursor(ticket.id)
    return _encode_sorted_cursor(ticket, sort)


def sorted_query(session: Session, filters: TicketFilters, sort: TicketSort) -> Any:
    """SELECT of the tickets matching `filters` in `sort` order (for the list and the export)."""
    return (
        select(Ticket)
        .where(*_filter_clauses(session, filters))
        .order_by(*_SORT_ORDERS[sort].order_by())
    )


def list_tickets(
    filters: TicketFilters | None = None,
    *,
    limit: int = 50,
    cursor: str | None = None,
    sort: TicketSort = TicketSort.NEWEST,
) -> TicketPage:
    """One page of tickets matching `filters` in `sort` order (default newest first).

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
        clauses = _filter_clauses(session, filters)
        query = sorted_query(session, filters, sort)
        if cursor is not None:
            query = query.where(_after_cursor(session, cursor, sort))
        rows = list(session.exec(query.limit(limit + 1)).all())
        has_more = len(rows) > limit
        rows = rows[:limit]
        # A first page that is not full holds every match: no count needed (a rare search).
        total, total_exact = (
            (len(rows), True)
            if cursor is None and not has_more
            else counts.page_total(session, filters, clauses)
        )
        items = [TicketRead.model_validate(row) for row in rows]
        next_cursor = _next_cursor(rows[-1], sort) if has_more and rows else None
    return TicketPage(items=items, total=total, next_cursor=next_cursor, total_exact=total_exact)


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
        return TicketRead.model_validate(ticket)


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
    With `idempotency`, the key and this answer are stored in the same transaction (see
    `services.idempotency`). Raises PermissionDeniedError unless `actor` may create tickets,
    DatabaseUnavailableError, or ConstraintViolationError (a taken `external_id` or key among
    them: `submit_ticket_once` tells those apart); nothing is written then.
    """
    actor.require(Action.TICKETS_CREATE)
    now = utc_now()
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
    with service_session() as session:
        check_assignee(session, data.assignee_id)
        session.add(ticket)
        session.flush()
        record_event(session, actor, EventKind.CREATED, ticket_id=ticket.id, new=ticket.title)
        session.flush()
        session.refresh(ticket)
        created = TicketRead.model_validate(ticket)
        if idempotency is not None:
            answer = StoredAnswer(
                status_code=CREATED_STATUS, body=created.model_dump_json(), ticket_id=created.id
            )
            idempotency_keys.remember_answer(session, idempotency, answer, now=now)
    if ticket.labels_confirmed_by is not None:
        get_history_learner().mark_stale()
    return created


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
    if data.assignee_id is not None:
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
    Raises PermissionDeniedError, TicketNotFoundError, InvalidInputError naming `assignee_id`
    (not an active agent or admin), DatabaseUnavailableError, or ConstraintViolationError if
    the database refuses the values. Nothing is written when it raises.
    """
    actor.require(Action.TICKETS_EDIT)
    if not is_row_id(ticket_id):
        raise TicketNotFoundError(ticket_id)
    values = changes.model_dump(exclude_unset=True)
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise TicketNotFoundError(ticket_id)
        if if_match is not None:
            current = TicketRead.model_validate(ticket)
            if not etag_matches(if_match, ticket_etag(current)):
                raise EditConflictError(current, _last_changed_by(session, ticket_id))
        changed = {
            field: (getattr(ticket, field), value)
            for field, value in values.items()
            if getattr(ticket, field) != value
        }
        if "assignee_id" in changed:
            check_assignee(session, changed["assignee_id"][1])
        if changed:
            for field, (old, new) in changed.items():
                setattr(ticket, field, new)
                record_event(
                    session,
                    actor,
                    EventKind.CHANGED,
                    ticket_id=ticket_id,
                    field=field,
                    old=old,
                    new=new,
                )
            if changed.keys() & LABEL_FIELDS and actor.confirms_labels:
                ticket.labels_confirmed_by = actor.user_id
            ticket.updated_at = utc_now()
            session.add(ticket)
            session.flush()
            session.refresh(ticket)
        updated = TicketRead.model_validate(ticket)
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


def _utc_date(value: datetime | str | None) -> date | None:
    """A calendar date (UTC) from an aggregate value, which SQLite returns as text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.date()


UNASSIGNED_NAME = "Unassigned"


def _open_by_assignee(
    session: Session, clauses: list[sa.ColumnElement[bool]]
) -> list[AssigneeLoad]:
    """Open tickets among those matching `clauses`, per assignee: most first, then by name."""
    query = (
        sa.select(Ticket.assignee_id, StaffUser.name, sa.func.count().label("open"))
        .select_from(Ticket)
        .outerjoin(StaffUser, StaffUser.id == Ticket.assignee_id)
        .where(*clauses, Ticket.status == Status.OPEN.value)
        .group_by(Ticket.assignee_id, StaffUser.name)
    )
    loads = [
        AssigneeLoad(assignee_id=assignee_id, name=name or UNASSIGNED_NAME, open=int(count))
        for assignee_id, name, count in session.execute(query).all()
    ]
    return sorted(loads, key=lambda load: (-load.open, load.assignee_id is None, load.name))


def _median_first_reply_seconds(
    session: Session, clauses: list[sa.ColumnElement[bool]]
) -> float | None:
    """Median seconds from creation to first public reply over matching tickets that have one.

    PostgreSQL computes it (`percentile_cont`); SQLite has no percentile function, so the
    durations are fetched and the median taken in Python.
    """
    replied = [*clauses, Ticket.first_public_reply_at.is_not(None)]
    if session.get_bind().dialect.name == "postgresql":
        seconds = sa.func.extract("epoch", Ticket.first_public_reply_at - Ticket.created_at)
        median = session.execute(
            sa.select(sa.func.percentile_cont(0.5).within_group(seconds)).where(*replied)
        ).scalar()
        return None if median is None else round(float(median), 3)
    rows = session.execute(
        sa.select(Ticket.created_at, Ticket.first_public_reply_at).where(*replied)
    ).all()
    if not rows:
        return None
    return round(statistics.median((reply - created).total_seconds() for created, reply in rows), 3)


def ticket_stats(
    filters: TicketFilters | None = None, *, today: date | None = None, workload: bool = False
) -> TicketStats:
    """Aggregate statistics over the tickets matching `filters` (every list filter applies).

    Enum-only filters (or none) are answered from the trigger-kept count tables in constant
    time (`services.counts`). Any other filter: the database computes every count and the
    earliest creation time in a single aggregate SELECT; Python only divides. See TicketStats
    for the definition of avg_tickets_per_day. With `workload`, open tickets per assignee and
    the median time to first public reply are added, one query each (they grow with the
    number of open or replied tickets, so the dashboard asks for them and plain stats do not;
    on SQLite the median is computed in Python from the fetched durations). `today` (UTC) is
    a parameter so the arithmetic can be checked.
    """
    filters = filters or TicketFilters()
    if counts.reads_counts(filters):
        stats = counts.stats_from_counts(filters, today=today or utc_now().date())
        return _with_workload(stats, filters) if workload else stats

    def count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    columns = [
        sa.func.count().label("total"),
        count_where(Ticket.status == Status.OPEN.value).label("open"),
        sa.func.min(Ticket.created_at).label("first_created"),
        *(count_where(Ticket.priority == p.value).label(f"priority_{p.value}") for p in Priority),
        *(count_where(Ticket.category == c.value).label(f"category_{c.value}") for c in Category),
    ]
    with service_session() as session:
        clauses = _filter_clauses(session, filters)
        row = session.execute(sa.select(*columns).select_from(Ticket).where(*clauses))
        row = row.mappings().one()
    total = int(row["total"])
    first_day = _utc_date(row["first_created"])
    today = today or utc_now().date()
    days = (max(today, first_day) - first_day).days + 1 if first_day else 0
    stats = TicketStats(
        total_tickets=total,
        open_tickets=int(row["open"]),
        avg_tickets_per_day=round(total / days, 2) if days else 0.0,
        priority_breakdown={p: int(row[f"priority_{p.value}"]) for p in Priority},
        category_breakdown={c: int(row[f"category_{c.value}"]) for c in Category},
    )
    return _with_workload(stats, filters) if workload else stats


def _with_workload(stats: TicketStats, filters: TicketFilters) -> TicketStats:
    """`stats` with open tickets per assignee and the median time to first public reply."""
    with service_session() as session:
        clauses = _filter_clauses(session, filters)
        loads = _open_by_assignee(session, clauses)
        median = _median_first_reply_seconds(session, clauses)
    return stats.model_copy(
        update={"open_by_assignee": loads, "median_first_reply_seconds": median}
    )


def triage_override_stats(filters: TicketFilters | None = None) -> TriageOverrideStats:
    """How many tickets carry a classifier suggestion and how many staff overrode, in one query."""
    filters = filters or TicketFilters()
    has_suggestion = Ticket.suggested_category.is_not(None)
    overridden = sa.and_(
        has_suggestion,
        sa.or_(
            Ticket.category != Ticket.suggested_category,
            Ticket.priority != Ticket.suggested_priority,
        ),
    )
    with service_session() as session:
        query = sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((has_suggestion, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((overridden, 1), else_=0)), 0),
        ).where(*_filter_clauses(session, filters))
        suggested, overridden_count = session.execute(query).one()
    suggested, overridden_count = int(suggested), int(overridden_count)
    rate = round(overridden_count / suggested, 4) if suggested else 0.0
    return TriageOverrideStats(suggested=suggested, overridden=overridden_count, override_rate=rate)


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


# No one person's decisions may make up more than this share of the team model's training rows
# (beyond a floor, so a small team still learns), so one account cannot steer the suggestions.
MAX_ACTOR_SHARE = 0.4
ACTOR_FLOOR_ROWS = 200


def training_rows(limit: int = 5000) -> list[tuple[str, str, str]]:
    """The team's labelled history for the triage learner, newest first.

    Returns up to `limit` rows `(text, category, priority)`, text being the title and the
    description on separate lines, for tickets whose labels an agent or admin set or confirmed
    while signed in (or through their token): `labels_confirmed_by` is set. Intake, import and
    anonymous rows never train the model, nor do the model's own unreviewed guesses. Each
    person contributes at most max(ACTOR_FLOOR_ROWS, MAX_ACTOR_SHARE x the rows) of their
    newest decisions, so a single account cannot outvote the team.
    """
    query = (
        sa.select(
            Ticket.title,
            Ticket.description,
            Ticket.category,
            Ticket.priority,
            Ticket.labels_confirmed_by,
        )
        .where(Ticket.labels_confirmed_by.is_not(None))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    with service_session() as session:
        rows = session.execute(query).all()
    cap = max(ACTOR_FLOOR_ROWS, int(MAX_ACTOR_SHARE * len(rows)))
    taken: Counter[int] = Counter()
    kept = []
    for title, description, category, priority, actor_id in rows:
        taken[actor_id] += 1
        if taken[actor_id] <= cap:
            kept.append((f"{title}\n{description}", category, priority))
    return kept
