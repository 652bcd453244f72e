"""Limits per user, not per credential, and turns for expensive reads (issue 27, items 6, 12).

Item 12: N tokens gave N x 600 writes a minute; now every token and session of a person share one
allowance, while a credential that belongs to nobody is counted on its own. Item 6: one viewer's
24 parallel searches (or statistics, unindexed lists, similar tickets) took every turn of the
process-wide search gate, so everyone else's searches waited seconds; reads had no limit at all.
Now reads, searches and similar tickets have per-user rates, and one user runs at most
`EXPENSIVE_READS_PER_USER` expensive reads at once (429 beyond), leaving turns for others.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM, TEST_PASSWORD
from tests.support.tickets import make_ticket
from ticket_app.api.app import create_api
from ticket_app.api.rate_limits import RateLimitMiddleware, is_expensive
from ticket_app.models import ApiToken, utc_now
from ticket_app.services import rate_limits
from ticket_app.services.identity import credentials, sessions, tokens, users
from ticket_app.settings import Settings, get_settings

AppFactory = Callable[..., TestClient]


@pytest.fixture
def app_with(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    """Makes TestClients for fresh apps built with the given settings (NAME=value keywords)."""
    with ExitStack() as stack:

        def make(headers: dict[str, str] | None = None, **env: str) -> TestClient:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            get_settings.cache_clear()
            return stack.enter_context(TestClient(create_api(), headers=headers))

        yield make
    get_settings.cache_clear()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(client: TestClient, headers: dict[str, str]) -> int:
    body = {"title": "Refund", "description": "Charged twice."}
    return client.post("/api/tickets/", json=body, headers=headers).status_code


# One allowance per person -----------------------------------------------------------------------


def test_every_token_and_session_of_a_person_share_one_allowance(app_with: AppFactory) -> None:
    users.create_user(ADMIN_EMAIL, "agent", TEST_PASSWORD, actor=SYSTEM)
    first, _ = tokens.create_token(ADMIN_EMAIL, "one", actor=SYSTEM)
    second, _ = tokens.create_token(ADMIN_EMAIL, "two", actor=SYSTEM)
    cookie = {
        "Cookie": f"{sessions.SESSION_COOKIE}={sessions.sign_in(ADMIN_EMAIL, TEST_PASSWORD).token}"
    }
    users.create_user("other@example.com", "agent", TEST_PASSWORD, actor=SYSTEM)
    others, _ = tokens.create_token("other@example.com", "theirs", actor=SYSTEM)
    client = app_with(RATE_LIMIT_WRITES="3/minute")

    assert [post(client, bearer(first)), post(client, bearer(second)), post(client, cookie)] == [
        201,
        201,
        201,
    ]
    assert [post(client, bearer(first)), post(client, bearer(second)), post(client, cookie)] == [
        429,
        429,
        429,
    ]
    assert post(client, bearer(others)) == 201  # someone else's allowance is untouched


def test_every_api_write_counts_but_signing_in(app_with: AppFactory, admin_token: str) -> None:
    client = app_with(bearer(admin_token), RATE_LIMIT_WRITES="3/minute")
    ticket = make_ticket(client)
    assert client.post(
        f"/api/tickets/{ticket['id']}/comments/", json={"body": "Hi", "public": False}
    ).is_success
    assert client.post("/api/views/", json={"name": "Mine", "query": {}}).is_success
    wrong = {"email": ADMIN_EMAIL, "password": "not the password"}
    assert [client.post("/api/auth/login", json=wrong).status_code for _ in range(2)] == [401] * 2

    assert client.post("/api/tickets/bulk/", json={}).status_code == 429
    assert client.delete("/api/views/1/").status_code == 429
    merge = client.post(f"/api/tickets/{ticket['id']}/merge/", json={"into": ticket["id"]})
    assert merge.status_code == 429
    assert "Too many writes" in merge.json()["detail"]


def test_a_credential_of_nobody_is_counted_on_its_own(app_with: AppFactory) -> None:
    users.create_user(ADMIN_EMAIL, "agent", TEST_PASSWORD, actor=SYSTEM)
    mine, _ = tokens.create_token(ADMIN_EMAIL, "mine", actor=SYSTEM)
    revoked, info = tokens.create_token(ADMIN_EMAIL, "old", actor=SYSTEM)
    tokens.revoke_token(info.id, actor=SYSTEM)
    client = app_with(RATE_LIMIT_WRITES="2/minute")

    # A made-up token and a revoked one of this user: refused, and counted apart from the user.
    assert [post(client, bearer("tdk_made_up")) for _ in range(3)] == [401, 401, 429]
    assert [post(client, bearer(revoked)) for _ in range(3)] == [401, 401, 429]
    assert [post(client, bearer(mine)) for _ in range(3)] == [201, 201, 429]


def test_owners_are_looked_up_once_and_only_for_usable_credentials(db: Engine) -> None:
    users.create_user(ADMIN_EMAIL, "viewer", TEST_PASSWORD, actor=SYSTEM)
    user_id = users.list_users()[0].id
    token, _ = tokens.create_token(ADMIN_EMAIL, "t", actor=SYSTEM)
    expired, info = tokens.create_token(ADMIN_EMAIL, "e", actor=SYSTEM)
    with db.begin() as connection:
        connection.execute(
            sa.update(ApiToken)
            .where(ApiToken.id == info.id)
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    session = sessions.sign_in(ADMIN_EMAIL, TEST_PASSWORD).token
    signed_out = sessions.sign_in(ADMIN_EMAIL, TEST_PASSWORD).token
    sessions.sign_out(signed_out)
    digest = credentials.token_digest

    assert rate_limits.credential_owner(rate_limits.TOKEN, digest(token)) == user_id
    assert rate_limits.credential_owner(rate_limits.SESSION, digest(session)) == user_id
    assert rate_limits.credential_owner(rate_limits.TOKEN, digest(expired)) is None
    assert rate_limits.credential_owner(rate_limits.SESSION, digest(signed_out)) is None
    assert rate_limits.credential_owner(rate_limits.SESSION, digest(token)) is None  # wrong kind
    users.set_active(ADMIN_EMAIL, False, actor=SYSTEM)
    assert rate_limits.credential_owner(rate_limits.TOKEN, digest(token)) is None


def test_a_burst_with_a_new_credential_costs_one_lookup(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    users.create_user(ADMIN_EMAIL, "viewer", TEST_PASSWORD, actor=SYSTEM)
    token, _ = tokens.create_token(ADMIN_EMAIL, "t", actor=SYSTEM)
    lookups: list[str] = []
    real = rate_limits.credential_owner

    def counted(kind: str, digest: str) -> int | None:
        lookups.append(digest)
        return real(kind, digest)

    monkeypatch.setattr(rate_limits, "credential_owner", counted)

    async def burst() -> set[str]:
        keys = [rate_limits.subject_key(rate_limits.TOKEN, token) for _ in range(24)]
        keys += [rate_limits.subject_key(rate_limits.TOKEN, "tdk_bad") for _ in range(24)]
        return set(await asyncio.gather(*keys))

    keys = asyncio.run(burst())
    asyncio.run(burst())  # remembered: no more lookups
    user_id = users.list_users()[0].id
    assert keys == {f"user:{user_id}", f"token:{credentials.token_digest('tdk_bad')}"}
    assert "tdk_bad" not in " ".join(keys)
    assert len(lookups) == 2


# Reads, searches and similar tickets ----------------------------------------------------------


def test_reads_searches_and_similar_tickets_have_per_user_limits(
    app_with: AppFactory, admin_token: str
) -> None:
    second, _ = tokens.create_token(ADMIN_EMAIL, "second", actor=SYSTEM)
    client = app_with(
        bearer(admin_token),
        RATE_LIMIT_READS="2/minute",
        RATE_LIMIT_SEARCHES="1/minute",
        RATE_LIMIT_SIMILAR="1/minute",
    )
    ticket = make_ticket(client)
    assert client.get("/api/tickets/").status_code == 200
    assert client.get(f"/api/tickets/{ticket['id']}/").status_code == 200
    refused = client.get("/api/tickets/stats/", headers=bearer(second))  # same person
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["type"] == "rate_limited"
    assert "Too many reads" in refused.json()["detail"]

    assert client.get("/api/tickets/?q=refund").status_code == 200
    assert client.get("/api/tickets/stats/?search=refund").status_code == 429
    assert client.get(f"/api/tickets/{ticket['id']}/similar/").status_code == 200
    again = client.get(f"/api/tickets/{ticket['id']}/similar/")
    assert again.status_code == 429
    assert "Too many similar-ticket lookups" in again.json()["detail"]
    assert make_ticket(client, title="Still writing")["id"]  # writes are another bucket


def test_the_default_read_limits_are_generous(app_with: AppFactory, admin_token: str) -> None:
    settings = Settings(_env_file=None)
    assert (settings.rate_limit_reads, settings.rate_limit_searches) == (
        "3000/minute",
        "300/minute",
    )
    assert (settings.rate_limit_similar, settings.expensive_reads_per_user) == ("300/minute", 2)
    client = app_with(bearer(admin_token))
    ticket = make_ticket(client)
    for _ in range(60):  # a person clicking and typing as fast as they can, and then some
        assert client.get("/api/tickets/?q=ref").status_code == 200
        assert client.get(f"/api/tickets/{ticket['id']}/similar/").status_code == 200
        assert client.get("/api/tickets/stats/").status_code == 200


# Turns for expensive reads --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/api/tickets/?q=%25", True),
        ("/api/tickets/stats/", True),
        ("/api/tickets/stats?category=billing", True),
        ("/api/tickets/12/similar/", True),
        ("/api/sla/report/", True),
        ("/api/sla/report?priority=high", True),
        ("/api/sla/policies/", False),
        ("/api/tickets/?status=open&category=billing", True),
        ("/api/tickets/?language=de&sort=-updated_at", True),
        ("/api/tickets/?updated_since=2026-01-01T00:00:00Z", True),
        ("/api/tickets/", False),
        ("/api/tickets/?sort=-priority&limit=200", False),
        ("/api/tickets/?status=open", False),
        ("/api/tickets/?assignee=me&sort=created_at&cursor=abc", False),
        ("/api/tickets/?updated_since=2026-01-01T00:00:00Z&sort=-updated_at", False),
        ("/api/tickets/?category=&search=%20", False),
        ("/api/tickets/12/", False),
        ("/api/tickets/export/?q=a", False),  # exports have a limit of their own
    ],
)
def test_what_counts_as_an_expensive_read(target: str, expected: bool) -> None:
    path, _, query = target.partition("?")
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode()}
    assert is_expensive(scope) is expected


class Held:
    """An app that holds expensive reads until released; plain requests are answered at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.inside = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if is_expensive(scope):
            self.inside += 1
            await self.release.wait()
            self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def request(app: Any, target: str, token: str) -> tuple[int, dict[str, str], bytes]:
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": ("10.0.0.1", 1),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, sent[1]["body"]


def test_one_user_runs_two_expensive_reads_at_once_and_others_still_get_turns() -> None:
    owners = {"tdk_viewer_a": 1, "tdk_viewer_b": 1, "tdk_agent": 2}

    async def owner_of(kind: str, secret: str) -> int | None:
        return owners.get(secret)

    async def run() -> None:
        held = Held()
        settings = Settings(_env_file=None, search_concurrency=4, expensive_reads_per_user=2)
        app = RateLimitMiddleware(held, settings=settings, owner_of=owner_of)
        mine = [
            asyncio.create_task(request(app, "/api/tickets/?q=%25", "tdk_viewer_a"))
            for _ in range(2)
        ]
        await asyncio.sleep(0.02)
        # A third, by another token of the same person: refused at once, whatever it is.
        for target in ("/api/tickets/?q=%25", "/api/tickets/stats/", "/api/tickets/3/similar/"):
            status, headers, body = await asyncio.wait_for(
                request(app, target, "tdk_viewer_b"), timeout=1
            )
            assert (status, headers["retry-after"]) == (429, "1")
            error = json.loads(body)
            assert error["errors"][0]["type"] == "rate_limited"
            assert "at once" in error["detail"]
        # Their plain reads still go straight through; another user gets a turn at once.
        status, _, _ = await asyncio.wait_for(request(app, "/api/tickets/", "tdk_viewer_a"), 1)
        assert status == 200
        theirs = asyncio.create_task(request(app, "/api/tickets/stats/", "tdk_agent"))
        await asyncio.sleep(0.02)
        assert held.inside == 3
        held.release.set()
        assert [s for s, _, _ in await asyncio.gather(*mine, theirs)] == [200, 200, 200]
        # Turns are given back.
        assert (await request(app, "/api/tickets/?q=%25", "tdk_viewer_b"))[0] == 200

    asyncio.run(run())


def test_zero_lifts_the_per_user_cap() -> None:
    async def nobody(kind: str, secret: str) -> int | None:
        return None

    async def run() -> int:
        held = Held()
        settings = Settings(_env_file=None, search_concurrency=8, expensive_reads_per_user=0)
        app = RateLimitMiddleware(held, settings=settings, owner_of=nobody)
        tasks = [
            asyncio.create_task(request(app, "/api/tickets/stats/", "tdk_a")) for _ in range(5)
        ]
        await asyncio.sleep(0.02)
        inside = held.inside
        held.release.set()
        await asyncio.gather(*tasks)
        return inside

    assert asyncio.run(run()) == 5
