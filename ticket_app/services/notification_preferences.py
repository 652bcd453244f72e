"""Which notifications each staff member is also e-mailed about, kind by kind.

Defaults (`EMAIL_BY_DEFAULT`): `assigned` and `mentioned` are e-mailed, the others are not.
Those two are addressed to one person, rare, and ask for their action; `replied` fires on every
message of every ticket one owns or follows, and the service-level kinds go to the whole team
for unowned tickets, so mailing them by default would bury people (they are in the bell
anyway). A person's choice is stored only for the kinds they set (`notification_preferences`);
a kind without a row follows the default, so a later change of default reaches everyone who
never chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.enums import EventKind, NotificationKind
from ticket_app.models import NotificationPreference, StaffUser, utc_now
from ticket_app.schemas import NotificationPreferenceChange, NotificationPreferenceRead
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import PermissionDeniedError
from ticket_app.services.mail_outbound import NoticeRecipient

EMAIL_BY_DEFAULT = frozenset({NotificationKind.ASSIGNED, NotificationKind.MENTIONED})
"""The kinds e-mailed to someone who has not chosen (see the module docstring)."""


def _user_id(actor: Actor, action: Action) -> int:
    """`actor`'s staff user id; PermissionDeniedError for an actor that is nobody (a process)."""
    actor.require(action)
    if actor.user_id is None:
        raise PermissionDeniedError(action.value)
    return actor.user_id


def _stored(session: Session, user_id: int) -> dict[NotificationKind, bool]:
    rows = session.execute(
        sa.select(NotificationPreference.kind, NotificationPreference.email).where(
            NotificationPreference.user_id == user_id
        )
    ).all()
    return {NotificationKind(kind): bool(email) for kind, email in rows}


def _listing(stored: dict[NotificationKind, bool]) -> list[NotificationPreferenceRead]:
    return [
        NotificationPreferenceRead(kind=kind, email=stored.get(kind, kind in EMAIL_BY_DEFAULT))
        for kind in NotificationKind
    ]


def get_preferences(*, actor: Actor) -> list[NotificationPreferenceRead]:
    """`actor`'s e-mail choice for every notification kind, in NotificationKind's order.

    Raises PermissionDeniedError unless `actor` is a staff member who may read notifications,
    DatabaseUnavailableError.
    """
    user_id = _user_id(actor, Action.NOTIFICATIONS_READ)
    with service_session() as session:
        return _listing(_stored(session, user_id))


def set_preferences(
    changes: Sequence[NotificationPreferenceChange], *, actor: Actor
) -> list[NotificationPreferenceRead]:
    """Set `actor`'s e-mail choice for the kinds in `changes` (others keep theirs).

    A kind listed more than once takes its last value. Each kind whose choice changes writes a
    `notification_prefs_changed` audit event (field `email.<kind>`, old and new `true`/`false`)
    in the same transaction. Returns every kind's choice afterwards, as `get_preferences`.

    Raises PermissionDeniedError unless `actor` is a staff member allowed
    NOTIFICATIONS_PREFERENCES, DatabaseUnavailableError.
    """
    user_id = _user_id(actor, Action.NOTIFICATIONS_PREFERENCES)
    wanted = {change.kind: change.email for change in changes}
    with service_session() as session:
        # One writer per person at a time (PostgreSQL): two saves cannot both insert a kind.
        session.get(StaffUser, user_id, with_for_update=True)
        stored = _stored(session, user_id)
        now = utc_now()
        for kind, email in wanted.items():
            before = stored.get(kind, kind in EMAIL_BY_DEFAULT)
            if kind in stored:
                session.execute(
                    sa.update(NotificationPreference)
                    .where(NotificationPreference.user_id == user_id)
                    .where(NotificationPreference.kind == kind.value)
                    .values(email=email, updated_at=now)
                )
            else:
                session.add(
                    NotificationPreference(user_id=user_id, kind=kind, email=email, updated_at=now)
                )
            stored[kind] = email
            if before != email:
                record_event(
                    session,
                    actor,
                    EventKind.NOTIFICATION_PREFS_CHANGED,
                    field=f"email.{kind.value}",
                    old=str(before).lower(),
                    new=str(email).lower(),
                )
        return _listing(stored)


def email_recipients(
    session: Session, user_ids: Iterable[int], kind: NotificationKind
) -> dict[int, NoticeRecipient]:
    """Who among `user_ids` (active staff) wants notifications of `kind` e-mailed, by user id.

    Their own choice when stored, else the default; a user without an address is left out.
    One read, whatever the number of users; in id order.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        sa.select(StaffUser.id, StaffUser.name, StaffUser.email, NotificationPreference.email)
        .outerjoin(
            NotificationPreference,
            sa.and_(
                NotificationPreference.user_id == StaffUser.id,
                NotificationPreference.kind == kind.value,
            ),
        )
        .where(StaffUser.id.in_(ids))
        .where(StaffUser.is_active.is_(True))
        .order_by(StaffUser.id)
    ).all()
    default = kind in EMAIL_BY_DEFAULT
    return {
        user_id: NoticeRecipient(name=name or "", address=address)
        for user_id, name, address, chosen in rows
        if address and (default if chosen is None else chosen)
    }
