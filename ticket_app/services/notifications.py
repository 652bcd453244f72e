"""In-app notifications: telling staff what happened on their tickets (the console's bell).

Who is told:
- `assigned`: the new assignee, unless they assigned the ticket to themselves;
- `replied`: the ticket's assignee and its followers, when someone else (a colleague or the
  requester) wrote a public reply or a note on it (once each: an assignee who follows is told
  once, and whoever the note mentions is told `mentioned` instead);
- `mentioned`: whoever an internal note names with `@name` (`services.followers`);
- `sla_warning` / `sla_breached`: the assignee, or, while nobody owns the ticket, the whole team
  (every active agent and admin), since unowned work is everyone's.
Nobody is told about what they did themselves. Notifications are written in the transaction of
the change that causes them, so they exist exactly when the change does.

Whoever chose to (`services.notification_preferences`) also gets an e-mail, queued on the
outbound mail queue in that same transaction (`mail_outbound.queue_notifications`: only when a
mailbox is active; otherwise the bell alone) and handed to the task queue once it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.enums import NotificationKind, Role
from ticket_app.models import Notification, StaffUser, Ticket, TicketFollower, utc_now
from ticket_app.models.notifications import DETAIL_MAX_LENGTH
from ticket_app.schemas import (
    NotificationPage,
    NotificationRead,
    NotificationsReadRequest,
    NotificationsReadResult,
)
from ticket_app.services import mail_outbound
from ticket_app.services.access import Action, Actor
from ticket_app.services.database import service_session
from ticket_app.services.id_cursors import decode_id_cursor, encode_id_cursor
from ticket_app.services.mail_outbound import NoticeRecipient
from ticket_app.services.notification_preferences import email_recipients

_CURSOR_PREFIX = "notification:"
_PENDING_MAIL = "notification_mail"
TEAM_ROLES = (Role.AGENT.value, Role.ADMIN.value)
"""Who "the team" is for an unowned ticket: everyone who can work tickets."""


def team_ids(session: Session) -> list[int]:
    """The ids of "the team" (TEAM_ROLES, active), who are told about unowned tickets."""
    return list(
        session.execute(
            sa.select(StaffUser.id)
            .where(StaffUser.is_active.is_(True))
            .where(StaffUser.role.in_(TEAM_ROLES))
        ).scalars()
    )


@dataclass(frozen=True)
class Notice:
    """One notification to add: `kind`, about `ticket_id`, for each user id in `recipients`.

    Build it with `notice`, which drops the causing user and cuts the texts to size.
    """

    recipients: frozenset[int]
    kind: NotificationKind
    ticket_id: int
    actor_label: str
    detail: str


def notice(
    recipients: Iterable[int | None],
    kind: NotificationKind,
    ticket_id: int,
    *,
    actor_label: str,
    detail: str = "",
    cause_user_id: int | None = None,
) -> Notice:
    """A `Notice` to the distinct `recipients` (None and `cause_user_id` skipped).

    `actor_label` names who caused it (cut to 254 characters); `detail`'s whitespace is
    collapsed and it is cut to DETAIL_MAX_LENGTH characters.
    """
    users = frozenset(user_id for user_id in recipients if user_id is not None) - {cause_user_id}
    text = " ".join(detail.split())
    if len(text) > DETAIL_MAX_LENGTH:
        text = text[: DETAIL_MAX_LENGTH - 1] + "…"
    return Notice(users, kind, ticket_id, actor_label[:254], text)


def notify(
    session: Session,
    recipients: Iterable[int | None],
    kind: NotificationKind,
    ticket_id: int,
    *,
    actor_label: str,
    detail: str = "",
    cause_user_id: int | None = None,
) -> int:
    """Add one notification per distinct recipient (None and `cause_user_id` skipped).

    `notify_many` of one `notice` with these arguments; returns how many were added.
    """
    told = notice(
        recipients,
        kind,
        ticket_id,
        actor_label=actor_label,
        detail=detail,
        cause_user_id=cause_user_id,
    )
    return notify_many(session, [told])


def notify_many(session: Session, notices: Sequence[Notice]) -> int:
    """Add every notice's notifications, in the caller's transaction; returns how many.

    One INSERT for all of them and one read of e-mail preferences per kind, whatever the
    number of notices (the background check tells a batch of tickets at once: one flush and
    one read per notification took 1.7 ms each, more than the clocks themselves). Recipients
    who want a kind e-mailed get it queued too (see the module docstring).
    """
    now = utc_now()
    rows = [
        {
            "user_id": user_id,
            "kind": told.kind,
            "ticket_id": told.ticket_id,
            "actor": told.actor_label,
            "detail": told.detail,
            "created_at": now,
        }
        for told in notices
        for user_id in sorted(told.recipients)
    ]
    if not rows:
        return 0
    session.execute(sa.insert(Notification), rows)
    for kind in {told.kind for told in notices}:
        of_kind = [told for told in notices if told.kind == kind]
        wanting = email_recipients(session, set().union(*(t.recipients for t in of_kind)), kind)
        for told in of_kind:
            recipients = [wanting[user] for user in sorted(told.recipients) if user in wanting]
            if recipients:
                _email(session, told, recipients)
    return len(rows)


def _email(session: Session, told: Notice, recipients: list[NoticeRecipient]) -> None:
    """Queue the e-mail copies of `told` to `recipients`; deliver after the commit."""
    ticket = session.get(Ticket, told.ticket_id)
    if ticket is None:
        return
    queued = mail_outbound.queue_notifications(
        session,
        ticket,
        told.kind,
        recipients,
        actor_label=told.actor_label,
        detail=told.detail,
    )
    if not queued:
        return
    if not sa.event.contains(session, "after_commit", _deliver_pending):
        sa.event.listen(session, "after_commit", _deliver_pending)
        sa.event.listen(session, "after_rollback", _drop_pending)
    session.info.setdefault(_PENDING_MAIL, []).extend(queued)


def _deliver_pending(session: Session) -> None:
    """After the commit: hand each queued notification mail to the task queue."""
    for mail_message_id in session.info.pop(_PENDING_MAIL, []):
        mail_outbound.enqueue_delivery(mail_message_id)


def _drop_pending(session: Session) -> None:
    """After a rollback the queued rows are gone: forget them."""
    session.info.pop(_PENDING_MAIL, None)


def notify_assigned(session: Session, ticket: Ticket, actor: Actor) -> int:
    """Tell a ticket's (new) assignee it is theirs now, unless they took it themselves."""
    return notify(
        session,
        [ticket.assignee_id],
        NotificationKind.ASSIGNED,
        int(ticket.id),
        actor_label=actor.label,
        detail=ticket.title,
        cause_user_id=actor.user_id,
    )


def notify_reply(
    session: Session,
    ticket: Ticket,
    *,
    author_label: str,
    author_user_id: int | None,
    body: str,
    skip: Iterable[int] = (),
) -> int:
    """Tell a ticket's assignee and followers that someone else wrote on it.

    `body`'s first words are shown. The author and the ids in `skip` (those told otherwise,
    e.g. mentioned in this note) are not told; everyone else once. Returns how many were told.
    """
    followers = session.execute(
        sa.select(TicketFollower.user_id).where(TicketFollower.ticket_id == ticket.id)
    ).scalars()
    recipients = {ticket.assignee_id, *followers} - set(skip)
    return notify(
        session,
        recipients,
        NotificationKind.REPLIED,
        int(ticket.id),
        actor_label=author_label,
        detail=body,
        cause_user_id=author_user_id,
    )


def list_notifications(
    *, actor: Actor, limit: int = 20, cursor: str | None = None, unread_only: bool = False
) -> NotificationPage:
    """`actor`'s notifications, newest first, `limit` per page (1..100).

    Raises PermissionDeniedError unless `actor` is a staff member who may read tickets,
    InvalidCursorError for a cursor this list did not issue, DatabaseUnavailableError.
    """
    actor.require(Action.NOTIFICATIONS_READ)
    mine = Notification.user_id == actor.user_id
    query = (
        sa.select(Notification, Ticket.title)
        .join(Ticket, Ticket.id == Notification.ticket_id)
        .where(mine)
        .order_by(Notification.id.desc())
        .limit(limit + 1)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if cursor:
        query = query.where(Notification.id < decode_id_cursor(_CURSOR_PREFIX, cursor))
    with service_session() as session:
        rows = session.execute(query).all()
        total = session.execute(sa.select(sa.func.count()).where(mine)).scalar_one()
        unread = _unread(session, actor)
    items = [
        NotificationRead(
            id=row.id,
            kind=row.kind,
            ticket_id=row.ticket_id,
            ticket_title=title,
            actor=row.actor,
            detail=row.detail,
            created_at=row.created_at,
            read_at=row.read_at,
        )
        for row, title in rows[:limit]
    ]
    more = len(rows) > limit
    return NotificationPage(
        items=items,
        total=total,
        unread=unread,
        next_cursor=encode_id_cursor(_CURSOR_PREFIX, items[-1].id) if more else None,
    )


def _unread(session: Session, actor: Actor) -> int:
    return session.execute(
        sa.select(sa.func.count())
        .where(Notification.user_id == actor.user_id)
        .where(Notification.read_at.is_(None))
    ).scalar_one()


def unread_count(*, actor: Actor) -> int:
    """How many of `actor`'s notifications are unread (the bell's number).

    Raises PermissionDeniedError, DatabaseUnavailableError.
    """
    actor.require(Action.NOTIFICATIONS_READ)
    with service_session() as session:
        return _unread(session, actor)


def mark_read(request: NotificationsReadRequest, *, actor: Actor) -> NotificationsReadResult:
    """Mark `actor`'s notifications read: those in `request.ids`, or all of them.

    Ids of others' notifications are ignored; already-read ones keep their first `read_at`.

    Raises PermissionDeniedError, DatabaseUnavailableError.
    """
    actor.require(Action.NOTIFICATIONS_READ)
    update = (
        sa.update(Notification)
        .where(Notification.user_id == actor.user_id)
        .where(Notification.read_at.is_(None))
        .values(read_at=utc_now())
    )
    if not request.all:
        update = update.where(Notification.id.in_(request.ids or []))
    with service_session() as session:
        marked = session.execute(update).rowcount
        return NotificationsReadResult(marked=marked, unread=_unread(session, actor))


def mark_ticket_read(ticket_id: int, *, actor: Actor) -> int:
    """Mark read `actor`'s unread notifications about one ticket (they opened it); how many.

    Raises PermissionDeniedError, DatabaseUnavailableError.
    """
    actor.require(Action.NOTIFICATIONS_READ)
    with service_session() as session:
        return session.execute(
            sa.update(Notification)
            .where(Notification.user_id == actor.user_id)
            .where(Notification.ticket_id == ticket_id)
            .where(Notification.read_at.is_(None))
            .values(read_at=utc_now())
        ).rowcount
