"""Stored mail as seen from a ticket: which comment came or went by e-mail, and its `.eml`."""

from __future__ import annotations

from sqlmodel import Session, select

from ticket_app.models import MailMessage
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
