"""One-time password links: invitations (a new account's first password) and resets.

An admin invites someone (the account is made at once, with a password nobody knows) or asks
for a reset link for an existing account; either way the link carries a 256-bit random token
(`secrets.token_urlsafe(32)`) of which only the SHA-256 is stored. The link is built from
`PUBLIC_BASE_URL` (never from the request's `Host`) and shown once, to the admin. Once the
account and link are committed (with their audit event) it is also e-mailed to the person,
straight over SMTP and never stored (`link_mail`); a second audit event says whether it was,
and the admin is told, so they pass the link on themselves when it was not.
Using it sets the person's password (the usual policy), ends every session they had (a reset
also revokes their API tokens, as an admin's reset does) and signs them in; it works once, and
not after `INVITATION_LINK_HOURS` / `RESET_LINK_HOURS`. A newer link for the same person ends
the older ones. Neither the token nor the password is ever written to
the audit trail or to a log.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import EventKind, PasswordLink, PasswordLinkPurpose, StaffUser, utc_now
from ticket_app.schemas import UserRead
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import (
    InvalidInputError,
    LinkUnusableError,
    NotFoundError,
    ServiceError,
)
from ticket_app.services.identity.credentials import hash_password, token_digest
from ticket_app.services.identity.link_mail import mail_link
from ticket_app.services.identity.sessions import SignedIn, new_session
from ticket_app.services.identity.users import (
    insert_user,
    new_account,
    revoke_sessions,
    revoke_user_tokens,
    user_actor,
)
from ticket_app.services.passwords import MAX_PASSWORD_LENGTH, check_password
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

LINK_PATHS = {PasswordLinkPurpose.INVITE: "/invite/", PasswordLinkPurpose.RESET: "/reset/"}
"""The console page each purpose's link opens (followed by the token)."""

# A token is 43 characters; anything much longer is not one of ours and is not hashed.
_MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class IssuedLink:
    """A link just made: `url` (holding the token; shown once), when it stops working, whose.

    `emailed` says whether it was e-mailed to the person; when not, `not_emailed_reason` says
    why (a short phrase, e.g. "no active mailbox to send from").
    """

    url: str
    expires_at: datetime
    purpose: PasswordLinkPurpose
    user: UserRead
    emailed: bool = False
    not_emailed_reason: str | None = None


@dataclass(frozen=True)
class LinkInfo:
    """What a usable link's page shows: its purpose and the account's email and name."""

    purpose: PasswordLinkPurpose
    email: str
    name: str


def link_url(purpose: PasswordLinkPurpose, token: str) -> str:
    """The link for `token`: `PUBLIC_BASE_URL` + `/invite/<token>` or `/reset/<token>`.

    Relative (just the path) when no public base URL is configured.
    """
    base = (get_settings().public_base_url or "").rstrip("/")
    return f"{base}{LINK_PATHS[purpose]}{token}"


def _lifetime(purpose: PasswordLinkPurpose) -> timedelta:
    settings = get_settings()
    hours = (
        settings.invitation_link_hours
        if purpose == PasswordLinkPurpose.INVITE
        else settings.reset_link_hours
    )
    return timedelta(hours=hours)


def _add_link(
    session: Session, user: StaffUser, purpose: PasswordLinkPurpose
) -> tuple[IssuedLink, str]:
    """Store a new link for `user` (ending their older live ones); returns it and its token."""
    now = utc_now()
    session.execute(
        sa.update(PasswordLink)
        .where(
            PasswordLink.user_id == user.id,
            PasswordLink.used_at.is_(None),
            PasswordLink.expires_at > now,
        )
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + _lifetime(purpose)
    session.add(
        PasswordLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    issued = IssuedLink(
        link_url(purpose, token), expires_at, purpose, UserRead.model_validate(user)
    )
    return issued, token


def _mail(issued: IssuedLink, token: str, actor: Actor) -> IssuedLink:
    """E-mail the committed link, audit whether it was, and return it with the outcome.

    The outcome's event has a transaction of its own: the mail cannot wait inside the link's
    (on SQLite that would hold every writer for as long as the SMTP server takes). When the
    database fails just then, the outcome is logged instead, and the link is still returned.
    """
    outcome = mail_link(
        issued.purpose, issued.url, token, issued.expires_at, issued.user, actor=actor
    )
    email = issued.user.email
    said = (
        f"{email}: e-mailed from {outcome.sender}"
        if outcome.emailed
        else f"{email}: not e-mailed ({outcome.reason})"
    )
    try:
        with service_session() as session:
            record_event(
                session,
                actor,
                EventKind.USER_CHANGED,
                field=f"{issued.purpose.value}_link_mail",
                new=said,
            )
    except ServiceError:
        logger.warning(
            "could not audit the %s link mail of staff user %s: %s",
            issued.purpose,
            issued.user.id,
            said,
        )
    return replace(issued, emailed=outcome.emailed, not_emailed_reason=outcome.reason)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def invite_user(email: str, role: str, *, name: str | None = None, actor: Actor) -> IssuedLink:
    """Make an account for `email` with `role` and an invitation link to set its password.

    The account is active at once, with a random password nobody knows, so it can be assigned
    work while the link is on its way. Raises PermissionDeniedError unless `actor` may manage
    staff, InvalidInputError naming email, name or role, ConflictError if the email is taken.
    """
    actor.require(Action.STAFF_MANAGE)
    # Hashed with no database session open (argon2 is slow by design).
    account = new_account(email, name, role, secrets.token_urlsafe(32))
    with service_session() as session:
        user = insert_user(session, account)
        issued, token = _add_link(session, user, PasswordLinkPurpose.INVITE)
        record_event(
            session,
            actor,
            EventKind.USER_CREATED,
            field="invitation",
            new=f"{user.email}: {user.role} (invited; link expires {_when(issued.expires_at)})",
        )
    return _mail(issued, token, actor)


def issue_link(user_id: int, purpose: PasswordLinkPurpose | str, *, actor: Actor) -> IssuedLink:
    """A new invitation or reset link for an existing, active account (older links end).

    A new invitation is for someone whose first link expired; a reset for someone who forgot
    their password (their password and sessions stay until the link is used). Raises
    PermissionDeniedError unless `actor` may manage staff, NotFoundError for an unknown id,
    InvalidInputError('purpose') for another purpose, InvalidInputError('user') for a
    deactivated account.
    """
    actor.require(Action.STAFF_MANAGE)
    try:
        link_purpose = PasswordLinkPurpose(purpose)
    except ValueError as exc:
        raise InvalidInputError("purpose", "must be invite or reset") from exc
    with service_session() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise NotFoundError(f"no staff user with id {user_id}")
        if not user.is_active:
            raise InvalidInputError("user", f"{user.email} is deactivated; reactivate them first")
        issued, token = _add_link(session, user, link_purpose)
        record_event(
            session,
            actor,
            EventKind.USER_CHANGED,
            field=f"{link_purpose.value}_link",
            new=f"{user.email}: link issued (expires {_when(issued.expires_at)})",
        )
    return _mail(issued, token, actor)


def awaiting_acceptance() -> set[int]:
    """Ids of the staff users who were invited and have not accepted yet.

    Invited: they have an invitation link. Not accepted: none of their links (invitation or
    reset) was ever used, so they never set a password of their own; whether the invitation
    is still live does not matter (an admin may send a new one). Raises
    DatabaseUnavailableError when the database is down.
    """
    used = sa.select(PasswordLink.user_id).where(PasswordLink.used_at.is_not(None))
    query = (
        sa.select(PasswordLink.user_id)
        .where(
            PasswordLink.purpose == PasswordLinkPurpose.INVITE.value,
            PasswordLink.user_id.not_in(used),
        )
        .distinct()
    )
    with service_session() as session:
        return {int(user_id) for user_id in session.execute(query).scalars()}


def _live_link(session: Session, token: str) -> tuple[PasswordLink, StaffUser]:
    """The link of `token` and its user; raises LinkUnusableError unless it can be used now."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise LinkUnusableError("unknown")
    row = session.execute(
        sa.select(PasswordLink, StaffUser)
        .join(StaffUser, StaffUser.id == PasswordLink.user_id)
        .where(PasswordLink.token_hash == token_digest(token))
    ).first()
    if row is None:
        raise LinkUnusableError("unknown")
    link, user = row
    if link.used_at is not None:
        raise LinkUnusableError("used")
    if link.expires_at <= utc_now() or not user.is_active:
        raise LinkUnusableError("expired")
    return link, user


def link_info(token: str) -> LinkInfo:
    """What the link page shows for `token`; raises LinkUnusableError (unknown, used, expired).

    A deactivated account's links count as expired.
    """
    with service_session() as session:
        link, user = _live_link(session, token)
        return LinkInfo(PasswordLinkPurpose(link.purpose), user.email, user.name)


def use_link(token: str, password: str, *, user_agent: str | None = None) -> SignedIn:
    """Set the password of the link's account, end all its sessions, and sign it in.

    A reset link also revokes the account's API tokens (one audit event each). The link is
    spent in the same transaction, by a conditional update, so of two uses at once only one
    succeeds. Raises LinkUnusableError (unknown, used, expired) and
    InvalidInputError('password') when the password fails the policy (the link stays usable).
    """
    with service_session() as session:
        _, user = _live_link(session, token)
        email, name = user.email, user.name
    check_password(password[: MAX_PASSWORD_LENGTH + 1], user_inputs=(email, name))
    password_hash = hash_password(password)
    now = utc_now()
    with service_session() as session:
        link, user = _live_link(session, token)
        spent = session.execute(
            sa.update(PasswordLink)
            .where(PasswordLink.id == link.id, PasswordLink.used_at.is_(None))
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            raise LinkUnusableError("used")
        user.password_hash = password_hash
        session.add(user)
        ended = revoke_sessions(session, user.id)
        actor = user_actor(user)
        if link.purpose == PasswordLinkPurpose.INVITE:
            record_event(
                session, actor, EventKind.USER_CHANGED, field="invitation", new=f"{email}: accepted"
            )
        else:
            record_event(
                session,
                actor,
                EventKind.USER_CHANGED,
                field="password",
                new=f"{email}: reset by link",
            )
            # As an admin's reset does: whoever knew the old password may have made a token.
            revoke_user_tokens(session, user, actor)
        if ended:
            record_event(
                session,
                actor,
                EventKind.USER_CHANGED,
                field="sessions",
                new=f"{email}: {ended} signed out by the {link.purpose} link",
            )
        return new_session(session, user, user_agent=user_agent)
