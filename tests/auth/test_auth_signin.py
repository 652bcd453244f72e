"""Signing in over HTTP: one answer for every bad credential, the failure rate limit per account
and per client address (429 with Retry-After), and the one-time first-admin setup."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.auth.support import SESSION_COOKIE, Clients, add_user
from tests.conftest import ADMIN_EMAIL, SYSTEM, TEST_PASSWORD
from ticket_app.models import Role
from ticket_app.services.identity import setup as identity_setup
from ticket_app.services.identity import users
from ticket_app.settings import Settings, get_settings


def login(client: TestClient, email: str, password: str = TEST_PASSWORD):
    return client.post("/api/auth/login", json={"email": email, "password": password})


def max_failures() -> int:
    return get_settings().login_max_failures


def assert_rate_limited(response) -> None:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= get_settings().login_window_seconds + 1
    assert response.json()["errors"][0]["type"] == "rate_limited"


def test_the_default_limit_is_five_failures_a_minute() -> None:
    fields = Settings.model_fields
    assert (fields["login_max_failures"].default, fields["login_window_seconds"].default) == (5, 60)


def test_one_answer_for_unknown_email_wrong_password_and_deactivated_account(
    clients: Clients,
) -> None:
    add_user(Role.AGENT)
    add_user(Role.VIEWER)
    users.set_active("viewer@example.com", False, actor=SYSTEM)
    unknown = login(clients(client=("10.0.0.1", 1)), "nobody@example.com")
    wrong = login(clients(client=("10.0.0.2", 1)), "agent@example.com", "not the password!")
    inactive = login(clients(client=("10.0.0.3", 1)), "viewer@example.com")
    malformed = login(clients(client=("10.0.0.4", 1)), "not an email")
    for response in (unknown, wrong, inactive, malformed):
        assert response.status_code == 401
        assert response.json() == unknown.json()
        assert SESSION_COOKIE not in response.cookies


def test_failures_per_account_then_429_even_with_the_right_password(clients: Clients) -> None:
    add_user(Role.AGENT)
    client = clients()
    for _ in range(max_failures()):
        assert login(client, "agent@example.com", "wrong password!!").status_code == 401
    assert_rate_limited(login(client, "agent@example.com"))
    assert client.get("/api/me/").status_code == 401  # no session was opened


def test_a_locked_account_stays_locked_from_another_address(clients: Clients) -> None:
    add_user(Role.AGENT)
    add_user(Role.VIEWER)
    for n in range(max_failures()):  # spread over addresses: the account limit still counts
        attacker = clients(client=(f"10.0.1.{n}", 1000))
        assert login(attacker, "agent@example.com", f"guess number {n}").status_code == 401
    assert_rate_limited(login(clients(client=("10.0.2.1", 1)), "agent@example.com"))
    # Another account from a fresh address is not affected.
    assert login(clients(client=("10.0.2.2", 1)), "viewer@example.com").status_code == 200


def test_failures_per_address_across_accounts(clients: Clients) -> None:
    add_user(Role.AGENT)
    attacker = clients(client=("10.0.3.1", 1))
    for n in range(max_failures()):  # password spraying: a different account each time
        assert login(attacker, f"user{n}@example.com", "Summer2026!!!!").status_code == 401
    assert_rate_limited(login(attacker, "agent@example.com"))  # right password, same address
    # The account itself is not locked: from another address it signs in.
    assert login(clients(client=("10.0.3.2", 1)), "agent@example.com").status_code == 200


def test_failures_below_the_limit_do_not_block_the_right_password(clients: Clients) -> None:
    add_user(Role.AGENT)
    client = clients()
    for _ in range(max_failures() - 1):
        assert login(client, "agent@example.com", "wrong password!!").status_code == 401
    assert login(client, "agent@example.com").status_code == 200


def test_the_limit_resets_with_a_new_window(clients: Clients, settings_env) -> None:
    settings_env(LOGIN_MAX_FAILURES="2", LOGIN_WINDOW_SECONDS="1")
    add_user(Role.AGENT)
    client = clients()
    for _ in range(2):
        assert login(client, "agent@example.com", "wrong password!!").status_code == 401
    limited = login(client, "agent@example.com")
    assert limited.status_code == 429
    time.sleep(int(limited.headers["retry-after"]) + 0.1)
    assert login(client, "agent@example.com").status_code == 200


# First-admin setup ---------------------------------------------------------------------------


def setup(client: TestClient, token: str, email: str = "first@example.com", **extra: str):
    body = {"setup_token": token, "email": email, "password": TEST_PASSWORD, **extra}
    return client.post("/api/auth/setup", json=body)


def test_setup_refuses_a_wrong_token(clients: Clients) -> None:
    response = setup(clients(), "not-the-setup-token")
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "setup_token"
    assert not identity_setup.has_admin()
    assert users.list_users() == []


def test_setup_creates_the_first_admin_and_signs_them_in(clients: Clients) -> None:
    client = clients()
    response = setup(client, identity_setup.setup_token(), "First@Example.com", name="First Admin")
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "admin"
    assert client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/me/").json()["email"] == "first@example.com"
    assert client.get("/api/tickets/").status_code == 200
    assert [user.email for user in users.list_users()] == ["first@example.com"]


def test_setup_closes_once_an_admin_exists(clients: Clients) -> None:
    assert setup(clients(), identity_setup.setup_token()).status_code == 201
    again = setup(clients(), identity_setup.setup_token(), "second@example.com")
    assert again.status_code == 403
    assert "admin exists" in again.json()["detail"]
    assert [user.email for user in users.list_users()] == ["first@example.com"]


def test_closed_setup_answers_the_same_for_any_token(clients: Clients) -> None:
    """Once an admin exists, the answer does not tell a right setup token from a wrong one."""
    assert setup(clients(), identity_setup.setup_token()).status_code == 201
    right = setup(clients(), identity_setup.setup_token(), "second@example.com")
    wrong = setup(clients(), "not-the-setup-token", "second@example.com")
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json())
    assert right.status_code == 403
    form = {"email": "second@example.com", "password": TEST_PASSWORD}
    browser = clients(follow_redirects=False)
    right_form = browser.post(
        "/api/auth/setup", data={**form, "setup_token": identity_setup.setup_token()}
    )
    wrong_form = browser.post("/api/auth/setup", data={**form, "setup_token": "nope"})
    assert right_form.headers["location"] == wrong_form.headers["location"]
    # Neither does a weak password: setup is closed before anything else is checked.
    weak = clients().post(
        "/api/auth/setup", json={**form, "setup_token": "x", "password": " " * 12}
    )
    assert (weak.status_code, weak.json()) == (403, right.json())


def test_setup_is_closed_when_an_admin_was_made_otherwise(clients: Clients, admin_token) -> None:
    response = setup(clients(), identity_setup.setup_token(), "intruder@example.com")
    assert response.status_code == 403
    assert [user.email for user in users.list_users()] == [ADMIN_EMAIL]


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("password", {"password": "short"}),
        ("email", {"email": "not an email"}),
    ],
)
def test_setup_names_a_bad_field_and_creates_nobody(
    clients: Clients, field: str, body: dict[str, str]
) -> None:
    payload = {
        "setup_token": identity_setup.setup_token(),
        "email": "first@example.com",
        "password": TEST_PASSWORD,
        **body,
    }
    response = clients().post("/api/auth/setup", json=payload)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not identity_setup.has_admin()
