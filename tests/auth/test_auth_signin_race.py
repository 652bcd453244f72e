"""Sign-in limits under parallel guesses: an attempt takes its place in the failure allowance
before its password is checked, so 40 guesses at once are not all checked; no database
connection is held while a password is verified."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from sqlalchemy.engine import Engine

from tests.auth.support import Clients, add_user
from tests.conftest import TEST_PASSWORD
from ticket_app.models import Role
from ticket_app.services.identity import credentials
from ticket_app.settings import get_settings

PARALLEL = 40
VERIFY_SECONDS = 0.3  # long enough that every guess arrives while the first ones are checked


class SlowVerifier:
    """The test's argon2 hasher, with each verification taking VERIFY_SECONDS (as the product's
    real cost parameters do under load), counting verifications and the database connections
    the verifying thread holds meanwhile."""

    def __init__(self, hasher: PasswordHash) -> None:
        self.hasher = hasher
        self.verified = 0
        self.held_while_verifying: list[int] = []
        self.checked_out: Counter[int] = Counter()
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify_and_update(self, password: str, hash: str) -> tuple[bool, str | None]:
        with self._lock:
            self.verified += 1
            self.held_while_verifying.append(self.checked_out[threading.get_ident()])
        threading.Event().wait(VERIFY_SECONDS)
        return self.hasher.verify_and_update(password, hash)

    def watch(self, engine: Engine) -> None:
        """Count each thread's checked-out connections of `engine`'s pool."""

        def checkout(*_: Any) -> None:
            with self._lock:
                self.checked_out[threading.get_ident()] += 1

        def checkin(*_: Any) -> None:
            with self._lock:
                self.checked_out[threading.get_ident()] -= 1

        sa.event.listen(engine, "checkout", checkout)
        sa.event.listen(engine, "checkin", checkin)


@pytest.fixture
def slow_verifier(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowVerifier]:
    """Installed over the fast test hasher (see conftest) once the users are made."""
    verifier = SlowVerifier(credentials._hasher())
    credentials._dummy_hash()  # made before the clock starts, as a running server has it
    verifier.watch(db)
    monkeypatch.setattr(credentials, "_hasher", lambda: verifier)
    yield verifier


def guess_in_parallel(guesses: list[tuple[TestClient, str]]) -> list[Any]:
    """One wrong password per (client, email), all sent at once; the responses in order."""
    start = threading.Barrier(len(guesses))

    def guess(n: int) -> Any:
        client, email = guesses[n]
        start.wait()
        return client.post(
            "/api/auth/login", json={"email": email, "password": f"wrong guess number {n}"}
        )

    with ThreadPoolExecutor(len(guesses)) as pool:
        return list(pool.map(guess, range(len(guesses))))


def assert_within_the_limit(responses: list[Any], verifier: SlowVerifier) -> None:
    limit = get_settings().login_max_failures
    codes = Counter(response.status_code for response in responses)
    assert set(codes) <= {401, 429}, codes  # no 500 from an exhausted pool, nothing else
    assert codes[401] <= limit, codes
    assert verifier.verified <= limit
    window = get_settings().login_window_seconds
    for response in responses:
        if response.status_code == 429:
            assert 1 <= int(response.headers["retry-after"]) <= window + 1
            assert response.json()["errors"][0]["type"] == "rate_limited"
    assert verifier.held_while_verifying
    assert set(verifier.held_while_verifying) == {0}  # no pooled connection waits on argon2


def test_parallel_guesses_from_one_address_are_not_all_checked(
    clients: Clients, slow_verifier: SlowVerifier
) -> None:
    add_user(Role.AGENT)
    # Spraying: a different account each time, so only the address limit holds them back.
    guesses = [
        (clients(client=("10.9.0.1", 1000 + n)), f"user{n}@example.com") for n in range(PARALLEL)
    ]
    responses = guess_in_parallel(guesses)
    assert_within_the_limit(responses, slow_verifier)


def test_parallel_guesses_at_one_account_are_not_all_checked(
    clients: Clients, slow_verifier: SlowVerifier
) -> None:
    add_user(Role.AGENT)
    guesses = [
        (clients(client=(f"10.9.1.{n}", 1000)), "agent@example.com") for n in range(PARALLEL)
    ]
    responses = guess_in_parallel(guesses)
    assert_within_the_limit(responses, slow_verifier)
    # The account stays locked for the right password too, from yet another address.
    late = clients(client=("10.9.2.1", 1)).post(
        "/api/auth/login", json={"email": "agent@example.com", "password": TEST_PASSWORD}
    )
    assert late.status_code == 429


def test_successful_sign_ins_cost_nothing(clients: Clients) -> None:
    """Only failures count: an office behind one address can sign in all morning."""
    add_user(Role.AGENT)
    office = clients(client=("10.9.3.1", 1))
    for _ in range(2 * get_settings().login_max_failures + 1):
        response = office.post(
            "/api/auth/login", json={"email": "agent@example.com", "password": TEST_PASSWORD}
        )
        assert response.status_code == 200, response.text
