"""Console sessions and API tokens over HTTP: who /api/me/ is, signing out, idle and absolute
expiry, role changes and deactivation ending sessions, and no secret kept in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM, TEST_PASSWORD
from tests.support.auth import (
    SESSION_COOKIE,
    Clients,
    actor_of,
    add_token,
    add_user,
    age_session,
    bearer,
    sign_in,
)
from ticket_app.models import Role, StaffSession, utc_now
from ticket_app.services.errors import InvalidInputError
from ticket_app.services.identity import credentials, sessions, users
from ticket_app.settings import get_settings


def me(client: TestClient) -> int:
    return client.get("/api/me/").status_code


def test_me_names_the_user_behind_a_session(clients: Clients) -> None:
    user = users.create_user(
        "Agent.Smith@Example.com", "agent", TEST_PASSWORD, name="Agent Smith", actor=SYSTEM
    )
    client = clients()
    sign_in(client, "agent.smith@example.com")
    response = client.get("/api/me/")
    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "email": "agent.smith@example.com",
        "name": "Agent Smith",
        "role": "agent",
    }
    assert client.get("/api/me").json() == response.json()


def test_me_names_the_owner_of_a_token(clients: Clients) -> None:
    viewer = add_user(Role.VIEWER)
    client = clients(headers=bearer(add_token(viewer.email, scopes="tickets:read")))
    assert client.get("/api/me/").json() == {
        "id": viewer.id,
        "email": "viewer@example.com",
        "name": "viewer",
        "role": "viewer",
    }


def test_me_without_credentials_is_401(clients: Clients) -> None:
    response = clients().get("/api/me/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_authorization_header_that_is_not_a_valid_token_overrides_the_cookie(
    clients: Clients,
) -> None:
    add_user(Role.ADMIN)
    client = clients()
    sign_in(client, "admin@example.com")
    for value in ["", "Bearer", "Bearer tdk_nope", "Basic YTpi"]:
        response = client.get("/api/me/", headers={"Authorization": value})
        assert response.status_code == 401, repr(value)
    assert me(client) == 200


def test_session_cookie_is_http_only_and_same_site(clients: Clients) -> None:
    add_user(Role.AGENT)
    response = clients().post(
        "/api/auth/login", json={"email": "agent@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert "password" not in response.text


def test_sign_out_revokes_the_session_on_the_server(clients: Clients) -> None:
    add_user(Role.AGENT)
    client = clients()
    token = sign_in(client, "agent@example.com")
    assert me(client) == 200
    response = client.post("/api/auth/logout")
    assert response.status_code == 204
    assert client.cookies.get(SESSION_COOKIE) is None  # the browser drops the cookie
    replay = clients(cookies={SESSION_COOKIE: token})  # a copy of the cookie kept elsewhere
    assert me(replay) == 401
    assert replay.get("/api/tickets/").status_code == 401


def test_sign_out_ends_only_that_session(clients: Clients) -> None:
    add_user(Role.AGENT)
    laptop, phone = clients(), clients()
    sign_in(laptop, "agent@example.com")
    sign_in(phone, "agent@example.com")
    laptop.post("/api/auth/logout")
    assert (me(laptop), me(phone)) == (401, 200)


def test_idle_session_ends(clients: Clients, db: Engine) -> None:
    add_user(Role.AGENT)
    client = clients()
    token = sign_in(client, "agent@example.com")
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    age_session(db, token, last_seen_at=utc_now() - idle + timedelta(minutes=1))
    assert me(client) == 200  # used within the idle limit: still valid (and touched)
    # The recorded use may lag the real one by up to TOUCH_INTERVAL: past that, it has ended.
    stale = utc_now() - idle - credentials.TOUCH_INTERVAL - timedelta(seconds=1)
    age_session(db, token, last_seen_at=stale)
    assert me(client) == 401


def test_a_session_never_idles_out_before_the_idle_time_has_passed(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uses within a minute of the recorded one are not written, so the idle time runs from
    the last real use: a session used at 00:50 and idle since lives until 00:50 + idle."""
    start = utc_now()
    clock = {"now": start}
    monkeypatch.setattr(sessions, "utc_now", lambda: clock["now"])
    add_user(Role.AGENT)
    client = clients()
    sign_in(client, "agent@example.com")
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    last_use = start + credentials.TOUCH_INTERVAL - timedelta(seconds=10)
    clock["now"] = last_use
    assert me(client) == 200  # not recorded: within TOUCH_INTERVAL of the sign-in
    clock["now"] = last_use + idle - timedelta(seconds=1)
    assert me(client) == 200  # idle for less than the idle time since the last real use
    clock["now"] += idle + credentials.TOUCH_INTERVAL + timedelta(seconds=1)
    assert me(client) == 401  # idle for longer than the idle time (and the lag) since


def session_times(engine: Engine) -> tuple[datetime, datetime]:
    """(last_seen_at, expires_at) of the only session."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(StaffSession.last_seen_at, StaffSession.expires_at)
        ).one()
    return row[0], row[1]


def test_use_keeps_a_session_alive(clients: Clients, db: Engine) -> None:
    add_user(Role.AGENT)
    client = clients()
    token = sign_in(client, "agent@example.com")
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    age_session(db, token, last_seen_at=utc_now() - idle + timedelta(minutes=1))
    assert me(client) == 200
    last_seen, _ = session_times(db)
    assert utc_now() - last_seen < timedelta(seconds=30)  # the use was recorded: idle restarts


def test_session_ends_at_its_absolute_expiry_however_active(clients: Clients, db: Engine) -> None:
    add_user(Role.AGENT)
    client = clients()
    token = sign_in(client, "agent@example.com")
    age_session(db, token, expires_at=utc_now() - timedelta(seconds=1), last_seen_at=utc_now())
    assert me(client) == 401


def test_session_lifetime_follows_the_settings(clients: Clients, db: Engine) -> None:
    add_user(Role.AGENT)
    before = utc_now()
    sign_in(clients(), "agent@example.com")
    _, expires_at = session_times(db)
    expected = before + timedelta(hours=get_settings().session_max_age_hours)
    assert abs(expires_at - expected) < timedelta(minutes=1)


def test_role_change_ends_sessions_and_the_new_session_has_the_new_role(
    clients: Clients,
) -> None:
    add_user(Role.ADMIN)  # someone must stay admin
    add_user(Role.AGENT)
    client = clients()
    sign_in(client, "agent@example.com")
    ticket = {"title": "t", "description": "d", "category": "general", "priority": "low"}
    assert client.post("/api/tickets/", json=ticket).status_code == 201
    users.set_role("agent@example.com", Role.VIEWER, actor=SYSTEM)
    assert me(client) == 401
    sign_in(client, "agent@example.com")
    assert client.get("/api/me/").json()["role"] == "viewer"
    assert client.post("/api/tickets/", json=ticket).status_code == 403


def test_deactivation_ends_sessions_and_tokens_and_sign_in(clients: Clients) -> None:
    add_user(Role.AGENT)
    browser = clients()
    sign_in(browser, "agent@example.com")
    script = clients(headers=bearer(add_token("agent@example.com")))
    assert (me(browser), me(script)) == (200, 200)
    users.set_active("agent@example.com", False, actor=SYSTEM)
    assert (me(browser), me(script)) == (401, 401)
    refused = browser.post(
        "/api/auth/login", json={"email": "agent@example.com", "password": TEST_PASSWORD}
    )
    assert refused.status_code == 401
    users.set_active("agent@example.com", True, actor=SYSTEM)
    assert me(browser) == 401  # reactivation does not revive old sessions
    assert me(script) == 200  # tokens act for their owner again


def test_an_admin_cannot_deactivate_themself_but_another_admin_can(clients: Clients) -> None:
    add_user(Role.ADMIN, "first@example.com")
    add_user(Role.ADMIN, "second@example.com")
    browser = clients()
    sign_in(browser, "first@example.com")
    with pytest.raises(InvalidInputError) as refused:
        users.set_active("first@example.com", False, actor=actor_of("first@example.com"))
    assert refused.value.field == "email"
    assert me(browser) == 200
    users.set_active("first@example.com", False, actor=actor_of("second@example.com"))
    assert me(browser) == 401


def test_password_reset_ends_sessions(clients: Clients) -> None:
    add_user(Role.AGENT)
    client = clients()
    sign_in(client, "agent@example.com")
    users.reset_password("agent@example.com", "another long passphrase", actor=SYSTEM)
    assert me(client) == 401
    sign_in(client, "agent@example.com", "another long passphrase")
    assert me(client) == 200


def test_password_reset_revokes_the_users_api_tokens(clients: Clients) -> None:
    add_user(Role.AGENT)
    add_user(Role.VIEWER)
    script = clients(headers=bearer(add_token("agent@example.com")))
    bystander = clients(headers=bearer(add_token("viewer@example.com")))
    assert (me(script), me(bystander)) == (200, 200)
    users.reset_password("agent@example.com", "another long passphrase", actor=SYSTEM)
    assert (me(script), me(bystander)) == (401, 200)  # only the reset user's tokens


def test_password_reset_can_keep_the_tokens(clients: Clients) -> None:
    add_user(Role.AGENT)
    script = clients(headers=bearer(add_token("agent@example.com")))
    users.reset_password(
        "agent@example.com", "another long passphrase", actor=SYSTEM, revoke_tokens=False
    )
    assert me(script) == 200


def test_no_secret_is_stored_in_the_database(clients: Clients, db: Engine) -> None:
    add_user(Role.ADMIN)
    session_token = sign_in(clients(), "admin@example.com")
    api_token = add_token("admin@example.com", name="ci")
    secrets = {"session token": session_token, "API token": api_token, "password": TEST_PASSWORD}
    with db.connect() as connection:
        tables = {
            table: connection.execute(sa.text(f"SELECT * FROM {table}")).all()
            for table in ("staff_users", "staff_sessions", "api_tokens", "ticket_events")
        }
        stored_hashes = set(
            connection.execute(sa.text("SELECT token_hash FROM staff_sessions")).scalars()
        ) | set(connection.execute(sa.text("SELECT token_hash FROM api_tokens")).scalars())
    cells = [str(cell) for rows in tables.values() for row in rows for cell in row]
    assert tables["staff_sessions"] and tables["api_tokens"]
    for what, secret in secrets.items():
        assert not [cell for cell in cells if secret in cell], f"the {what} is stored"
    # What is stored identifies the credentials without being them.
    assert stored_hashes == {
        credentials.token_digest(session_token),
        credentials.token_digest(api_token),
    }
    assert clients(headers=bearer(api_token)).get("/api/me/").status_code == 200
    stolen_hash = credentials.token_digest(api_token)
    assert clients(headers=bearer(stolen_hash)).get("/api/me/").status_code == 401
    assert (
        clients(cookies={SESSION_COOKIE: credentials.token_digest(session_token)})
        .get("/api/me/")
        .status_code
        == 401
    )


def test_passwords_are_stored_as_argon2id_with_the_recommended_cost(
    db: Engine, real_password_hashing: None
) -> None:
    add_user(Role.AGENT)
    with db.connect() as connection:
        stored = connection.execute(sa.text("SELECT password_hash FROM staff_users")).scalar()
    _, algorithm, version, parameters, _, _ = stored.split("$")
    assert (algorithm, version) == ("argon2id", "v=19")
    assert parameters == PasswordHash.recommended().hash("probe").split("$")[3]
    cost = dict(item.split("=") for item in parameters.split(","))
    assert int(cost["m"]) >= 19456 and int(cost["t"]) >= 2  # at least OWASP's minimum
    assert sessions.sign_in("agent@example.com", TEST_PASSWORD).user.email == "agent@example.com"
