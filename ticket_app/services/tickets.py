"""Ticket service: every query on the `tickets` table is built here.

The REST API, the Reflex UI and the command-line tools all call these functions, so a rule
(ordering, search semantics, the stats definitions) exists exactly once.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from ticket_app.models import Category, Priority, Status, Ticket, utc_now
from ticket_app.schemas import (
    TicketCreate,
    TicketFilters,
    TicketPage,
    TicketRead,
    TicketStats,
    TicketUpdate,
    TriageOverrideStats,
)
from ticket_app.services.database import session_scope
from ticket_app.services.errors import (
    ConstraintViolationError,
    DatabaseUnavailableError,
    InvalidCursorError,
    TicketNotFoundError,
)
from ticket_app.triage import (
    TicketClassifier,
    TriageSuggestion,
    get_classifier,
    get_history_learner,
)

logger = logging.getLogger(__name__)

_LIKE_ESCAPE = "\\"
_CURSOR_PREFIX = "t1:"


@contextmanager
def _session() -> Iterator[Session]:
    """A session whose connection and constraint errors become service errors."""
    try:
        with session_scope() as session:
            yield session
    except (IntegrityError, DataError) as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        raise ConstraintViolationError(str(exc.orig), constraint) from exc
    except (OperationalError, SAInterfaceError) as exc:
        logger.error("database unavailable: %s", exc.orig)
        raise DatabaseUnavailableError("The database is unavailable; nothing was saved.") from exc


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
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.category is not None:
        clauses.append(Ticket.category == filters.category.value)
    if filters.priority is not None:
        clauses.append(Ticket.priority == filters.priority.value)
    if filters.status is not None:
        clauses.append(Ticket.status == filters.status.value)
    term = filters.normalized_search()
    if term is not None:
        clauses.append(_search_clause(session, term))
    return clauses


def encode_cursor(ticket_id: int) -> str:
    """Opaque cursor for the page that follows the ticket `ticket_id`."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Ticket id inside a cursor from `encode_cursor`; raises InvalidCursorError otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
    if not raw.startswith(_CURSOR_PREFIX) or not raw[len(_CURSOR_PREFIX) :].isdigit():
        raise InvalidCursorError("cursor is not one this API issued")
    return int(raw[len(_CURSOR_PREFIX) :])


def _after_cursor(cursor_id: int) -> sa.ColumnElement[bool]:
    """Keyset condition: strictly after ticket `cursor_id` in (created_at DESC, id DESC) order.

    A row-value comparison, which PostgreSQL turns into an index range on (created_at, id), so
    a deep page costs the same as the first. The cursor ticket's created_at is read by a
    subquery rather than round-tripped through Python, so the comparison uses exactly the stored
    value on every dialect.
    """
    cursor_created = select(Ticket.created_at).where(Ticket.id == cursor_id).scalar_subquery()
    return sa.tuple_(Ticket.created_at, Ticket.id) < sa.tuple_(cursor_created, cursor_id)


def list_tickets(
    filters: TicketFilters | None = None, *, limit: int = 50, cursor: str | None = None
) -> TicketPage:
    """One page of tickets matching `filters`, newest first (ties: higher id first).

    `limit` is the page size (1..page_size_max, enforced by callers); `cursor` is the
    `next_cursor` of the previous page. Keyset pagination keeps pages free of duplicates and
    gaps while new tickets arrive. Raises InvalidCursorError for a foreign or stale cursor and
    DatabaseUnavailableError when the database is down.
    """
    filters = filters or TicketFilters()
    with _session() as session:
        clauses = _filter_clauses(session, filters)
        total = session.exec(select(sa.func.count()).select_from(Ticket).where(*clauses)).one()
        query = select(Ticket).where(*clauses)
        if cursor is not None:
            cursor_id = decode_cursor(cursor)
            if session.get(Ticket, cursor_id) is None:
                raise InvalidCursorError("cursor points to a ticket that no longer exists")
            query = query.where(_after_cursor(cursor_id))
        query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit + 1)
        rows = list(session.exec(query).all())
        has_more = len(rows) > limit
        rows = rows[:limit]
        items = [TicketRead.model_validate(row) for row in rows]
    next_cursor = encode_cursor(items[-1].id) if has_more and items else None
    return TicketPage(items=items, total=total, next_cursor=next_cursor)


def iter_tickets(
    filters: TicketFilters | None = None, *, batch_size: int = 1000
) -> Iterator[TicketRead]:
    """Every ticket matching `filters`, newest first, fetched page by page (for exports)."""
    cursor: str | None = None
    while True:
        page = list_tickets(filters, limit=batch_size, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def get_ticket(ticket_id: int) -> TicketRead:
    """The ticket with this id; raises TicketNotFoundError if there is none."""
    with _session() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise TicketNotFoundError(ticket_id)
        return TicketRead.model_validate(ticket)


def create_ticket(data: TicketCreate, suggestion: TriageSuggestion | None = None) -> TicketRead:
    """Store a new ticket and return it.

    Missing category/priority are taken from `suggestion`; without one they default to
    general/medium. The suggestion itself is stored alongside so overrides can be measured.
    Raises DatabaseUnavailableError or ConstraintViolationError; nothing is written then.
    """
    now = utc_now()
    ticket = Ticket(
        title=data.title,
        description=data.description,
        category=data.category or (suggestion.category if suggestion else Category.GENERAL),
        priority=data.priority or (suggestion.priority if suggestion else Priority.MEDIUM),
        status=data.status,
        suggested_category=suggestion.category if suggestion else None,
        suggested_priority=suggestion.priority if suggestion else None,
        created_at=now,
        updated_at=now,
    )
    with _session() as session:
        session.add(ticket)
        session.flush()
        session.refresh(ticket)
        return TicketRead.model_validate(ticket)


async def submit_ticket(
    data: TicketCreate,
    *,
    suggestion: TriageSuggestion | None = None,
    classifier: TicketClassifier | None = None,
) -> TicketRead:
    """Create a ticket, asking the classifier for whatever the submitter left out.

    A `suggestion` the caller already holds (the UI asks while the user types) is stored as is;
    otherwise the classifier is asked only when category or priority is missing. A classifier
    failure never blocks creation: the ticket is stored with general/medium defaults.
    """
    if suggestion is None and (data.category is None or data.priority is None):
        try:
            suggestion = await (classifier or get_classifier()).suggest(
                data.description, data.title
            )
        except Exception:  # the classifier contract says it never raises; stay safe if it does
            logger.exception("classifier failed; creating the ticket with defaults")
    return await run_in_threadpool(create_ticket, data, suggestion)


def update_ticket(ticket_id: int, changes: TicketUpdate) -> TicketRead:
    """Apply the fields present in `changes` to a ticket and return it.

    Raises TicketNotFoundError for an unknown id, DatabaseUnavailableError when the database is
    down, ConstraintViolationError if the database refuses the new values.
    """
    values = changes.model_dump(exclude_unset=True)
    with _session() as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise TicketNotFoundError(ticket_id)
        if values:
            for field, value in values.items():
                setattr(ticket, field, value)
            ticket.updated_at = utc_now()
            session.add(ticket)
            session.flush()
            session.refresh(ticket)
        updated = TicketRead.model_validate(ticket)
    if values.keys() & {"category", "priority", "status"}:
        get_history_learner().mark_stale()
    return updated


def _utc_date(value: datetime | str | None) -> date | None:
    """A calendar date (UTC) from an aggregate value, which SQLite returns as text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.date()


def ticket_stats(filters: TicketFilters | None = None, *, today: date | None = None) -> TicketStats:
    """Aggregate statistics over the tickets matching `filters`, in one SQL query.

    The database computes every count and the earliest creation time in a single aggregate
    SELECT; Python only divides. See TicketStats for the definition of avg_tickets_per_day.
    `today` (UTC) is a parameter so the arithmetic can be checked.
    """
    filters = filters or TicketFilters()

    def count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    columns = [
        sa.func.count().label("total"),
        count_where(Ticket.status == Status.OPEN.value).label("open"),
        sa.func.min(Ticket.created_at).label("first_created"),
        *(count_where(Ticket.priority == p.value).label(f"priority_{p.value}") for p in Priority),
        *(count_where(Ticket.category == c.value).label(f"category_{c.value}") for c in Category),
    ]
    with _session() as session:
        query = sa.select(*columns).select_from(Ticket).where(*_filter_clauses(session, filters))
        row = session.execute(query).mappings().one()
    total = int(row["total"])
    first_day = _utc_date(row["first_created"])
    today = today or utc_now().date()
    days = (max(today, first_day) - first_day).days + 1 if first_day else 0
    return TicketStats(
        total_tickets=total,
        open_tickets=int(row["open"]),
        avg_tickets_per_day=round(total / days, 2) if days else 0.0,
        priority_breakdown={p: int(row[f"priority_{p.value}"]) for p in Priority},
        category_breakdown={c: int(row[f"category_{c.value}"]) for c in Category},
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
    with _session() as session:
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
    with _session() as session:
        newest_id, newest_update = session.execute(
            sa.select(sa.func.max(Ticket.id), sa.func.max(Ticket.updated_at))
        ).one()
    return f"{newest_id or 0}@{newest_update or ''}"


def training_rows(limit: int = 5000) -> list[tuple[str, str, str]]:
    """The team's labelled history for the triage learner, newest first.

    Returns up to `limit` rows `(text, category, priority)`, text being the title and the
    description on separate lines, for tickets whose labels a person set or confirmed: created
    without a classifier suggestion, changed away from the suggestion, or moved past `open`
    (someone worked on it and left the labels). Tickets still open with the suggestion
    untouched are left out, so the model never learns from its own unreviewed guesses.
    """
    confirmed = sa.or_(
        Ticket.suggested_category.is_(None),
        Ticket.status != Status.OPEN.value,
        Ticket.category != Ticket.suggested_category,
        Ticket.priority != Ticket.suggested_priority,
    )
    query = (
        sa.select(Ticket.title, Ticket.description, Ticket.category, Ticket.priority)
        .where(confirmed)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    with _session() as session:
        rows = session.execute(query).all()
    return [
        (f"{title}\n{description}", category, priority)
        for title, description, category, priority in rows
    ]
