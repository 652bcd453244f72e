"""Similar open tickets and merging duplicates (issue 14).

"Open" here is unresolved: open, in progress or pending (`OPEN_STATUSES`). Candidates come
from a full-text GIN index on PostgreSQL (`similarity_vector`, migrations 0008 and 0012) and
from a bounded window of the newest open tickets on SQLite; both are ranked with
`triage.similarity` (cosine similarity of content words), so the two dialects agree on the
score of a pair.
"""

from __future__ import annotations

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
# PostgreSQL: this many full-text matches (best rank first) are re-ranked in Python.
PG_CANDIDATES = 20
# SQLite has no text index: only the newest this many open tickets are compared (about 20 ms).
SQLITE_WINDOW = 2000
OPEN_STATUSES = (Status.OPEN.value, Status.IN_PROGRESS.value, Status.PENDING.value)

# The status and duplicate conditions repeat the partial index's predicate (migration 0012), so
# the planner answers from that index alone.
PG_CANDIDATES_SQL = sa.text(
    "SELECT t.id, t.title, t.description, t.status FROM tickets t, to_tsquery('english', :query) q "
    "WHERE t.similarity_vector @@ q AND t.status IN ('open', 'in_progress', 'pending') "
    "AND t.duplicate_of_id IS NULL AND t.id <> :exclude "
    "ORDER BY ts_rank(t.similarity_vector, q) DESC, t.id DESC LIMIT :limit"
)


def _candidates(session: Session, text: str, exclude: int) -> list[tuple[int, str, str, str]]:
    """`(id, title, description, status)` of open, unmerged tickets worth ranking for `text`."""
    if session.get_bind().dialect.name == "postgresql":
        query = similarity.tsquery(similarity.query_words(text))
        if query is None:
            return []
        rows = session.execute(
            PG_CANDIDATES_SQL, {"query": query, "exclude": exclude, "limit": PG_CANDIDATES}
        )
        return [tuple(row) for row in rows]
    rows = session.execute(
        sa.select(Ticket.id, Ticket.title, Ticket.description, Ticket.status)
        .where(
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.duplicate_of_id.is_(None),
            Ticket.id != exclude,
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(SQLITE_WINDOW)
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
