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

from collections.abc import Iterable

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

    `actor_label` names who caused it; `detail` is cut to DETAIL_MAX_LENGTH characters.
    Recipients who want this kind e-mailed get it queued too (see the module docstring).
    Returns how many were added; they commit with the caller's transaction.
    """
    now = utc_now()
    users = {user_id for user_id in recipients if user_id is not None} - {cause_user_id}
    text = " ".join(detail.split())
    if len(text) > DETAIL_MAX_LENGTH:
        text = text[: DETAIL_MAX_LENGTH - 1] + "…"
    for user_id in sorted(users):
        session.add(
            Notification(
                user_id=user_id,
                kind=kind,
                ticket_id=ticket_id,
                actor=actor_label[:254],
                detail=text,
                created_at=now,
            )
        )
    _email(session, users, kind, ticket_id, actor_label=actor_label[:254], detail=text)
    return len(users)


def _email(
    session: Session,
    users: set[int],
    kind: NotificationKind,
    ticket_id: int,
    *,
    actor_label: str,
    detail: str,
) -> None:
    """Queue the e-mail copies for those of `users` who want them; deliver after the commit."""
    recipients = email_recipients(session, users, kind)
    ticket = session.get(Ticket, ticket_id) if recipients else None
    if ticket is None:
        return
    queued = mail_outbound.queue_notifications(
        session, ticket, kind, recipients, actor_label=actor_label, detail=detail
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


def notify_owner_or_team(
    session: Session,
    ticket_id: int,
    assignee_id: int | None,
    kind: NotificationKind,
    *,
    actor_label: str,
    detail: str = "",
    team: Iterable[int] | None = None,
) -> int:
    """Tell a ticket's assignee, or the whole team while it has none (see the module).

    `team`: the team's ids when the caller has read them (`team_ids`) for many tickets at once.
    """
    if assignee_id is not None:
        recipients: Iterable[int] = [assignee_id]
    else:
        recipients = team_ids(session) if team is None else team
    return notify(session, recipients, kind, ticket_id, actor_label=actor_label, detail=detail)


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
