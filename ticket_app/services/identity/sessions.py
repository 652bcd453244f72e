"""Console sessions: sign in, sign out, and whose session a cookie's token is.

The session token goes into the cookie and only its digest is stored (`credentials`); the
sign-in failure limit is in `ticket_app.services.login_limits`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie

import sqlalchemy as sa
from sqlmodel import Session, select

from ticket_app.models import USER_AGENT_MAX_LENGTH, StaffSession, StaffUser, utc_now
from ticket_app.schemas import UserRead
from ticket_app.services.access import Actor
from ticket_app.services.database import service_session
from ticket_app.services.errors import InvalidCredentialsError, InvalidInputError
from ticket_app.services.identity.credentials import TOUCH_INTERVAL, token_digest, verify_password
from ticket_app.services.identity.users import normalize_email, user_actor
from ticket_app.services.login_limits import login_attempt
from ticket_app.services.passwords import MAX_PASSWORD_LENGTH
from ticket_app.settings import get_settings

SESSION_COOKIE = "triage_session"


@dataclass(frozen=True)
class SignedIn:
    """A new console session.

    `token` goes into the cookie (never stored), `max_age` in
    seconds is the cookie's lifetime.
    """

    token: str
    user: UserRead
    max_age: int


def new_session(session: Session, user: StaffUser, *, user_agent: str | None = None) -> SignedIn:
    """Open a console session for `user` in `session` and record the sign-in time.

    `user_agent` (the browser's `User-Agent`, cut to `USER_AGENT_MAX_LENGTH`) names the
    session in "My account".
    """
    settings = get_settings()
    token = secrets.token_urlsafe(32)
    now = utc_now()
    lifetime = timedelta(hours=settings.session_max_age_hours)
    session.add(
        StaffSession(
            user_id=user.id,
            token_hash=token_digest(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            user_agent=(user_agent or "").strip()[:USER_AGENT_MAX_LENGTH] or None,
        )
    )
    user.last_login_at = now
    session.add(user)
    session.flush()
    return SignedIn(token, UserRead.model_validate(user), int(lifetime.total_seconds()))


def _stored_credentials(email: str, password: str) -> tuple[int | None, str | None]:
    """(id, password hash) of the active account with this email, else (None, None).

    Also (None, None) when the email or the password could not have been stored.
    """
    try:
        normalized = normalize_email(email)
    except InvalidInputError:
        return None, None
    if len(password) > MAX_PASSWORD_LENGTH:
        return None, None
    with service_session() as session:
        row = session.execute(
            sa.select(StaffUser.id, StaffUser.password_hash).where(
                StaffUser.email == normalized, StaffUser.is_active.is_(True)
            )
        ).first()
    return (row.id, row.password_hash) if row is not None else (None, None)


def sign_in(
    email: str, password: str, *, client: str | None = None, user_agent: str | None = None
) -> SignedIn:
    """Check a password and open a session.

    Raises TooManyAttemptsError (with `retry_after` seconds) once the account or the client
    address has had `login_max_failures` failures within `login_window_seconds` (attempts
    still being checked count against that allowance, so parallel guesses cannot overrun
    it), and InvalidCredentialsError, with one message for unknown email, wrong password and
    deactivated account, otherwise. A password hashed with outdated parameters is rehashed.
    `user_agent` is kept with the session (see `new_session`).
    No database connection is held while the password is verified.
    """
    with login_attempt(email or "", client):
        user_id, stored_hash = _stored_credentials(email or "", password)
        # An unknown account is checked against a dummy hash so both answers take as long.
        valid, new_hash = verify_password(password[:MAX_PASSWORD_LENGTH], stored_hash)
        if user_id is None or not valid:
            raise InvalidCredentialsError()
        with service_session() as session:
            user = session.get(StaffUser, user_id)
            # Deactivated, or given a new password, while this one was being checked.
            if user is None or not user.is_active or user.password_hash != stored_hash:
                raise InvalidCredentialsError()
            if new_hash is not None:
                user.password_hash = new_hash
            return new_session(session, user, user_agent=user_agent)


def resolve_session(token: str | None) -> Actor | None:
    """The actor of a session cookie's token.

    None if it is unknown, revoked, expired, idle for longer than `session_idle_minutes`, or its
    user is deactivated. Use is recorded at most once per `TOUCH_INTERVAL`, so the last use may
    be up to that much later than the recorded one: a session idles out between
    `session_idle_minutes` and that plus `TOUCH_INTERVAL` after its last use, never before.
    """
    if not token:
        return None
    settings = get_settings()
    now = utc_now()
    with service_session() as session:
        row = session.exec(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.token_hash == token_digest(token))
        ).first()
        if row is None:
            return None
        staff_session, user = row
        idle = timedelta(minutes=settings.session_idle_minutes)
        idle_limit = staff_session.last_seen_at + TOUCH_INTERVAL + idle
        if (
            staff_session.revoked_at is not None
            or staff_session.expires_at <= now
            or idle_limit <= now
            or not user.is_active
        ):
            return None
        if now - staff_session.last_seen_at >= TOUCH_INTERVAL:
            staff_session.last_seen_at = now
            session.add(staff_session)
        return user_actor(user)


def session_token_from_cookie_header(header: str | None) -> str | None:
    """The session token inside a raw `Cookie` header (what the console's event socket has)."""
    if not header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


def sign_out(token: str | None) -> None:
    """End the session of this cookie token (nothing happens for an unknown token)."""
    if not token:
        return
    with service_session() as session:
        session.execute(
            sa.update(StaffSession)
            .where(
                StaffSession.token_hash == token_digest(token), StaffSession.revoked_at.is_(None)
            )
            .values(revoked_at=utc_now())
        )
