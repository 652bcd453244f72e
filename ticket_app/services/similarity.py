"""Similar open tickets and merging duplicates (issues 14 and 26).

"Open" here is unresolved: open, in progress or pending (`OPEN_STATUSES`). Candidates are
picked from each database's full-text index before anything is ranked, so a lookup's cost is
bounded whatever the text and however many tickets there are (issue 26):

1. The text's terms and how many tickets contain each: on PostgreSQL its lexemes
   (`to_tsvector('english', ...)`, as the `similarity_vector` column is built, migrations 0008
   and 0012) against the planner's statistics of that column (`pg_stats.most_common_elems`,
   kept by ANALYZE and read at most every STATS_SECONDS); on SQLite its content words against
   the FTS5 index's own vocabulary (`ticket_search_vocab`, migration 0016).
2. The CANDIDATE_TERMS rarest terms in at most MAX_TERM_TICKETS tickets each are looked up in
   the index, each alone (at most TERM_MATCHES open, unmerged tickets) and each pair together
   (at most PAIR_MATCHES): a duplicate shares several of its original's rare terms.
3. Those tickets are ordered by the summed rarity (inverse document frequency) of the lookups
   that found them, and the best RANKED_CANDIDATES are ranked with `triage.similarity` (cosine
   similarity of content words), so the two dialects agree on the score of a pair.

A text made only of common words has no rare term: it is compared with the newest
RANKED_CANDIDATES open tickets instead.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import snowballstemmer
import sqlalchemy as sa
from sqlmodel import Session, select

from ticket_app.models import (
    MAX_ROW_ID,
    CommentChannel,
    EventKind,
    Status,
    Ticket,
    TicketComment,
    utc_now,
)
from ticket_app.schemas import MergeResult, SimilarTicket
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import ConflictError, TicketNotFoundError
from ticket_app.services.sla import refresh_tickets_sla
from ticket_app.services.tags import read_tickets
from ticket_app.triage import similarity

SIMILAR_LIMIT = 5
# A pair below this score shares only incidental words; it is not offered as similar.
MIN_SCORE = 0.2
# The rarest terms of a text looked up in the index, and open tickets taken per term.
CANDIDATE_TERMS = 8
TERM_MATCHES = 50
# Open tickets taken per pair of those terms (both in the ticket).
PAIR_MATCHES = 20
# A term in more tickets than this picks candidates no better than chance, and its posting
# list is the index's most expensive read; it is not looked up.
MAX_TERM_TICKETS = 5000
# Candidates ranked in Python (about 0.1 ms each), best shared rarity first.
RANKED_CANDIDATES = 64
# PostgreSQL's column statistics change only with ANALYZE: each process reads them this often.
STATS_SECONDS = 300
# PostgreSQL's own estimate for a term its statistics do not list (DEFAULT_TS_MATCH_SEL).
UNLISTED_SHARE = 0.005
OPEN_STATUSES = (Status.OPEN.value, Status.IN_PROGRESS.value, Status.PENDING.value)

# The status and duplicate conditions repeat the partial index's predicate (migration 0012), so
# the planner answers each lookup from that index alone. The limits are literals: with a
# limit it cannot see, the planner may guess a sequential scan stops sooner.
_PG_LOOKUP = (
    "SELECT q.n + {offset} AS n, m.id FROM unnest(CAST(:{name} AS text[])) "
    "WITH ORDINALITY AS q(query, n) CROSS JOIN LATERAL (SELECT t.id FROM tickets t "
    "WHERE t.similarity_vector @@ CAST(q.query AS tsquery) "
    "AND t.status IN ('open', 'in_progress', 'pending') AND t.duplicate_of_id IS NULL "
    "AND t.id <> :exclude LIMIT {limit}) m"
)
PG_LOOKUPS_SQL = sa.text(
    _PG_LOOKUP.format(offset=0, name="singles", limit=TERM_MATCHES)
    + " UNION ALL "
    + _PG_LOOKUP.format(offset=CANDIDATE_TERMS, name="pairs", limit=PAIR_MATCHES)
)
PG_LEXEMES_SQL = sa.text("SELECT tsvector_to_array(to_tsvector('english', :text))")
_PG_STATS_SQL = sa.text(
    "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs "
    "FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() "
    "AND s.tablename = 'tickets' AND s.attname = 'similarity_vector' "
    "WHERE c.oid = CAST('tickets' AS regclass)"
)
# FTS5 walks a term's documents newest (highest rowid) first and stops at the limit.
_SQLITE_LOOKUP_SQL = sa.text(
    "SELECT t.id FROM ticket_search JOIN tickets t ON t.id = ticket_search.rowid "
    "WHERE ticket_search MATCH :query AND t.status IN ('open', 'in_progress', 'pending') "
    "AND t.duplicate_of_id IS NULL AND t.id <> :exclude "
    "ORDER BY ticket_search.rowid DESC LIMIT :limit"
)
# One term per query: fts5vocab answers `term = ?` from the index, but scans its whole
# vocabulary for `term IN (...)`.
_SQLITE_VOCAB_SQL = sa.text("SELECT doc FROM ticket_search_vocab WHERE term = :term")
# FTS5's `porter` tokenizer (migration 0016) stems the terms `ticket_search_vocab` lists.
_PORTER = snowballstemmer.stemmer("porter")
_PORTER_LOCK = threading.Lock()


@dataclass(frozen=True)
class _TermStats:
    """PostgreSQL's estimate of `similarity_vector`'s term frequencies (shares of all rows)."""

    tickets: float
    shares: dict[str, float]
    # Tickets assumed for a term not listed: rarer than every listed one, so looked up.
    unlisted_tickets: float
    read_at: float


_pg_stats: dict[str, _TermStats] = {}


def _pg_term_stats(session: Session) -> _TermStats:
    """The cached statistics of this database, read again after STATS_SECONDS."""
    key = session.get_bind().url.render_as_string(hide_password=True)
    stats = _pg_stats.get(key)
    now = time.monotonic()
    if stats is None or now - stats.read_at > STATS_SECONDS:
        tickets, elements, shares = session.execute(_PG_STATS_SQL).one()
        listed = dict(zip(elements or [], shares or [], strict=False))
        tickets = max(tickets, 0.0)
        # most_common_elem_freqs ends with the minimum, maximum and null frequencies. A term not
        # listed is rarer than every listed one: the planner's estimate (half the minimum, at
        # most 0.5%), never more than MAX_TERM_TICKETS, so it is looked up. Without statistics
        # of a table ANALYZE has counted as large no term can be told rare: each counts as in
        # every ticket, and the newest tickets are compared until ANALYZE runs.
        if shares:
            share = min(UNLISTED_SHARE, shares[-3] / 2)
            unlisted = min(share * tickets, float(MAX_TERM_TICKETS))
        else:
            unlisted = tickets if tickets > MAX_TERM_TICKETS else 0.0
        stats = _TermStats(tickets, listed, unlisted, now)
        _pg_stats[key] = stats
    return stats


@dataclass(frozen=True)
class RareTerm:
    """A term of a text looked up in the index, with how many tickets contain it.

    `term` as the index knows it (a PostgreSQL lexeme, or a word FTS5 stems alike), `tickets`
    containing it (an estimate on PostgreSQL) and its `rarity` (inverse document frequency,
    >= 0).
    """

    term: str
    tickets: float
    rarity: float


def _rarity(documents: float, tickets: float) -> float:
    """Inverse document frequency of a term in `documents` of `tickets` tickets (>= 0)."""
    return math.log((1 + tickets) / (1 + max(documents, 0.0)))


def _rare(counts: dict[str, float], tickets: float) -> list[RareTerm]:
    terms = similarity.rarest_terms(counts, limit=CANDIDATE_TERMS, max_documents=MAX_TERM_TICKETS)
    return [RareTerm(term, counts[term], _rarity(counts[term], tickets)) for term in terms]


def _porter_stem(word: str) -> str:
    with _PORTER_LOCK:  # a snowballstemmer stemmer object is not thread-safe
        return _PORTER.stemWord(word)


def rare_terms(session: Session, text: str) -> list[RareTerm]:
    """The terms of `text` its candidates are looked up by, rarest first.

    At most CANDIDATE_TERMS, none in more than MAX_TERM_TICKETS tickets (so possibly none).
    Raises DatabaseUnavailableError.
    """
    if session.get_bind().dialect.name == "postgresql":
        lexemes = session.execute(PG_LEXEMES_SQL, {"text": text}).scalar_one()
        stats = _pg_term_stats(session)
        counts = {
            lexeme: (
                stats.shares[lexeme] * stats.tickets
                if lexeme in stats.shares
                else stats.unlisted_tickets
            )
            for lexeme in lexemes
            if len(lexeme) > 2
        }
        return _rare(counts, stats.tickets)
    words = similarity.query_words(text)
    if not words:
        return []
    stems = {word: _porter_stem(word) for word in words}
    documents = {
        stem: session.execute(_SQLITE_VOCAB_SQL, {"term": stem}).scalar() or 0
        for stem in set(stems.values())
    }
    tickets = session.execute(sa.select(sa.func.max(Ticket.id))).scalar_one() or 0
    return _rare({word: documents[stems[word]] for word in words}, tickets)


@dataclass(frozen=True)
class Lookup:
    """One index lookup: tickets containing all of `terms` (one or two), at most `limit`."""

    terms: tuple[RareTerm, ...]
    limit: int

    @property
    def rarity(self) -> float:
        """The summed rarity of the terms: what a ticket found by this lookup scores."""
        return sum(term.rarity for term in self.terms)

    def tsquery(self) -> str:
        """The lookup as `tsquery` input (PostgreSQL), e.g. `'webhook' & 'shopifi'`."""
        return " & ".join(_quoted_lexeme(term.term) for term in self.terms)

    def fts5(self) -> str:
        """The lookup as an FTS5 query on title and description (SQLite)."""
        return "{title description} : (" + " AND ".join(f'"{t.term}"' for t in self.terms) + ")"


def _quoted_lexeme(lexeme: str) -> str:
    """`lexeme` as one quoted lexeme of `tsquery` input (quotes doubled, backslashes escaped)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def lookups_for(terms: list[RareTerm]) -> list[Lookup]:
    """The index lookups for `terms` (from `rare_terms`), singles first.

    Each term alone (TERM_MATCHES tickets) and each pair of terms (PAIR_MATCHES tickets).

    A term alone may be in thousands of tickets, of which only some are taken; two rare terms
    together are in few, and a duplicate shares several of its original's rare terms.
    """
    singles = [Lookup((term,), TERM_MATCHES) for term in terms]
    pairs = [Lookup(pair, PAIR_MATCHES) for pair in itertools.combinations(terms, 2)]
    return singles + pairs


def pg_lookup_parameters(lookups: list[Lookup], exclude: int) -> dict[str, object]:
    """PG_LOOKUPS_SQL's parameters for `lookups` (from `lookups_for`), not matching `exclude`."""
    return {
        "singles": [lookup.tsquery() for lookup in lookups if len(lookup.terms) == 1],
        "pairs": [lookup.tsquery() for lookup in lookups if len(lookup.terms) == 2],
        "exclude": exclude,
    }


def _lookup_matches(session: Session, lookups: list[Lookup], exclude: int) -> list[list[int]]:
    """For each lookup, the ids of at most its `limit` open, unmerged tickets matching it."""
    if session.get_bind().dialect.name == "postgresql":
        singles = sum(len(lookup.terms) == 1 for lookup in lookups)
        found: dict[int, list[int]] = defaultdict(list)
        for number, ticket_id in session.execute(
            PG_LOOKUPS_SQL, pg_lookup_parameters(lookups, exclude)
        ):
            found[number - 1].append(ticket_id)
        # Pairs are numbered after the CANDIDATE_TERMS places kept for singles.
        places = [
            *range(singles),
            *range(CANDIDATE_TERMS, CANDIDATE_TERMS + len(lookups) - singles),
        ]
        return [found[place] for place in places]
    return [
        list(
            session.execute(
                _SQLITE_LOOKUP_SQL,
                {"query": lookup.fts5(), "exclude": exclude, "limit": lookup.limit},
            ).scalars()
        )
        for lookup in lookups
    ]


def _candidate_ids(session: Session, text: str, exclude: int) -> list[int]:
    """Ids of the open, unmerged tickets (not `exclude`) worth ranking for `text`.

    At most RANKED_CANDIDATES, whatever the text: those sharing the rarest of the text's rare
    terms first (see the module's docstring), or the newest open tickets when the text has no
    rare term.
    """
    lookups = lookups_for(rare_terms(session, text))
    shared: dict[int, float] = defaultdict(float)
    for lookup, ticket_ids in zip(lookups, _lookup_matches(session, lookups, exclude), strict=True):
        for ticket_id in ticket_ids:
            shared[ticket_id] += lookup.rarity
    if lookups:
        best = sorted(shared, key=lambda ticket_id: (-shared[ticket_id], -ticket_id))
        return best[:RANKED_CANDIDATES]
    return list(
        session.execute(
            sa.select(Ticket.id)
            .where(
                Ticket.status.in_(OPEN_STATUSES),
                Ticket.duplicate_of_id.is_(None),
                Ticket.id != exclude,
            )
            .order_by(Ticket.id.desc())
            .limit(RANKED_CANDIDATES)
        ).scalars()
    )


def _candidates(session: Session, text: str, exclude: int) -> list[tuple[int, str, str, str]]:
    """`(id, title, description, status)` of `text`'s candidates, at most RANKED_CANDIDATES.

    Only the compared start of each description is read.
    """
    ids = _candidate_ids(session, text, exclude)
    if not ids:
        return []
    rows = session.execute(
        sa.select(
            Ticket.id,
            Ticket.title,
            sa.func.substr(Ticket.description, 1, similarity.MAX_COMPARED_CHARS),
            Ticket.status,
        ).where(Ticket.id.in_(ids))
    )
    return [tuple(row) for row in rows]


def _similar(session: Session, text: str, exclude: int, limit: int) -> list[SimilarTicket]:
    rows = _candidates(session, text, exclude)
    by_id = {row[0]: row for row in rows}
    matches = similarity.rank(
        text,
        ((row[0], f"{row[1]}\n{row[2]}") for row in rows),
        limit=limit,
        min_score=MIN_SCORE,
    )
    return [
        SimilarTicket(
            id=match.ticket_id,
            title=by_id[match.ticket_id][1],
            status=Status(by_id[match.ticket_id][3]),
            score=match.score,
        )
        for match in matches
    ]


def similar_to_text(
    description: str, title: str = "", *, limit: int = SIMILAR_LIMIT
) -> list[SimilarTicket]:
    """Up to `limit` open, unmerged tickets most similar to this text, best first.

    For a ticket being typed (the classify answer). Raises DatabaseUnavailableError.
    """
    with service_session() as session:
        return _similar(session, f"{title}\n{description}", 0, limit)


def candidates_for_text(description: str, title: str = "") -> list[int]:
    """Ids of the tickets `similar_to_text` would rank for this text: at most RANKED_CANDIDATES.

    Raises DatabaseUnavailableError.
    """
    with service_session() as session:
        return _candidate_ids(session, f"{title}\n{description}", 0)


def similar_to_ticket(ticket_id: int, *, limit: int = SIMILAR_LIMIT) -> list[SimilarTicket]:
    """Up to `limit` open, unmerged tickets most similar to ticket `ticket_id` (not itself).

    Raises TicketNotFoundError or DatabaseUnavailableError.
    """
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id) if 1 <= ticket_id <= MAX_ROW_ID else None
        if ticket is None:
            raise TicketNotFoundError(ticket_id)
        return _similar(session, f"{ticket.title}\n{ticket.description}", ticket_id, limit)


def _requester_note(ticket: Ticket) -> str:
    """The merge note's sentence about the duplicate's requester.

    "Its requester, Ada Shop <ada@shop.example>, now follows this conversation.", or, with no
    name or e-mail on record, that there is nobody to follow it.
    """
    name, email = ticket.requester_name, ticket.requester_email
    who = f"{name} <{email}>" if name and email else name or email
    if not who:
        return "It had no requester on record, so nobody new follows this conversation."
    return f"Its requester, {who}, now follows this conversation."


def duplicate_ids(session: Session, ticket_id: int) -> list[int]:
    """Ids of the tickets merged into `ticket_id`, oldest first."""
    query = select(Ticket.id).where(Ticket.duplicate_of_id == ticket_id).order_by(Ticket.id)
    return list(session.exec(query).all())


def duplicates_of(ticket_id: int) -> list[int]:
    """Ids of the tickets merged into ticket `ticket_id`, oldest first.

    Raises TicketNotFoundError or DatabaseUnavailableError.
    """
    with service_session() as session:
        if not 1 <= ticket_id <= MAX_ROW_ID or session.get(Ticket, ticket_id) is None:
            raise TicketNotFoundError(ticket_id)
        return duplicate_ids(session, ticket_id)


def merge_ticket(
    ticket_id: int,
    into: int,
    *,
    actor: Actor,
    channel: CommentChannel = CommentChannel.API,
) -> MergeResult:
    """Close ticket `ticket_id` as a duplicate of ticket `into`, in one transaction.

    The duplicate gets `duplicate_of_id = into` and status closed; both tickets get a `merged`
    audit event naming the other (plus a `changed` event for the duplicate's status); the kept
    ticket gets an internal comment (through `channel`) naming the duplicate and its requester,
    who now follows the kept ticket's conversation. Raises PermissionDeniedError,
    TicketNotFoundError (no ticket `ticket_id` or `into`), ConflictError naming `into` (the
    same ticket, a ticket itself merged elsewhere, or this ticket already merged), or
    DatabaseUnavailableError; nothing is written then.
    """
    actor.require(Action.TICKETS_EDIT)
    if not 1 <= ticket_id <= MAX_ROW_ID:
        raise TicketNotFoundError(ticket_id)
    if into == ticket_id:
        raise ConflictError("into", "a ticket cannot be merged into itself")
    with service_session() as session:
        # Locked in id order, so two merges of the same pair cannot deadlock.
        locked = {
            ticket.id: ticket
            for ticket in session.exec(
                select(Ticket)
                .where(Ticket.id.in_([ticket_id, into]))
                .order_by(Ticket.id)
                .with_for_update()
            ).all()
        }
        duplicate, kept = locked.get(ticket_id), locked.get(into)
        if duplicate is None:
            raise TicketNotFoundError(ticket_id)
        if kept is None:
            raise TicketNotFoundError(into, field="into")
        if duplicate.duplicate_of_id is not None:
            raise ConflictError(
                "into", f"ticket {ticket_id} was already merged into #{duplicate.duplicate_of_id}"
            )
        if kept.duplicate_of_id is not None:
            raise ConflictError(
                "into",
                f"ticket {into} is itself a duplicate of #{kept.duplicate_of_id}: merge into "
                "that one",
            )
        now = utc_now()
        old_status = duplicate.status
        duplicate.duplicate_of_id = into
        duplicate.status = Status.CLOSED
        duplicate.updated_at = now
        kept.updated_at = now
        record_event(
            session, actor, EventKind.MERGED, ticket_id=ticket_id, field="duplicate_of_id",
            new=into,
        )  # fmt: skip
        if old_status != Status.CLOSED:
            record_event(
                session, actor, EventKind.CHANGED, ticket_id=ticket_id, field="status",
                old=old_status, new=Status.CLOSED,
            )  # fmt: skip
        record_event(
            session, actor, EventKind.MERGED, ticket_id=into, field="duplicates", new=ticket_id
        )
        session.add(
            TicketComment(
                ticket_id=into,
                author_user_id=actor.user_id,
                author_label=actor.label[:254],
                body=(
                    f"Merged #{ticket_id} ({duplicate.title}) into this ticket as a duplicate. "
                    + _requester_note(duplicate)
                ),
                public=False,
                channel=channel,
                created_at=now,
            )
        )
        session.add(duplicate)
        session.add(kept)
        session.flush()
        refresh_tickets_sla(session, [ticket_id, into], now)
        session.refresh(duplicate)
        session.refresh(kept)
        merged_read, kept_read = read_tickets(session, [duplicate, kept])
        return MergeResult(
            merged=merged_read,
            kept=kept_read,
            duplicate_ids=duplicate_ids(session, into),
        )
