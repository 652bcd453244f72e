"""Who follows a ticket, and `@mentions` in internal notes.

Any staff member may follow or unfollow a ticket (`TICKETS_FOLLOW`; viewers too: following
only decides what one is told). Followers get the `replied` notification when someone else
writes on the ticket (`services.notifications.notify_reply`). Following and unfollowing are
idempotent; each real change writes a `follower_added` / `follower_removed` audit event on
the ticket (new/old value: the follower's e-mail).

Mentions: `@handle` in an internal note names every active staff member whose e-mail's local
part (`ann.lee` of `ann.lee@example.com`) or whose display name without spaces (`AnnLee` for
"Ann Lee") equals the handle, ignoring case. A handle starts after a space, a line start or
an opening bracket/quote (so `name@example.com` mentions nobody), holds letters (any
script), digits and `._+-`, and loses trailing dots (`@ann.` at a sentence's end is `ann`).
Each person named (but the note's author) is told `mentioned` and becomes a follower; a handle
that matches two people names both. Public replies mention nobody: the customer reads them.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from ticket_app.models import EventKind, NotificationKind, StaffUser, Ticket, TicketFollower
from ticket_app.schemas import FollowerRead
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event, ticket_exists
from ticket_app.services.database import service_session
from ticket_app.services.errors import PermissionDeniedError, TicketNotFoundError
from ticket_app.services.notifications import notify
from ticket_app.services.ticket_query import is_row_id

_MENTION = re.compile(r"(?:^|(?<=[\s(\[{\"'<]))@([^\W_][\w.+-]*)")


def parse_mentions(text: str) -> set[str]:
    """The handles `text` mentions, lower-cased (see the module for what a handle is)."""
    handles = {match.group(1).rstrip(".").lower() for match in _MENTION.finditer(text)}
    return {handle for handle in handles if handle}


def staff_handle(name: str) -> str:
    """The handle a display name answers to: the name without whitespace, lower-cased."""
    return "".join(name.split()).lower()


def mentioned_users(session: Session, text: str) -> list[int]:
    """Ids of the active staff members `text` mentions, in id order."""
    handles = parse_mentions(text)
    if not handles:
        return []
    rows = session.execute(
        sa.select(StaffUser.id, StaffUser.email, StaffUser.name).where(
            StaffUser.is_active.is_(True)
        )
    ).all()
    return sorted(
        user_id
        for user_id, email, name in rows
        if email.split("@", 1)[0].lower() in handles or staff_handle(name) in handles
    )


def add_follower(session: Session, ticket_id: int, user_id: int, actor: Actor) -> bool:
    """Make `user_id` follow `ticket_id` in `session`'s transaction; whether it is new.

    Safe against a concurrent follow of the same pair (the insert skips an existing row). A new
    follower gets its audit event.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    added = (
        session.execute(
            insert(TicketFollower)
            .values(ticket_id=ticket_id, user_id=user_id)
            .on_conflict_do_nothing(index_elements=["ticket_id", "user_id"])
            .returning(TicketFollower.id)
        ).first()
        is not None
    )
    if added:
        email = session.execute(
            sa.select(StaffUser.email).where(StaffUser.id == user_id)
        ).scalar_one()
        record_event(
            session,
            actor,
            EventKind.FOLLOWER_ADDED,
            ticket_id=ticket_id,
            field="followers",
            new=email,
        )
    return added


def notify_mentions(session: Session, ticket: Ticket, actor: Actor, body: str) -> list[int]:
    """Tell everyone an internal note `body` mentions (but its author), and make them followers.

    Returns the ids told, for `notify_reply`'s `skip`.
    """
    told = [user_id for user_id in mentioned_users(session, body) if user_id != actor.user_id]
    for user_id in told:
        add_follower(session, int(ticket.id), user_id, actor)
    notify(
        session,
        told,
        NotificationKind.MENTIONED,
        int(ticket.id),
        actor_label=actor.label,
        detail=body,
        cause_user_id=actor.user_id,
    )
    return told


def _follower_id(actor: Actor) -> int:
    actor.require(Action.TICKETS_FOLLOW)
    if actor.user_id is None:
        raise PermissionDeniedError(Action.TICKETS_FOLLOW.value)
    return actor.user_id


def _require_ticket(session: Session, ticket_id: int) -> None:
    if not is_row_id(ticket_id) or not ticket_exists(session, ticket_id):
        raise TicketNotFoundError(ticket_id)


def follow(ticket_id: int, *, actor: Actor) -> bool:
    """Make `actor` follow the ticket; whether they did not already (idempotent).

    Raises PermissionDeniedError unless `actor` is a staff member, TicketNotFoundError,
    DatabaseUnavailableError.
    """
    user_id = _follower_id(actor)
    with service_session() as session:
        _require_ticket(session, ticket_id)
        return add_follower(session, ticket_id, user_id, actor)


def unfollow(ticket_id: int, *, actor: Actor) -> bool:
    """Stop `actor` following the ticket; whether they did follow it (idempotent).

    Raises PermissionDeniedError unless `actor` is a staff member, TicketNotFoundError,
    DatabaseUnavailableError.
    """
    user_id = _follower_id(actor)
    with service_session() as session:
        _require_ticket(session, ticket_id)
        removed = session.execute(
            sa.delete(TicketFollower)
            .where(TicketFollower.ticket_id == ticket_id)
            .where(TicketFollower.user_id == user_id)
        ).rowcount
        if removed:
            record_event(
                session,
                actor,
                EventKind.FOLLOWER_REMOVED,
                ticket_id=ticket_id,
                field="followers",
                old=session.execute(
                    sa.select(StaffUser.email).where(StaffUser.id == user_id)
                ).scalar_one(),
            )
        return bool(removed)


def list_followers(ticket_id: int, *, actor: Actor) -> list[FollowerRead]:
    """The ticket's followers by name (then id).

    Raises PermissionDeniedError unless `actor` may read tickets, TicketNotFoundError,
    DatabaseUnavailableError.
    """
    actor.require(Action.TICKETS_READ)
    with service_session() as session:
        _require_ticket(session, ticket_id)
        rows = session.execute(
            sa.select(StaffUser.id, StaffUser.name, StaffUser.email)
            .join(TicketFollower, TicketFollower.user_id == StaffUser.id)
            .where(TicketFollower.ticket_id == ticket_id)
            .order_by(StaffUser.name, StaffUser.id)
        ).all()
    return [FollowerRead(user_id=row.id, name=row.name, email=row.email) for row in rows]


def staff_handles(*, actor: Actor) -> list[tuple[str, str]]:
    """(handle, name) of every active staff member, by name: what `@` may complete to.

    The handle is the e-mail's local part. Raises PermissionDeniedError unless `actor` may
    comment, DatabaseUnavailableError.
    """
    actor.require(Action.TICKETS_COMMENT)
    with service_session() as session:
        rows = session.execute(
            sa.select(StaffUser.email, StaffUser.name)
            .where(StaffUser.is_active.is_(True))
            .order_by(StaffUser.name, StaffUser.id)
        ).all()
    return [(email.split("@", 1)[0], name) for email, name in rows]
