"""Invitation and reset links, one's own password and sessions, over the services and the API.

Links: made by admins only, shown once (built from PUBLIC_BASE_URL), stored as a SHA-256 only,
single use, expiring; using one sets the password, signs out every session and signs in. Own
account: the current password is required (a wrong one is counted like a failed sign-in), a
change signs out the other sessions and keeps this one. Every change is an audit event naming
its actor, and no event, answer or stored column holds a token or a password.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM, TEST_PASSWORD
from tests.support.auth import (
    SESSION_COOKIE,
    Clients,
    actor_of,
    add_token,
    add_user,
    age_session,
    bearer,
    set_columns,
    sign_in,
)
from ticket_app.models import ActorKind, PasswordLink, Role, StaffSession, utc_now
from ticket_app.services.access import Actor
from ticket_app.services.errors import (
    ConflictError,
    InvalidInputError,
    LinkUnusableError,
    PermissionDeniedError,
)
from ticket_app.services.identity import account, credentials, links, users

NEW_PASSWORD = "quartz zebra lantern meadow"
ANOTHER_PASSWORD = "violet harbour copper kettle"


def _token(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def _events(db: Engine) -> list[tuple[str, str | None, str | None, str]]:
    with db.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT kind, field, new_value, actor_label FROM ticket_events "
                "WHERE field IN ('invitation', 'invite_link', 'reset_link', 'password', "
                "'sessions') ORDER BY id"
            )
        ).all()
    return [tuple(row) for row in rows]


def _all_text(db: Engine) -> str:
    """Every stored value of the tables a link or a password change touches, as one text."""
    with db.connect() as connection:
        parts = []
        for table in ("password_links", "ticket_events", "staff_users", "staff_sessions"):
            for row in connection.execute(sa.text(f"SELECT * FROM {table}")):
                parts.extend(str(value) for value in row)
    return " ".join(parts)


@pytest.fixture
def admin(db: Engine) -> None:
    users.create_user(ADMIN_EMAIL, "admin", TEST_PASSWORD, name="Test Admin", actor=SYSTEM)


def test_an_invitation_link_is_stored_hashed_and_sets_a_password_once(
    admin: None, db: Engine, settings_env
) -> None:
    settings_env(PUBLIC_BASE_URL="https://desk.example.com/")
    issued = links.invite_user(
        "New.Person@Example.com", "agent", name="New Person", actor=actor_of(ADMIN_EMAIL)
    )
    assert issued.url.startswith("https://desk.example.com/invite/")
    token = _token(issued.url)
    assert len(token) >= 43
    hours = (issued.expires_at - utc_now()).total_seconds() / 3600
    assert 71.9 < hours <= 72
    assert issued.user.email == "new.person@example.com" and issued.user.role == Role.AGENT
    with db.connect() as connection:
        stored = connection.execute(sa.text("SELECT token_hash FROM password_links")).scalar_one()
    assert stored == credentials.token_digest(token)
    info = links.link_info(token)
    assert (info.purpose, info.email, info.name) == (
        "invite",
        "new.person@example.com",
        "New Person",
    )

    signed_in = links.use_link(token, NEW_PASSWORD, user_agent="Firefox")
    assert signed_in.user.email == "new.person@example.com"
    with pytest.raises(LinkUnusableError) as used:
        links.use_link(token, ANOTHER_PASSWORD)
    assert used.value.reason == "used" and used.value.field == "token"
    with pytest.raises(LinkUnusableError):
        links.link_info(token)
    assert token not in _all_text(db) and NEW_PASSWORD not in _all_text(db)
    kinds = [(kind, field, actor) for kind, field, _, actor in _events(db)]
    assert kinds == [
        ("user_created", "invitation", ADMIN_EMAIL),
        ("user_changed", "invitation", "new.person@example.com"),
    ]


def test_expired_and_unknown_links_are_refused_with_their_reason(admin: None, db: Engine) -> None:
    issued = links.invite_user("late@example.com", "viewer", actor=actor_of(ADMIN_EMAIL))
    set_columns(
        db, PasswordLink, PasswordLink.id.is_not(None), expires_at=utc_now() - timedelta(seconds=1)
    )
    for token, reason in [
        (_token(issued.url), "expired"),
        ("x" * 43, "unknown"),
        ("", "unknown"),
        ("y" * 500, "unknown"),
    ]:
        with pytest.raises(LinkUnusableError) as refused:
            links.use_link(token, NEW_PASSWORD)
        assert refused.value.reason == reason
    # A new invitation for the same person works, and ends any older link.
    again = links.issue_link(issued.user.id, "invite", actor=actor_of(ADMIN_EMAIL))
    newer = links.issue_link(issued.user.id, "invite", actor=actor_of(ADMIN_EMAIL))
    with pytest.raises(LinkUnusableError) as older:
        links.link_info(_token(again.url))
    assert older.value.reason == "expired"
    assert links.use_link(_token(newer.url), NEW_PASSWORD).user.email == "late@example.com"


def test_a_weak_password_leaves_the_link_usable(admin: None) -> None:
    token = _token(links.invite_user("weak@example.com", "agent", actor=actor_of(ADMIN_EMAIL)).url)
    with pytest.raises(InvalidInputError) as weak:
        links.use_link(token, "password1234")
    assert weak.value.field == "password"
    assert links.use_link(token, NEW_PASSWORD).user.email == "weak@example.com"


def test_only_admins_make_links_and_invitations_need_a_free_email(admin: None, db: Engine) -> None:
    agent = add_user("agent")
    for role in ("agent", "viewer"):
        user = add_user(role, f"other-{role}@example.com")
        with pytest.raises(PermissionDeniedError):
            links.invite_user("x@example.com", "agent", actor=actor_of(user.email))
        with pytest.raises(PermissionDeniedError):
            links.issue_link(agent.id, "reset", actor=actor_of(user.email))
    with pytest.raises(ConflictError):
        links.invite_user(agent.email, "agent", actor=actor_of(ADMIN_EMAIL))
    users.set_active(agent.email, False, actor=SYSTEM)
    with pytest.raises(InvalidInputError) as deactivated:
        links.issue_link(agent.id, "reset", actor=actor_of(ADMIN_EMAIL))
    assert deactivated.value.field == "user"


def test_a_reset_link_sets_a_new_password_and_signs_out_every_session(
    admin: None, clients: Clients, db: Engine
) -> None:
    agent = add_user("agent")
    browsers = [clients(), clients()]
    for browser in browsers:
        sign_in(browser, agent.email)
    robot = clients(headers=bearer(add_token(agent.email)))
    issued = links.issue_link(agent.id, "reset", actor=actor_of(ADMIN_EMAIL))
    assert urlsplit(issued.url).path.startswith("/reset/")
    assert 23.9 < (issued.expires_at - utc_now()).total_seconds() / 3600 <= 24
    # Until the link is used, nothing changes.
    assert all(browser.get("/api/me/").status_code == 200 for browser in browsers)

    fresh = clients()
    response = fresh.post(
        "/api/auth/password-link", json={"token": _token(issued.url), "password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == agent.email
    assert fresh.get("/api/me/").status_code == 200
    assert all(browser.get("/api/me/").status_code == 401 for browser in browsers)
    # As an admin's reset does: a token made with the old password stops too.
    assert robot.get("/api/me/").status_code == 401
    sign_in(clients(), agent.email, NEW_PASSWORD)
    assert (
        clients()
        .post("/api/auth/login", json={"email": agent.email, "password": TEST_PASSWORD})
        .status_code
        == 401
    )
    events = _events(db)
    assert [(field, actor) for _, field, _, actor in events] == [
        ("reset_link", ADMIN_EMAIL),
        ("password", agent.email),
        ("sessions", agent.email),
    ]
    with db.connect() as connection:
        revoked = connection.execute(
            sa.text("SELECT actor_label FROM ticket_events WHERE kind = 'token_revoked'")
        ).scalars()
        assert list(revoked) == [agent.email]
    assert "2 signed out" in events[-1][2]


def test_the_link_form_post_redirects_and_sets_the_cookie(admin: None, clients: Clients) -> None:
    token = _token(links.invite_user("form@example.com", "agent", actor=actor_of(ADMIN_EMAIL)).url)
    browser = clients(follow_redirects=False)
    weak = browser.post("/api/auth/password-link", data={"token": token, "password": "short"})
    assert weak.status_code == 303
    location = weak.headers["location"]
    assert location.startswith(f"/invite/{token}?error=Password+must+be+at+least+12")
    assert SESSION_COOKIE not in browser.cookies
    done = browser.post("/api/auth/password-link", data={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert "httponly" in done.headers["set-cookie"].lower()
    assert browser.get("/api/me/").json()["email"] == "form@example.com"
    used = clients(follow_redirects=False).post(
        "/api/auth/password-link", data={"token": token, "password": NEW_PASSWORD, "page": "reset"}
    )
    assert used.headers["location"].startswith(f"/reset/{token}?error=This+link+has+been+used")
    # A token of another shape never goes back into a URL.
    odd = clients(follow_redirects=False).post(
        "/api/auth/password-link", data={"token": "a/b?c", "password": NEW_PASSWORD}
    )
    assert odd.headers["location"].startswith("/login")


def test_a_link_posted_from_another_site_is_refused(admin: None, clients: Clients) -> None:
    token = _token(links.invite_user("csrf@example.com", "agent", actor=actor_of(ADMIN_EMAIL)).url)
    response = clients().post(
        "/api/auth/password-link",
        json={"token": token, "password": NEW_PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert links.link_info(token).email == "csrf@example.com"


def test_the_staff_api_makes_links_for_admins_in_a_session(
    admin: None, clients: Clients, db: Engine
) -> None:
    browser = clients()
    sign_in(browser, ADMIN_EMAIL)
    response = browser.post(
        "/api/staff/invitations/", json={"email": "api@example.com", "role": "viewer"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"url", "purpose", "expires_at", "user", "emailed", "not_emailed_reason"}
    assert body["purpose"] == "invite" and body["user"]["role"] == "viewer"
    # No mailbox is connected: the admin passes the link on (tests/mail covers the e-mail).
    assert body["emailed"] is False
    assert body["not_emailed_reason"] == "no active mailbox to send from"
    assert body["url"].startswith("/invite/")
    assert (
        browser.post(
            "/api/staff/invitations/", json={"email": "API@example.com", "role": "viewer"}
        ).status_code
        == 409
    )
    reset = browser.post(f"/api/staff/{body['user']['id']}/password-links/", json={})
    assert reset.status_code == 201 and reset.json()["purpose"] == "reset"
    assert browser.post("/api/staff/999999/password-links/", json={}).status_code == 404
    bad = browser.post(f"/api/staff/{body['user']['id']}/password-links/", json={"purpose": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "purpose"
    # An admin's token may not: credentials are handed out in person.
    robot = clients(headers=bearer(add_token(ADMIN_EMAIL)))
    assert (
        robot.post(
            "/api/staff/invitations/", json={"email": "bot@example.com", "role": "viewer"}
        ).status_code
        == 403
    )


def test_changing_ones_password_needs_the_current_one_and_signs_out_the_others(
    clients: Clients, db: Engine
) -> None:
    agent = add_user("agent")
    here, elsewhere = clients(), clients()
    sign_in(here, agent.email)
    sign_in(elsewhere, agent.email)
    wrong = here.post(
        "/api/account/password/",
        json={"current_password": "not my password at all", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    weak = here.post(
        "/api/account/password/",
        json={"current_password": TEST_PASSWORD, "new_password": "password1234"},
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    same = here.post(
        "/api/account/password/",
        json={"current_password": TEST_PASSWORD, "new_password": TEST_PASSWORD},
    )
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "new_password"
    assert elsewhere.get("/api/me/").status_code == 200

    done = here.post(
        "/api/account/password/",
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"signed_out_sessions": 1}
    assert here.get("/api/me/").status_code == 200
    assert elsewhere.get("/api/me/").status_code == 401
    sign_in(clients(), agent.email, NEW_PASSWORD)
    assert NEW_PASSWORD not in _all_text(db) and TEST_PASSWORD not in _all_text(db)
    assert [(field, actor) for _, field, _, actor in _events(db)] == [
        ("password", agent.email),
        ("sessions", agent.email),
    ]


def test_wrong_current_passwords_are_rate_limited_like_sign_ins(
    clients: Clients, settings_env
) -> None:
    settings_env(LOGIN_MAX_FAILURES="2")
    agent = add_user("agent")
    here = clients()
    sign_in(here, agent.email)
    wrong = {"current_password": "not my password at all", "new_password": NEW_PASSWORD}
    statuses = [here.post("/api/account/password/", json=wrong).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    limited = here.post(
        "/api/account/password/",
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_the_session_list_marks_this_one_and_signs_out_the_others(
    clients: Clients, db: Engine
) -> None:
    viewer = add_user("viewer")
    here = clients(headers={"User-Agent": "Here/1.0"})
    there = clients(headers={"User-Agent": "There/2.0"})
    third = clients()
    for browser in (here, there, third):
        sign_in(browser, viewer.email)
    idle_token = sign_in(clients(), viewer.email)
    age_session(db, idle_token, last_seen_at=utc_now())
    listed = here.get("/api/account/sessions/")
    assert listed.status_code == 200
    rows = listed.json()
    assert len(rows) == 4
    assert [row["user_agent"] for row in rows if row["current"]] == ["Here/1.0"]
    assert set(rows[0]) == {
        "id",
        "created_at",
        "last_seen_at",
        "expires_at",
        "user_agent",
        "current",
    }
    there_id = next(row["id"] for row in rows if row["user_agent"] == "There/2.0")
    assert here.delete(f"/api/account/sessions/{there_id}/").status_code == 204
    assert there.get("/api/me/").status_code == 401
    assert here.delete(f"/api/account/sessions/{there_id}/").status_code == 404
    # Someone else's session is not yours to end.
    other = add_user("agent")
    stranger = clients()
    sign_in(stranger, other.email)
    with db.connect() as connection:
        theirs = connection.execute(
            sa.select(StaffSession.id).where(StaffSession.user_id == other.id)
        ).scalar_one()
    assert here.delete(f"/api/account/sessions/{theirs}/").status_code == 404
    assert stranger.get("/api/me/").status_code == 200

    # A session idle for longer than SESSION_IDLE_MINUTES is not listed (it cannot be used).
    age_session(db, idle_token, last_seen_at=utc_now() - timedelta(hours=2))
    assert len(here.get("/api/account/sessions/").json()) == 2
    ended = here.post("/api/account/sessions/sign-out-others/")
    # The idle one is revoked too (a longer idle time set later must not revive it).
    assert ended.json() == {"signed_out_sessions": 2}
    assert third.get("/api/me/").status_code == 401
    assert [row["current"] for row in here.get("/api/account/sessions/").json()] == [True]


def test_own_account_services_refuse_tokens_and_anonymous(clients: Clients) -> None:
    agent = add_user("agent")
    robot = clients(headers=bearer(add_token(agent.email)))
    assert robot.get("/api/account/sessions/").status_code == 403
    assert (
        robot.post(
            "/api/account/password/",
            json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        ).status_code
        == 403
    )
    assert clients().get("/api/account/sessions/").status_code == 401
    token_actor = Actor(
        kind=ActorKind.TOKEN,
        label=f"{agent.email} (token robot)",
        user_id=agent.id,
        role=Role.AGENT,
        scopes=frozenset({"tickets:read", "tickets:write"}),
    )
    with pytest.raises(PermissionDeniedError):
        account.list_sessions(token_actor)
    with pytest.raises(PermissionDeniedError):
        account.change_password(token_actor, TEST_PASSWORD, NEW_PASSWORD)


def test_signing_out_the_others_keeps_this_session(clients: Clients) -> None:
    agent = add_user("agent")
    here = clients()
    token = sign_in(here, agent.email)
    assert account.sign_out_others(actor_of(agent.email), session_token=token) == 0
    assert here.cookies.get(SESSION_COOKIE) == token
