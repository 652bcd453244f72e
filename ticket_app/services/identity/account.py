"""A signed-in person's own account: their password and their sessions ("My account").

Changing one's password needs the current one (failures count against the sign-in limit of the
account and the address, as sign-in failures do) and signs out every other session, keeping the
one that asked. Sessions are listed without their tokens; the caller's own is marked `current`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from ticket_app.models import EventKind, StaffSession, StaffUser, utc_now
from ticket_app.schemas import SessionRead
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import (
    AuthenticationError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
)
from ticket_app.services.identity.credentials import (
    TOUCH_INTERVAL,
    hash_password,
    token_digest,
    verify_password,
)
from ticket_app.services.identity.users import revoke_sessions
from ticket_app.services.login_limits import login_attempt
from ticket_app.services.passwords import MAX_PASSWORD_LENGTH, check_password
from ticket_app.settings import get_settings

WRONG_CURRENT = "is not your current password"


def _own_user(session: Session, actor: Actor) -> StaffUser:
    """The actor's own active account; AuthenticationError when there is none."""
    actor.require(Action.ACCOUNT_MANAGE_OWN)
    user = session.get(StaffUser, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.is_active:
        raise AuthenticationError("Sign in again.")
    return user


def _session_id(session: Session, user_id: int, token: str | None) -> int | None:
    """The id of the caller's own session (by its cookie token), None when unknown."""
    if not token:
        return None
    return session.exec(
        select(StaffSession.id).where(
            StaffSession.token_hash == token_digest(token), StaffSession.user_id == user_id
        )
    ).first()


def _end_others(session: Session, user: StaffUser, actor: Actor, keep: int | None, why: str) -> int:
    ended = revoke_sessions(session, user.id, except_id=keep)
    if ended:
        record_event(
            session,
            actor,
            EventKind.USER_CHANGED,
            field="sessions",
            new=f"{user.email}: {ended} other session{'s' if ended != 1 else ''} signed out {why}",
        )
    return ended


def change_password(
    actor: Actor,
    current_password: str,
    new_password: str,
    *,
    session_token: str | None = None,
    client: str | None = None,
) -> int:
    """Change the actor's own password; returns how many other sessions were signed out.

    `session_token` is the caller's session cookie (that session stays signed in; None signs
    out all of them), `client` the address the sign-in limit counts on. Raises
    PermissionDeniedError (a token, or anonymous), TooManyAttemptsError (with `retry_after`)
    when the account or address has had too many failures, InvalidInputError naming
    `current_password` when it is wrong (a failure) or `new_password` when the new one fails
    the policy or equals the current one.
    """
    with service_session() as session:
        user = _own_user(session, actor)
        email, name, stored_hash = user.email, user.name, user.password_hash
    try:
        with login_attempt(email, client):
            valid, _ = verify_password(current_password[:MAX_PASSWORD_LENGTH], stored_hash)
            if not valid:
                raise InvalidCredentialsError()
    except InvalidCredentialsError as exc:
        raise InvalidInputError("current_password", WRONG_CURRENT) from exc
    if new_password == current_password:
        raise InvalidInputError("new_password", "must differ from your current password")
    try:
        check_password(new_password, user_inputs=(email, name))
    except InvalidInputError as exc:
        raise InvalidInputError("new_password", str(exc)) from exc
    password_hash = hash_password(new_password)
    with service_session() as session:
        user = _own_user(session, actor)
        if user.password_hash != stored_hash:
            # Changed (or reset) by someone else while this one was being checked.
            raise InvalidInputError("current_password", WRONG_CURRENT)
        user.password_hash = password_hash
        session.add(user)
        record_event(
            session, actor, EventKind.USER_CHANGED, field="password", new=f"{email}: changed"
        )
        keep = _session_id(session, user.id, session_token)
        return _end_others(session, user, actor, keep, "by the password change")


def list_sessions(actor: Actor, *, session_token: str | None = None) -> list[SessionRead]:
    """The actor's live sessions (not signed out, expired or idle), most recently used first.

    The one of `session_token` is marked `current`. Raises PermissionDeniedError for tokens
    and anonymous callers.
    """
    now = utc_now()
    # As `resolve_session` judges idleness: last use recorded at most TOUCH_INTERVAL late.
    idle_since = now - TOUCH_INTERVAL - timedelta(minutes=get_settings().session_idle_minutes)
    with service_session() as session:
        user = _own_user(session, actor)
        current = _session_id(session, user.id, session_token)
        rows = session.exec(
            select(StaffSession)
            .where(
                StaffSession.user_id == user.id,
                StaffSession.revoked_at.is_(None),
                StaffSession.expires_at > now,
                StaffSession.last_seen_at > idle_since,
            )
            .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc())
        ).all()
        return [
            SessionRead(
                id=row.id,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
                user_agent=row.user_agent,
                current=row.id == current,
            )
            for row in rows
        ]


def sign_out_others(actor: Actor, *, session_token: str | None) -> int:
    """Sign out every session of the actor but the one of `session_token`; returns how many.

    Raises PermissionDeniedError for tokens and anonymous callers.
    """
    with service_session() as session:
        user = _own_user(session, actor)
        keep = _session_id(session, user.id, session_token)
        return _end_others(session, user, actor, keep, "by themself")


def sign_out_session(actor: Actor, session_id: int) -> None:
    """Sign out one of the actor's own sessions.

    Raises NotFoundError when it is not one of theirs or is over already,
    PermissionDeniedError for tokens and anonymous callers.
    """
    with service_session() as session:
        user = _own_user(session, actor)
        row = session.get(StaffSession, session_id)
        if row is None or row.user_id != user.id or row.revoked_at is not None:
            raise NotFoundError(f"no session {session_id} of yours is signed in")
        row.revoked_at = utc_now()
        session.add(row)
        record_event(
            session,
            actor,
            EventKind.USER_CHANGED,
            field="sessions",
            new=f"{user.email}: session {session_id} signed out by themself",
        )
