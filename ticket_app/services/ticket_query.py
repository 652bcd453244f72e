"""The pieces every ticket list is built from: filters, search, sort orders and cursors.

`filter_clauses` turns the list filters into WHERE conditions (the list, the stats, bulk changes
and the export all filter through it), searching words through `services.ticket_search`;
`sorted_query` orders the matches by any `TicketSort` (along its index, or by relevance);
cursors carry a page's position (keyset pagination), so pages stay free of gaps and repeats
while tickets change.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from ticket_app.enums import SlaFilter
from ticket_app.models import (
    MAX_ROW_ID,
    RANKED_COLUMNS,
    Priority,
    Status,
    Ticket,
    TicketTag,
    utc_now,
)
from ticket_app.schemas import (
    ASSIGNEE_ME,
    ASSIGNEE_NONE,
    ASSIGNEE_PATTERN,
    LIST_FILTERS,
    TicketFilters,
    TicketSort,
    is_id_text,
    parse_tag_filter,
)
from ticket_app.services.access import Actor
from ticket_app.services.errors import InvalidCursorError, InvalidInputError
from ticket_app.services.ticket_search import (
    TextSearch,
    close_match_clauses,
    close_rank,
    filter_values,
    relevance,
    text_clauses,
    text_search,
)
from ticket_app.settings import get_settings

_CURSOR_PREFIX = "t1:"
# Cursors of the other sorts carry the sort and the last row's sort key (see `_SortOrder`).
_SORTED_CURSOR_PREFIX = "t2:"
RANK_LABEL = "search_rank"
"""Label of the relevance rank selected beside each ticket when sorting by relevance."""
RELEVANCE_WINDOW = 2000
"""Sorted by relevance, only the newest this many matches are ranked and listed (a search
engine's usual cap on ranked results; newest first pages through every match)."""


def _equals(column: str, value: object) -> list[sa.ColumnElement[bool]]:
    """Tickets whose `column` equals `value`; a ranked column's rank too, for its index."""
    clauses = [getattr(Ticket, column) == value]
    ranks = RANKED_COLUMNS.get(column)
    if ranks is not None and value in ranks:
        clauses.append(getattr(Ticket, f"{column}_rank") == ranks[str(value)])
    return clauses


def filter_clauses(
    session: Session, filters: TicketFilters, *, words: bool = True
) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of `filters`, combined with AND by the caller.

    A filter declared with a `column` in `LIST_FILTERS` keeps tickets whose column equals its
    value; the search (`services.ticket_search`), the two times, the assignee, service levels
    and tags have their own clauses here. Filters written into the search (`status:open`) apply
    like the list filters of the same names. `words=False` leaves out the search's words (close
    matches replace them). Raises InvalidInputError naming `search` for a filter value written
    there that the filter refuses.
    """
    clauses: list[sa.ColumnElement[bool]] = []
    search = text_search(filters.search_terms())
    written = filter_values(search) if search is not None else {}
    for item in LIST_FILTERS:
        value = getattr(filters, item.name)
        if item.column is not None and value is not None:
            plain = value.value if isinstance(value, StrEnum) else value
            clauses.extend(_equals(item.column, plain))
    for name, value in written.items():
        if name != "assignee":
            clauses.extend(_equals(name, value.value))
    if search is not None and words:
        clauses.extend(text_clauses(session, search))
    # Inclusive bounds: a client syncing with the newest timestamp it saw gets that ticket again
    # rather than missing others stamped with the same instant.
    if filters.created_since is not None:
        clauses.append(Ticket.created_at >= filters.created_since)
    if filters.updated_since is not None:
        clauses.append(Ticket.updated_at >= filters.updated_since)
    for assignee in (filters.assignee, written.get("assignee")):
        if assignee is not None:
            clauses.append(_assignee_clause(assignee))
    if filters.sla is not None:
        clauses.append(_sla_clause(filters.sla))
    if filters.tag is not None:
        clauses.extend(_tag_clauses(filters.tag))
    return clauses


def _tag_clauses(value: str) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of the `tag` filter (`schemas.tags.parse_tag_filter`'s syntax).

    A required tag is `id IN (tickets with the tag)`, an excluded one `NOT EXISTS (that
    ticket with the tag)`: both read `ix_ticket_tags_tag_ticket_id` (`ux_..._ticket_id_tag`
    for the probe), so the planner can start from the tag's few tickets or walk the sort's
    index and probe each.
    """
    parsed = parse_tag_filter(value)
    if parsed.impossible:
        return [sa.false()]
    clauses: list[sa.ColumnElement[bool]] = [
        Ticket.id.in_(sa.select(TicketTag.ticket_id).where(TicketTag.tag == tag))
        for tag in parsed.required
    ]
    clauses.extend(
        ~sa.exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.tag == tag)
        for tag in parsed.excluded
    )
    return clauses


def _assignee_clause(assignee: str) -> sa.ColumnElement[bool]:
    if assignee == ASSIGNEE_NONE:
        return Ticket.assignee_id.is_(None)
    # An id beyond the column's range is no one's (and would not bind as an integer).
    assignee_id = int(assignee)
    return Ticket.assignee_id == assignee_id if is_row_id(assignee_id) else sa.false()


def _sla_clause(sla: SlaFilter) -> sa.ColumnElement[bool]:
    """The WHERE condition of the `sla` filter (see `SlaFilter`).

    Both are served by the partial indexes on `sla_due_at` and `sla_breached_at`.
    """
    if sla is SlaFilter.BREACHED:
        return Ticket.sla_breached_at.is_not(None)
    now = utc_now()
    soon = now + timedelta(minutes=get_settings().sla_due_soon_minutes)
    return sa.and_(Ticket.sla_due_at > now, Ticket.sla_due_at <= soon)


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
    TicketSort.DUE: _SortOrder((Ticket.sla_order_at,), descending=False),
}
_RANKS = {"priority_rank": len(Priority), "status_rank": len(Status)}
_OTHER_SORT = "cursor was issued for another sort order; start again from the first page"


def _sort_key(ticket: Ticket | sa.Row[Any], sort: TicketSort) -> list[Any]:
    """The JSON form of `ticket`'s sort key: ranks as numbers, timestamps as ISO 8601 UTC."""
    values = []
    for column in _SORT_ORDERS[sort].keys:
        value = getattr(ticket, column.key)
        values.append(value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value)
    return values


def _encode_sorted_cursor(ticket: Ticket | sa.Row[Any], sort: TicketSort) -> str:
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


def after_cursor(session: Session, cursor: str, sort: TicketSort) -> sa.ColumnElement[bool]:
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


def next_page_cursor(
    ticket: Ticket | sa.Row[Any], sort: TicketSort, rank: float | None = None
) -> str:
    """Cursor for the page after `ticket` in `sort` order (newest first: the id-only form).

    `rank` is the ticket's relevance rank (the `RANK_LABEL` column) when sorting by relevance.
    """
    if sort is TicketSort.NEWEST:
        return encode_cursor(ticket.id)
    if sort is TicketSort.RELEVANCE:
        payload = json.dumps([sort.value, ticket.id, float(rank or 0.0)], separators=(",", ":"))
        raw = f"{_SORTED_CURSOR_PREFIX}{payload}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return _encode_sorted_cursor(ticket, sort)


def _decode_relevance_cursor(cursor: str) -> tuple[float, int]:
    """(rank, ticket id) of a relevance cursor; InvalidCursorError otherwise."""
    raw = _unbase64(cursor)
    if not raw.startswith(_SORTED_CURSOR_PREFIX):
        raise InvalidCursorError(_OTHER_SORT)
    try:
        payload = json.loads(raw.removeprefix(_SORTED_CURSOR_PREFIX))
    except ValueError as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
    if not isinstance(payload, list) or len(payload) != 3 or not isinstance(payload[0], str):
        raise InvalidCursorError("cursor is not one this API issued")
    if payload[0] != TicketSort.RELEVANCE.value:
        raise InvalidCursorError(_OTHER_SORT)
    ticket_id, rank = payload[1], payload[2]
    if type(ticket_id) is not int or not is_row_id(ticket_id) or type(rank) is not float:
        raise InvalidCursorError("cursor is not one this API issued")
    return rank, ticket_id


def sorted_query(
    session: Session,
    filters: TicketFilters,
    sort: TicketSort,
    cursor: str | None = None,
    limit: int | None = None,
) -> Any:
    """SELECT of the tickets matching `filters` in `sort` order, after `cursor` if given.

    At most `limit` rows (None: every match). Sorted by relevance, each row is `(Ticket, rank)`
    (the rank labelled `RANK_LABEL`, best first, ties newest first) among the newest
    RELEVANCE_WINDOW matches; otherwise each row is a Ticket. Raises InvalidCursorError as
    `after_cursor` does.
    """
    if sort is not TicketSort.RELEVANCE:
        query = select(Ticket).where(*filter_clauses(session, filters))
        if cursor is not None:
            query = query.where(after_cursor(session, cursor, sort))
        return query.order_by(*_SORT_ORDERS[sort].order_by()).limit(limit)
    rank, ranked = relevance(session, text_search(filters.search_terms()))
    # Ranking reads every match's document: the newest RELEVANCE_WINDOW matches are ranked, so
    # a word in most tickets costs the same as a rarer one (newest-first finds them on an index).
    # They are ranked where the window reads them and only the page's rows are fetched whole:
    # fetching the whole window to rank it read 2,000 rows again by id (8,000 buffers at 1M).
    window = select(Ticket.id.label("ticket_id"), rank.label(RANK_LABEL)).select_from(Ticket)
    if ranked is not None:
        window = window.outerjoin(ranked, ranked.c.ticket_id == Ticket.id)
    window = (
        window.where(*filter_clauses(session, filters))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(RELEVANCE_WINDOW)
        .subquery("relevance_window")
    )
    best = sa.select(window).order_by(window.c[RANK_LABEL].desc(), window.c.ticket_id.desc())
    if cursor is not None:
        after_rank, after_id = _decode_relevance_cursor(cursor)
        bound = sa.tuple_(sa.literal(after_rank, type_=sa.Float), sa.literal(after_id))
        best = best.where(sa.tuple_(window.c[RANK_LABEL], window.c.ticket_id) < bound)
    page = best.limit(limit).subquery("relevance_page")
    return (
        select(Ticket, page.c[RANK_LABEL])
        .join(page, page.c.ticket_id == Ticket.id)
        .order_by(page.c[RANK_LABEL].desc(), Ticket.id.desc())
    )


def plain_rows(session: Session, query: Any) -> list[sa.Row[Any]]:
    """`query`'s rows as plain rows, not ORM objects, read like a Ticket (`row.id`).

    Each ticket column comes by its attribute name, then any other column (`RANK_LABEL`). For
    pages that are only read and answered (`services.tags.read_ticket_rows`): run on the
    session's connection, a page of 50 skips the ORM's identity map and per-object state, 0.3
    ms of the 1.3 ms it took to fetch at 1M tickets. Nothing loaded this way can be changed and
    flushed.
    """
    plain = query.with_only_columns(*query.selected_columns)
    return list(session.connection().execute(plain).all())


def close_matches_query(session: Session, filters: TicketFilters, search: TextSearch) -> Any:
    """SELECT of `(Ticket, rank)` close to the search's words, best first, with the other filters.

    See `services.ticket_search.close_match_clauses` for what "close" means on each database.
    """
    rank = close_rank(session, search)
    return (
        select(Ticket, sa.cast(rank, sa.Float).label(RANK_LABEL))
        .where(*filter_clauses(session, filters, words=False))
        .where(*close_match_clauses(session, search))
        .order_by(sa.cast(rank, sa.Float).desc(), Ticket.id.desc())
    )
