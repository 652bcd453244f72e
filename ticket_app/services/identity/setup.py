"""The first-admin setup: the one-time token that opens it, and the first admin's account.

The console offers the setup while no active admin exists (`has_admin`); `complete_setup`
creates that admin and signs them in, once.
"""

from __future__ import annotations

import hmac
import secrets

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import ActorKind, EventKind, Role, StaffUser
from ticket_app.services.access import Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import SetupClosedError
from ticket_app.services.identity.sessions import SignedIn, new_session
from ticket_app.services.identity.users import insert_user, new_account
from ticket_app.settings import get_settings

_generated_setup_token: str | None = None


def setup_token() -> str:
    """The one-time token the first-admin page asks for.

    `SETUP_TOKEN` from the settings when set (the `serve` command sets it for its workers),
    otherwise a random token made once per process. Callers log it while no admin exists.
    """
    global _generated_setup_token
    configured = get_settings().setup_token
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    if _generated_setup_token is None:
        _generated_setup_token = secrets.token_urlsafe(24)
    return _generated_setup_token


SETUP_DONE = "Setup is done: an admin exists. Sign in instead."


def _admin_exists(session: Session) -> bool:
    query = sa.select(StaffUser.id).where(
        StaffUser.role == Role.ADMIN.value, StaffUser.is_active.is_(True)
    )
    return session.execute(query.limit(1)).first() is not None


def has_admin() -> bool:
    """Whether an active admin exists (if not, the console offers the first-admin setup)."""
    with service_session() as session:
        return _admin_exists(session)


def complete_setup(token: str, email: str, password: str, *, name: str | None = None) -> SignedIn:
    """Create the first admin with the setup token and sign them in.

    Raises SetupClosedError when an active admin already exists (whatever the token, so a
    closed setup tells nobody whether a token was right) or the token is wrong, and the
    errors of `create_user` for bad input.
    """
    if has_admin():
        raise SetupClosedError(SETUP_DONE)
    if not hmac.compare_digest(token.strip().encode(), setup_token().encode()):
        raise SetupClosedError("The setup token is not correct; it is printed in the server log.")
    account = new_account(email, name, Role.ADMIN, password)
    with service_session() as session:
        # Checked again in the transaction that inserts: two setups may have raced.
        if _admin_exists(session):
            raise SetupClosedError(SETUP_DONE)
        user = insert_user(session, account)
        record_event(
            session,
            Actor.process(ActorKind.SYSTEM, "setup"),
            EventKind.USER_CREATED,
            field="role",
            new=f"{user.email}: admin",
        )
        return new_session(session, user)
