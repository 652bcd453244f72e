"""Full-text search in SQL: what a parsed search (`search.query`) means on each database.

PostgreSQL matches `tickets.search_document` (a `tsvector` the database keeps current,
migration 0016) with `to_tsquery` in every stemming configuration the documents use, so a
ticket stemmed in German matches a query stemmed in German; relevance is `ts_rank` with the
document's weights (title 1.0, requester 0.4, description 0.2, conversation 0.1) divided by
1 + log(document length). SQLite matches the FTS5 table `ticket_search`; relevance is
`bm25` with column weights 10, 4, 2, 1 in the same order.

A plain search (words only, no syntax) also keeps the earlier behaviour of the API: a ticket
whose title or description contains the text as typed matches too (ranked after word matches),
so a client searching a code such as "ERR-40" or part of a word still finds it.

When the words find nothing, `close_match_clauses` offers close matches: trigram word
similarity on title and description on PostgreSQL (their pg_trgm GIN indexes), and on SQLite
the index's own vocabulary (`ticket_search_vocab`) searched for each word's nearest terms.
"""

from __future__ import annotations

import difflib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlmodel import Session

from ticket_app.enums import Category, Priority, Status
from ticket_app.models import MAX_ROW_ID, Ticket
from ticket_app.search.query import (
    Clause,
    Match,
    SearchQuery,
    compile_fts5,
    compile_fts5_any,
    compile_tsquery,
    compile_tsquery_any,
    parse,
)
from ticket_app.search.trigrams import index_substring
from ticket_app.services import search_trigrams
from ticket_app.services.errors import InvalidInputError

_LIKE_ESCAPE = "\\"
_CONFIGURATIONS = (
    "td_simple",
    "td_english",
    "td_german",
    "td_french",
    "td_spanish",
    "td_italian",
    "td_dutch",
    "td_portuguese",
)
"""Every text-search configuration a document may be built with (migration 0016)."""
_BM25_WEIGHTS = (10.0, 4.0, 2.0, 1.0)
_NUMBER_BOOST = 1000.0
# Close matches: PostgreSQL's word similarity bar (pg_trgm's default of 0.6 misses a swapped
# pair of letters: "refnud"/"refund" score 0.43, "invioce"/"invoice" 0.375) and SQLite's
# nearest-term cut-off (difflib ratio) and how many terms one word may stand for.
CLOSE_WORD_SIMILARITY = 0.35
CLOSE_TERM_RATIO = 0.65
CLOSE_TERMS_PER_WORD = 3
_MIN_CLOSE_WORD = 3
_DOCUMENT = sa.literal_column("tickets.search_document")
_FILTER_ENUMS = {"status": Status, "priority": Priority, "category": Category}
FORMS_CACHED = 4096
"""Search texts whose tsquery forms a process keeps (least recently used dropped first)."""
_forms: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()
_forms_lock = threading.Lock()


@dataclass(frozen=True)
class TextSearch:
    """One search text, parsed, with what the list needs from it.

    `raw` is the text as typed (for the substring match of a plain search); `query` the
    parsed form.
    """

    raw: str
    query: SearchQuery

    @property
    def plain(self) -> bool:
        """Words only: no quotes, exclusions, OR, prefixes or field prefixes."""
        query = self.query
        return (
            bool(query.clauses)
            and not query.excluded
            and not query.filters
            and all(
                len(c.options) == 1
                and not c.options[0].prefix
                and c.options[0].field is None
                and '"' not in self.raw
                for c in query.clauses
            )
        )


def text_search(terms: list[str]) -> TextSearch | None:
    """The search of a list request: its terms (`search`, `q`) joined, parsed; None if empty."""
    raw = " ".join(term.strip() for term in terms if term.strip())
    return TextSearch(raw=raw, query=parse(raw)) if raw else None


def filter_values(search: TextSearch) -> dict[str, Any]:
    """The list filters written into the search (`status:open`), checked.

    Returns `{name: value}` with enums for status, priority and category and the text `none`
    or a user id for assignee. Raises InvalidInputError naming `search` for a value the filter
    does not accept (`assignee:me` included: the caller resolves `me` before searching).
    """
    values: dict[str, Any] = {}
    for name, value in search.query.filters.items():
        if name in _FILTER_ENUMS:
            enum = _FILTER_ENUMS[name]
            try:
                values[name] = enum(value.lower())
            except ValueError:
                allowed = ", ".join(member.value for member in enum)
                raise InvalidInputError("search", f"{name}: must be one of {allowed}") from None
        elif value.lower() == "none" or (value.isascii() and value.isdigit() and len(value) <= 10):
            values[name] = value.lower()
        else:
            raise InvalidInputError("search", f"{name}: must be none or a staff user's id")
    return values


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _tsquery_forms(session: Session, text: str) -> tuple[str, ...]:
    """`text`'s distinct non-empty tsquery forms over _CONFIGURATIONS, sorted.

    Read from the database once per database and text, then kept (FORMS_CACHED texts): the
    configurations are fixed by the migrations, and a list page asked for the same forms two
    or three times (its rows, its count, its sort), a round trip each.
    """
    key = (str(session.get_bind().engine.url), text)
    with _forms_lock:
        if key in _forms:
            _forms.move_to_end(key)
            return _forms[key]
    found = session.execute(
        sa.text(
            "SELECT DISTINCT to_tsquery(name::regconfig, :text)::text AS form "
            "FROM unnest(CAST(:names AS text[])) AS name"
        ),
        {"text": text, "names": list(_CONFIGURATIONS)},
    ).scalars()
    forms = tuple(sorted(form for form in found if form))
    with _forms_lock:
        _forms[key] = forms
        if len(_forms) > FORMS_CACHED:
            _forms.popitem(last=False)
    return forms


def _tsquery(session: Session, text: str) -> sa.ColumnElement[Any] | None:
    """The query in every configuration, ORed: a document matches in its own language's form.

    The configurations' forms are computed first and repeats dropped (most words stem alike in
    several languages): eight copies of one lexeme made the planner expect eight times the
    matches. None when no configuration finds a lexeme in `text`.
    """
    distinct = _tsquery_forms(session, text)
    if not distinct:
        return None
    combined = " | ".join(f"( {form} )" for form in distinct)
    return sa.cast(sa.literal(combined, type_=sa.String), TSQUERY)


def _fts5_ids(text: str) -> Any:
    """SELECT of the ids of tickets whose FTS5 row matches `text`."""
    table = sa.table("ticket_search", sa.column("rowid"))
    return (
        sa.select(table.c.rowid)
        .select_from(table)
        .where(sa.literal_column("ticket_search").op("MATCH")(sa.bindparam(None, text)))
    )


def _matches(session: Session, clauses: tuple[Clause, ...]) -> sa.ColumnElement[bool]:
    if _is_sqlite(session):
        return Ticket.id.in_(_fts5_ids(compile_fts5(clauses)))
    query = _tsquery(session, compile_tsquery(clauses))
    return sa.false() if query is None else _DOCUMENT.op("@@")(query)


def _matches_any(session: Session, matches: tuple[Match, ...]) -> sa.ColumnElement[bool]:
    if _is_sqlite(session):
        return Ticket.id.in_(_fts5_ids(compile_fts5_any(matches)))
    query = _tsquery(session, compile_tsquery_any(matches))
    return sa.false() if query is None else sa.func.coalesce(_DOCUMENT.op("@@")(query), False)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def substring_clause(session: Session, term: str) -> sa.ColumnElement[bool]:
    r"""Case-insensitive substring match on title or description, `%`, `_`, `\` literal.

    PostgreSQL uses ILIKE, which its pg_trgm GIN indexes serve; for a code whose trigrams are
    partly common, the indexes look up its rare part only (`search.trigrams.index_substring`,
    with this process's `search_trigrams` sample). SQLite's LIKE folds ASCII only, so both
    sides go through the Unicode-aware `casefold()` registered on its connections.
    """
    if _is_sqlite(session):
        pattern = f"%{_escape_like(term.casefold())}%"
        return sa.or_(
            sa.func.casefold(Ticket.title).like(pattern, escape=_LIKE_ESCAPE),
            sa.func.casefold(Ticket.description).like(pattern, escape=_LIKE_ESCAPE),
        )
    pattern = f"%{_escape_like(term)}%"
    sample = search_trigrams.current_sample()
    part = index_substring(term, sample.shares, sample.floor) if sample is not None else None
    if part is None:
        return sa.or_(
            Ticket.title.ilike(pattern, escape=_LIKE_ESCAPE),
            Ticket.description.ilike(pattern, escape=_LIKE_ESCAPE),
        )
    # The indexes look up the rare part (letters and digits only: nothing to escape); the whole
    # term is then checked on what they return, through `|| ''`, which no index serves, so the
    # planner cannot add the term's common trigrams back into the lookup.
    return sa.or_(
        *(
            sa.and_(
                column.ilike(f"%{part}%"), column.concat("").ilike(pattern, escape=_LIKE_ESCAPE)
            )
            for column in (Ticket.title, Ticket.description)
        )
    )


def _number_clause(ticket_id: int | None) -> sa.ColumnElement[bool]:
    if ticket_id is None or not 1 <= ticket_id <= MAX_ROW_ID:
        return sa.false()
    return Ticket.id == ticket_id


def text_clauses(session: Session, search: TextSearch) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions (ANDed by the caller) of the words, phrases and exclusions of `search`.

    A ticket matches when every clause's words appear (stemmed, case and accents folded) in
    its title, requester, description or conversation, or, for a plain search, its title or
    description contains the text as typed, or it is the ticket whose number was searched;
    and none of the excluded words appears. A search of punctuation only is a substring match.
    The list filters written into the search are not here (see `filter_values`).
    """
    query = search.query
    if query.number_only:
        return [_number_clause(query.ticket_id)]
    if not query.has_text and not query.filters:
        # Only punctuation ("%", "C:\\"): no words to look up, the text as typed is searched.
        return [substring_clause(session, search.raw)]
    conditions: list[sa.ColumnElement[bool]] = []
    if query.clauses:
        either = [_matches(session, query.clauses)]
        if search.plain:
            either.append(substring_clause(session, search.raw))
        if query.ticket_id is not None:
            either.append(_number_clause(query.ticket_id))
        conditions.append(sa.or_(*either))
    if query.excluded:
        conditions.append(sa.not_(_matches_any(session, query.excluded)))
    return conditions


def relevance(session: Session, search: TextSearch | None) -> tuple[Any, Any | None]:
    """(rank expression, outer-joined FTS5 subquery or None) for ordering by relevance.

    Higher is better: the searched ticket number first, then word matches by rank, then
    tickets matched only by substring (rank 0). Without a search every rank is 0 (so the
    order is newest first by id). SQLite's `bm25` is only defined inside a query on the FTS5
    table, so there the caller outer-joins the returned subquery (`ticket_id`, `rank`).
    """
    if search is None or not search.query.clauses:
        boost = (
            sa.case((_number_clause(search.query.ticket_id), _NUMBER_BOOST), else_=0.0)
            if search is not None
            else sa.literal(0.0)
        )
        return sa.cast(boost, sa.Float), None
    query = search.query
    number = sa.case((_number_clause(query.ticket_id), _NUMBER_BOOST), else_=0.0)
    if _is_sqlite(session):
        weights = ", ".join(str(weight) for weight in _BM25_WEIGHTS)
        table = sa.table("ticket_search", sa.column("rowid"))
        ranked = (
            sa.select(
                table.c.rowid.label("ticket_id"),
                sa.literal_column(f"-bm25(ticket_search, {weights})").label("rank"),
            )
            .select_from(table)
            .where(
                sa.literal_column("ticket_search").op("MATCH")(
                    sa.bindparam(None, compile_fts5(query.clauses))
                )
            )
            .subquery("search_rank")
        )
        return sa.cast(sa.func.coalesce(ranked.c.rank, 0.0) + number, sa.Float), ranked
    tsquery = _tsquery(session, compile_tsquery(query.clauses))
    if tsquery is None:
        return sa.cast(number, sa.Float(precision=53)), None
    rank = sa.func.ts_rank(
        sa.func.coalesce(_DOCUMENT, sa.literal_column("''::tsvector")), tsquery, 1
    )
    return sa.cast(sa.cast(rank, sa.Float(precision=53)) + number, sa.Float(precision=53)), None


def close_words(search: TextSearch) -> list[str]:
    """The positive words of `search` long enough to look for close matches (3+ letters)."""
    return [word for word in search.query.words() if len(word) >= _MIN_CLOSE_WORD][:8]


def close_match_clauses(session: Session, search: TextSearch) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions for "close matches" of each word of `search` (typos, other spellings).

    PostgreSQL: each word must be similar (pg_trgm word similarity >= CLOSE_WORD_SIMILARITY)
    to some extent of the title or the description. SQLite: each word is replaced by its
    nearest terms in the index's vocabulary (difflib ratio >= CLOSE_TERM_RATIO, at most
    CLOSE_TERMS_PER_WORD) and searched again. Returns `[false]` when no word can be matched.
    """
    words = close_words(search)
    if not words:
        return [sa.false()]
    if not _is_sqlite(session):
        session.execute(
            sa.text("SELECT set_config('pg_trgm.word_similarity_threshold', :bar, true)"),
            {"bar": str(CLOSE_WORD_SIMILARITY)},
        )
        return [
            sa.or_(Ticket.title.op("%>")(word), Ticket.description.op("%>")(word)) for word in words
        ]
    clauses = []
    for word in words:
        terms = _nearest_terms(session, word)
        if not terms:
            return [sa.false()]
        clauses.append(Clause(tuple(Match((term,)) for term in terms)))
    return [Ticket.id.in_(_fts5_ids(compile_fts5(tuple(clauses))))]


def close_rank(session: Session, search: TextSearch) -> Any:
    """Order of close matches, best first: summed word similarity (PostgreSQL) or bm25."""
    words = close_words(search)
    if not _is_sqlite(session) and words:
        total: Any = sa.literal(0.0)
        for word in words:
            total = total + sa.func.greatest(
                sa.func.word_similarity(word, Ticket.title),
                sa.func.word_similarity(word, Ticket.description),
            )
        return total
    return sa.literal(0.0)


def _nearest_terms(session: Session, word: str) -> list[str]:
    """Index terms nearest to `word` sharing its first letter (typos rarely hit the first)."""
    first = word[0]
    rows = session.execute(
        sa.text("SELECT term FROM ticket_search_vocab WHERE term >= :low AND term < :high"),
        {"low": first, "high": chr(ord(first) + 1)},
    ).scalars()
    return difflib.get_close_matches(
        word, list(rows), n=CLOSE_TERMS_PER_WORD, cutoff=CLOSE_TERM_RATIO
    )
