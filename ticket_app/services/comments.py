"""The conversation on a ticket: public replies to the requester and internal notes.

A comment is plain text kept exactly as written (the console renders it as text, line breaks
kept). Adding one moves the ticket's `updated_at` (so lists, ETags and change markers see it),
sets `first_public_reply_at` on the first public reply by staff, and writes a `commented`
audit event, all in one transaction. The timeline interleaves a ticket's comments with its
audit events for the ticket page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from ticket_app.models import (
    CommentChannel,
    DeliveryStatus,
    EventKind,
    MailDirection,
    MailMessage,
    StaffUser,
    Ticket,
    TicketComment,
    TicketEvent,
    utc_now,
)
from ticket_app.schemas import (
    AttachmentRead,
    CommentCreate,
    CommentPage,
    CommentRead,
    EventRead,
    TimelineEntry,
)
from ticket_app.services import audit, mail_outbound
from ticket_app.services.access import Action, Actor
from ticket_app.services.attachments import attachments_by_comment
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import TicketNotFoundError
from ticket_app.services.followers import notify_mentions
from ticket_app.services.id_cursors import decode_id_cursor, encode_id_cursor
from ticket_app.services.mail_messages import mail_by_comment
from ticket_app.services.notifications import notify_reply
from ticket_app.services.sla import refresh_loaded_ticket_sla
from ticket_app.services.ticket_query import is_row_id

_CURSOR_PREFIX = "c1:"


@dataclass(frozen=True)
class _MailContext:
    """What the ticket's stored mail and files say about its comments."""

    mail: dict[int, MailMessage]
    files: dict[int, list[AttachmentRead]]

    @classmethod
    def load(cls, session: Session, ticket_id: int) -> _MailContext:
        return cls(mail_by_comment(session, ticket_id), attachments_by_comment(session, ticket_id))


_NO_MAIL = _MailContext({}, {})


def _comment_read(
    comment: TicketComment, author_name: str | None, context: _MailContext = _NO_MAIL
) -> CommentRead:
    mail = context.mail.get(int(comment.id))
    return CommentRead(
        direction=MailDirection(mail.direction) if mail else None,
        message_id=mail.message_id if mail else comment.message_id,
        delivery_status=DeliveryStatus(mail.delivery_status)
        if mail and mail.delivery_status
        else None,
        delivery_error=mail.delivery_error if mail else None,
        mailed_to=mail.to_address if mail and mail.direction == MailDirection.OUTBOUND else None,
        attachments=context.files.get(int(comment.id), []),
        id=comment.id,
        ticket_id=comment.ticket_id,
        author=comment.author_label,
        author_id=comment.author_user_id,
        author_name=author_name or comment.author_label,
        body=comment.body,
        public=comment.public,
        channel=CommentChannel(comment.channel),
        created_at=comment.created_at,
    )


def _with_author_names(ticket_id: int) -> Any:
    """SELECT of the ticket's comments with their author's name, oldest first."""
    return (
        select(TicketComment, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == TicketComment.author_user_id)
        .where(TicketComment.ticket_id == ticket_id)
        .order_by(TicketComment.id)
    )


def _author_name(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.execute(sa.select(StaffUser.name).where(StaffUser.id == user_id)).scalar()


def add_comment(
    ticket_id: int,
    data: CommentCreate,
    *,
    actor: Actor,
    channel: CommentChannel = CommentChannel.API,
) -> CommentRead:
    """Add a public reply or an internal note to a ticket and return it.

    In one transaction: the comment, the ticket's `updated_at` set to the comment's time, its
    `first_public_reply_at` when this is the first public reply by a staff user, and a
    `commented` audit event (field `public` or `internal`, new value the comment's id), for an
    internal note a `mentioned` notification to everyone it names with `@name` (who then
    follow the ticket; `services.followers`), and a `replied` notification to the ticket's
    assignee and followers when someone else wrote it. A
    staff member's public reply on a ticket with a requester address is also queued as an
    e-mail (when a mailbox is connected) and sent in the background: saving never waits for,
    or fails because of, the mail server. Raises PermissionDeniedError unless `actor` may
    comment (agents and admins; tokens need tickets:write), TicketNotFoundError,
    DatabaseUnavailableError; nothing is written then.
    """
    actor.require(Action.TICKETS_COMMENT)
    if not is_row_id(ticket_id):
        raise TicketNotFoundError(ticket_id)
    now = utc_now()
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise TicketNotFoundError(ticket_id)
        comment = TicketComment(
            ticket_id=ticket_id,
            author_user_id=actor.user_id,
            author_label=actor.label[:254],
            body=data.body,
            public=data.public,
            channel=channel.value,
            created_at=now,
        )
        session.add(comment)
        # The comment goes first and the ticket's changes after, so its service levels are
        # computed with the comment before its one UPDATE (see refresh_loaded_ticket_sla).
        session.flush()
        ticket.updated_at = now
        if data.public and actor.user_id is not None and ticket.first_public_reply_at is None:
            ticket.first_public_reply_at = now
        refresh_loaded_ticket_sla(session, ticket, now)
        session.flush()
        record_event(
            session,
            actor,
            EventKind.COMMENTED,
            ticket_id=ticket_id,
            field="public" if data.public else "internal",
            new=comment.id,
        )
        mentioned = [] if data.public else notify_mentions(session, ticket, actor, data.body)
        notify_reply(
            session,
            ticket,
            author_label=comment.author_label,
            author_user_id=actor.user_id,
            body=data.body,
            skip=mentioned,
        )
        mail_id = None
        if data.public and actor.user_id is not None:
            mail_id = mail_outbound.queue_reply(session, ticket, comment)
        read = _comment_read(
            comment, _author_name(session, actor.user_id), _MailContext.load(session, ticket_id)
        )
    if mail_id is not None:
        mail_outbound.enqueue_delivery(mail_id)
    return read


def _require_ticket(session: Session, ticket_id: int) -> None:
    if not is_row_id(ticket_id) or not audit.ticket_exists(session, ticket_id):
        raise TicketNotFoundError(ticket_id)


def list_comments(ticket_id: int, *, limit: int = 50, cursor: str | None = None) -> CommentPage:
    """The ticket's comments, oldest first, `limit` per page after `cursor`.

    `total` counts all of the ticket's comments. Raises TicketNotFoundError for an unknown
    ticket, InvalidCursorError for a cursor this function did not issue.
    """
    after = decode_id_cursor(_CURSOR_PREFIX, cursor) if cursor is not None else None
    with service_session() as session:
        _require_ticket(session, ticket_id)
        total = session.execute(
            sa.select(sa.func.count())
            .select_from(TicketComment)
            .where(TicketComment.ticket_id == ticket_id)
        ).scalar_one()
        query = _with_author_names(ticket_id)
        if after is not None:
            query = query.where(TicketComment.id > after)
        rows = session.exec(query.limit(limit + 1)).all()
        context = _MailContext.load(session, ticket_id)
        items = [_comment_read(comment, name, context) for comment, name in rows[:limit]]
    more = len(rows) > limit
    return CommentPage(
        items=items,
        total=total,
        next_cursor=encode_id_cursor(_CURSOR_PREFIX, items[-1].id) if more else None,
    )


def ticket_timeline(ticket_id: int) -> list[TimelineEntry]:
    """The ticket's audit events and comments interleaved by time, oldest first.

    `commented` events are left out: the comment they record is its own entry. Raises
    TicketNotFoundError for an unknown ticket.
    """
    with service_session() as session:
        _require_ticket(session, ticket_id)
        events = session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .where(TicketEvent.kind != EventKind.COMMENTED.value)
            .order_by(TicketEvent.id)
        ).all()
        comments = session.exec(_with_author_names(ticket_id)).all()
        context = _MailContext.load(session, ticket_id)
        entries = [
            TimelineEntry(
                kind="event",
                created_at=event.created_at,
                actor=event.actor_label,
                event=EventRead.model_validate(event),
            )
            for event in events
        ]
        entries.extend(
            TimelineEntry(
                kind="comment",
                created_at=comment.created_at,
                actor=comment.author_label,
                comment=_comment_read(comment, name, context),
            )
            for comment, name in comments
        )
    # Stable: at equal times events (written first in a transaction) come before comments.
    return sorted(entries, key=lambda entry: entry.created_at)
