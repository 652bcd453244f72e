"""Stored mail as seen from a ticket: which comment came or went by e-mail, and its `.eml`."""

from __future__ import annotations

from sqlmodel import Session, select

from ticket_app.models import MailMessage, Ticket
from ticket_app.schemas import TicketMailRead
from ticket_app.services import file_store
from ticket_app.services.access import Action, Actor
from ticket_app.services.database import service_session
from ticket_app.services.errors import NotFoundError
from ticket_app.services.ticket_query import is_row_id


def mail_by_comment(session: Session, ticket_id: int) -> dict[int, MailMessage]:
    """The ticket's stored mail that carries a comment, by comment id."""
    rows = session.exec(
        select(MailMessage)
        .where(MailMessage.ticket_id == ticket_id)
        .where(MailMessage.comment_id.is_not(None))
    ).all()
    return {int(row.comment_id): row for row in rows}


def comment_mail(session: Session, ticket_id: int, comment_id: int) -> MailMessage:
    """The mail that carries comment `comment_id` of ticket `ticket_id`; NotFoundError if none."""
    if not (is_row_id(ticket_id) and is_row_id(comment_id)):
        raise NotFoundError(f"comment {comment_id} of ticket {ticket_id} is not an e-mail")
    row = session.exec(
        select(MailMessage)
        .where(MailMessage.ticket_id == ticket_id)
        .where(MailMessage.comment_id == comment_id)
    ).first()
    if row is None:
        raise NotFoundError(f"comment {comment_id} of ticket {ticket_id} is not an e-mail")
    return row


def comment_mail_raw(ticket_id: int, comment_id: int, *, actor: Actor) -> bytes:
    """The `.eml` of the mail behind a comment, for staff who may read the ticket.

    Raises PermissionDeniedError, NotFoundError (not a mail, or its file is gone).
    """
    actor.require(Action.TICKETS_READ)
    with service_session() as session:
        path = comment_mail(session, ticket_id, comment_id).raw_path
    if path is None:
        raise NotFoundError(f"the e-mail of comment {comment_id} was not kept")
    return file_store.read(path)


def ticket_mail(ticket_id: int, *, actor: Actor) -> list[TicketMailRead]:
    """Every e-mail stored for ticket `ticket_id`, received and sent, oldest first.

    Includes the mail that opened the ticket, which carries no comment. Raises
    PermissionDeniedError unless `actor` may read tickets, NotFoundError for an unknown ticket.
    """
    actor.require(Action.TICKETS_READ)
    with service_session() as session:
        if not is_row_id(ticket_id) or session.get(Ticket, ticket_id) is None:
            raise NotFoundError(f"ticket {ticket_id} does not exist")
        rows = session.exec(
            select(MailMessage)
            .where(MailMessage.ticket_id == ticket_id)
            .order_by(MailMessage.created_at, MailMessage.id)
        ).all()
        return [TicketMailRead.model_validate(row, from_attributes=True) for row in rows]


def ticket_mail_raw(ticket_id: int, mail_id: int, *, actor: Actor) -> bytes:
    """The `.eml` of e-mail `mail_id` of ticket `ticket_id`, for staff who may read the ticket.

    Raises PermissionDeniedError, NotFoundError (no such mail on that ticket, or its file is
    gone).
    """
    actor.require(Action.TICKETS_READ)
    with service_session() as session:
        row = (
            session.get(MailMessage, mail_id)
            if is_row_id(ticket_id) and is_row_id(mail_id)
            else None
        )
        if row is None or row.ticket_id != ticket_id:
            raise NotFoundError(f"e-mail {mail_id} of ticket {ticket_id} does not exist")
        path = row.raw_path
    if path is None:
        raise NotFoundError(f"e-mail {mail_id} of ticket {ticket_id} was not kept")
    return file_store.read(path)
