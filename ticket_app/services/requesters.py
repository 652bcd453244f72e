"""Requesters: the customers who write in, one record per address (any case is one address).

A ticket names its requester (`requester_id`) beside the name and address it shows, so a
requester's other tickets can be listed on the ticket page and in the Requesters view.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from ticket_app.models import Requester, Ticket
from ticket_app.schemas import RequesterRead, RequesterTicket
from ticket_app.services.access import Action, Actor
from ticket_app.services.database import service_session
from ticket_app.services.errors import NotFoundError
from ticket_app.services.ticket_query import is_row_id

REQUESTER_TICKETS_LIMIT = 50


def normalise_email(email: str) -> str:
    """The address as stored: trimmed and lower-cased."""
    return email.strip().lower()


def upsert_requester(session: Session, email: str, name: str | None) -> int:
    """The id of the requester with `email`, created (with `name`) when new.

    A known requester's name is filled in when it had none. One statement, whether the
    requester is new or known: INSERT ... ON CONFLICT DO UPDATE ... RETURNING, atomic against a
    concurrent insert of the same address. A known requester's row is therefore rewritten (with
    the same values unless its name was missing) and locked until the caller's transaction
    ends, and on PostgreSQL each such call skips one id of the requesters' sequence; that costs
    less than the read which decided between two statements before.
    """
    address = normalise_email(email)
    clean_name = (name or "").strip()[:100] or None
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Requester)
    requester_id = session.execute(
        insert.values(email=address, name=clean_name)
        .on_conflict_do_update(
            index_elements=["email"],
            set_={"name": sa.func.coalesce(Requester.name, insert.excluded.name)},
        )
        .returning(Requester.id)
    ).scalar_one()
    return int(requester_id)


def get_requester(requester_id: int, *, actor: Actor) -> RequesterRead:
    """A requester with their most recent tickets (at most REQUESTER_TICKETS_LIMIT, newest first).

    Raises PermissionDeniedError unless `actor` may read tickets, NotFoundError.
    """
    actor.require(Action.TICKETS_READ)
    with service_session() as session:
        requester = session.get(Requester, requester_id) if is_row_id(requester_id) else None
        if requester is None:
            raise NotFoundError(f"requester {requester_id} does not exist")
        total = session.execute(
            sa.select(sa.func.count()).where(Ticket.requester_id == requester_id)
        ).scalar_one()
        rows = session.execute(
            sa.select(Ticket.id, Ticket.title, Ticket.status, Ticket.priority, Ticket.created_at)
            .where(Ticket.requester_id == requester_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(REQUESTER_TICKETS_LIMIT)
        ).all()
    return RequesterRead(
        id=requester.id,
        email=requester.email,
        name=requester.name,
        created_at=requester.created_at,
        ticket_count=total,
        tickets=[
            RequesterTicket(
                id=row.id,
                title=row.title,
                status=row.status,
                priority=row.priority,
                created_at=row.created_at,
            )
            for row in rows
        ],
    )
