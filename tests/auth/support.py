"""Helpers for the identity tests: staff users, signed-in clients, API tokens, old timestamps.

Users are made through the service layer (as the CLI does); sessions through the public sign-in
endpoint, so the cookie a test holds is exactly what a browser would hold. Password hashing
costs tens of milliseconds, so tests create only the users they use.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests.conftest import SYSTEM, TEST_PASSWORD
from ticket_app.models import ApiToken, Role, StaffSession, StaffUser
from ticket_app.schemas import TicketCreate, UserRead
from ticket_app.services.access import Actor
from ticket_app.services.database import service_session
from ticket_app.services.identity import credentials, sessions, tokens, users
from ticket_app.services.tickets import create_ticket

SESSION_COOKIE = sessions.SESSION_COOKIE
Clients = Callable[..., TestClient]


def add_user(role: Role | str, email: str | None = None) -> UserRead:
    """An active staff user with TEST_PASSWORD (email defaults to `<role>@example.com`)."""
    return users.create_user(
        email or f"{Role(role).value}@example.com", role, TEST_PASSWORD, actor=SYSTEM
    )


def add_token(
    email: str, *, scopes: str | None = None, name: str = "robot", expires_days: int | None = None
) -> str:
    """The secret of a new API token of `email` (default scopes: read and write)."""
    secret, _ = tokens.create_token(
        email, name, scopes=scopes, expires_days=expires_days, actor=SYSTEM
    )
    return secret


def actor_of(email: str) -> Actor:
    """The actor of a signed-in staff user, for calling services directly as that user."""
    with service_session() as session:
        user = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        return users.user_actor(user)


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header for an API token."""
    return {"Authorization": f"Bearer {secret}"}


def sign_in(client: TestClient, email: str, password: str = TEST_PASSWORD) -> str:
    """Sign `client` in through POST /api/auth/login (JSON); returns the session cookie's token."""
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    return token


def add_ticket(title: str = "Printer on fire", **fields: object) -> int:
    """A ticket created by the system actor (labels not staff-confirmed); returns its id."""
    data = {
        "title": title,
        "description": "The office printer is on fire.",
        "category": "technical",
        "priority": "high",
        **fields,
    }
    return create_ticket(TicketCreate.model_validate(data), actor=SYSTEM).id


def set_columns(
    engine: Engine, table: type, where: sa.ColumnElement[bool], **values: object
) -> None:
    """UPDATE rows of a model's table directly (to move timestamps into the past)."""
    with engine.begin() as connection:
        connection.execute(sa.update(table).where(where).values(**values))


def expire_token(engine: Engine, secret: str, when: datetime) -> None:
    """Move an API token's expiry to `when`."""
    digest = credentials.token_digest(secret)
    set_columns(engine, ApiToken, ApiToken.token_hash == digest, expires_at=when)


def age_session(engine: Engine, token: str, **values: datetime) -> None:
    """Set a session's timestamps (`last_seen_at`, `expires_at`)."""
    digest = credentials.token_digest(token)
    set_columns(engine, StaffSession, StaffSession.token_hash == digest, **values)
