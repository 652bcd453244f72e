"""The password policy, wherever a password is set: the setup API (JSON and form), the staff
page and the service (the CLI's cases are in tests/cli/test_cli_users.py). Whitespace-only,
few-character, common and guessable passwords are refused with the reason, naming the field."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM, TEST_PASSWORD
from tests.support.auth import Clients, add_user
from tests.ui.test_console_permissions import _run, _state
from ticket_app.models import Role
from ticket_app.services.errors import InvalidInputError
from ticket_app.services.identity import sessions, setup, users
from ticket_app.ui.state.admin import StaffState

WEAK = [
    ("            ", "must not be only spaces"),
    ("\t \u00a0\u2003" * 4, "must not be only spaces"),
    ("abababababab", "must use at least 5 different characters"),
    ("x" * 40, "must use at least 5 different characters"),
    ("Password1234", "is one of the most common passwords"),
    ("qwerty123456", "is one of the most common passwords"),
    ("iloveyou2024", "is one of the most common passwords"),
    ("abcdefghijklmnop", "is too easy to guess (sequences like"),
    ("triagedesk2026", "is too easy to guess"),
    ("jo.bloggs@example.com", "is too easy to guess"),  # the account's own email
]
STRONG = [TEST_PASSWORD, "amber river at midnight", "Tr0ub4dor&3 stapled", "x" * 30 + "kq7#Zp"]


@pytest.mark.parametrize(("password", "reason"), WEAK, ids=[w[1][:24] for w in WEAK])
def test_weak_passwords_are_refused_with_the_reason(db: Engine, password: str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        users.create_user("jo.bloggs@example.com", "agent", password, actor=SYSTEM)
    assert refused.value.field == "password"
    assert str(refused.value).startswith(reason)
    assert users.list_users() == []


@pytest.mark.parametrize("password", STRONG)
def test_strong_passwords_are_accepted(db: Engine, password: str) -> None:
    users.create_user("jo.bloggs@example.com", "agent", password, actor=SYSTEM)
    assert sessions.sign_in("jo.bloggs@example.com", password).user.email == "jo.bloggs@example.com"


def test_twelve_spaces_are_refused_by_the_setup_api(clients: Clients) -> None:
    body = {"setup_token": setup.setup_token(), "email": "first@example.com"}
    response = clients().post("/api/auth/setup", json={**body, "password": " " * 12})
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "password",
        "message": "must not be only spaces",
        "type": "invalid",
    }
    assert not setup.has_admin()


def test_the_setup_form_shows_the_reason(clients: Clients) -> None:
    form = {
        "setup_token": setup.setup_token(),
        "email": "first@example.com",
        "password": "Password1234",
    }
    response = clients(follow_redirects=False).post("/api/auth/setup", data=form)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/setup"
    error = parse_qs(location.query)["error"][0]
    assert error.startswith("Password is one of the most common passwords")


def test_the_staff_page_shows_the_reason(db: Engine) -> None:
    add_user(Role.ADMIN, ADMIN_EMAIL)
    signed_in = sessions.sign_in(ADMIN_EMAIL, TEST_PASSWORD)
    state = _state(StaffState, f"{sessions.SESSION_COOKIE}={signed_in.token}")
    state.new_email, state.new_role = "new@example", "agent"
    _run(state.invite({}))
    assert state.message == "Email: enter a valid email address"
    assert state.issued_link == ""
    state.new_email = "new@example.com"
    _run(state.invite({}))
    assert state.issued_link.startswith("/invite/")
    assert "new@example.com" in {user.email for user in users.list_users()}
