"""Per-client rate limits: 429 with Retry-After beyond the limit, and none for ordinary automation.

The defaults are checked against the middleware alone (thousands of requests in milliseconds);
the behaviour through the real app on SQLite and PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from ipaddress import ip_network
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM
from tests.helpers import make_ticket
from ticket_app.api.app import create_api
from ticket_app.api.rate_limits import RateLimitMiddleware, client_key
from ticket_app.services.identity import tokens
from ticket_app.settings import Settings, get_settings

AppFactory = Callable[..., TestClient]


# The middleware alone ---------------------------------------------------------------------


def stub_limiter(owners: dict[str, int] | None = None, **settings: str) -> RateLimitMiddleware:
    """The middleware around an app that answers 200; `owners`: token secret -> user id."""

    async def ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def owner_of(kind: str, secret: str) -> int | None:
        return (owners or {}).get(secret)

    return RateLimitMiddleware(ok, settings=Settings(_env_file=None, **settings), owner_of=owner_of)


async def call(
    app: RateLimitMiddleware, method: str, path: str, token: str = "tdk_a"
) -> tuple[int, dict[str, str], bytes]:
    """One request through `app` (`path` may carry a query): (status, headers, body)."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": ("10.0.0.1", 1234),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    headers = {k.decode(): v.decode() for k, v in messages[0].get("headers", [])}
    return messages[0]["status"], headers, messages[1].get("body", b"")


def statuses(app: RateLimitMiddleware, requests: list[tuple[str, str]], token: str) -> list[int]:
    async def run() -> list[int]:
        return [(await call(app, method, path, token))[0] for method, path in requests]

    return asyncio.run(run())


def test_the_defaults_let_ordinary_automation_through_and_stop_a_flood() -> None:
    app = stub_limiter()
    writes = [("POST", "/api/tickets/")] * 300 + [
        ("PATCH", f"/api/tickets/{n}/") for n in range(300)
    ]
    reads = [("GET", "/api/tickets/")] * 2000 + [("GET", "/api/tickets/7/")] * 500
    reads += [("GET", "/api/tickets/stats/")] * 400 + [("GET", "/api/tickets/7/events/")] * 99
    assert set(statuses(app, writes + reads, "tdk_script")) == {200}
    # The 601st write within a minute is one too many; reads still pass, up to 3000.
    assert statuses(app, [("POST", "/api/tickets")], "tdk_script") == [429]
    assert statuses(app, [("GET", "/api/tickets/")] * 2, "tdk_script") == [200, 429]
    # Someone else's token has its own allowance.
    assert statuses(app, [("POST", "/api/tickets/")], "tdk_other") == [200]

    classify = [("POST", "/api/tickets/classify/")] * 121
    assert statuses(app, classify, "tdk_script") == [200] * 120 + [429]
    exports = [("GET", "/api/tickets/export/")] * 31
    assert statuses(app, exports, "tdk_script") == [200] * 30 + [429]
    searches = [("GET", "/api/tickets/?q=printer")] * 301
    assert statuses(app, searches, "tdk_script") == [200] * 300 + [429]
    similar = [("GET", "/api/tickets/7/similar/")] * 301
    assert statuses(app, similar, "tdk_script") == [200] * 300 + [429]


def test_the_refusal_says_how_long_to_wait() -> None:
    app = stub_limiter(rate_limit_exports="2/minute")

    async def run() -> tuple[int, dict[str, str], bytes]:
        for _ in range(2):
            await call(app, "GET", "/api/tickets/export")
        return await call(app, "GET", "/api/tickets/export")

    status, headers, body = asyncio.run(run())
    assert status == 429
    assert 55 <= int(headers["retry-after"]) <= 60
    assert headers["content-type"] == "application/json"
    assert b'"type": "rate_limited"' in body
    assert b"at most 2 per 1 minute" in body


def test_an_empty_rate_means_unlimited() -> None:
    app = stub_limiter(rate_limit_writes="")
    assert set(statuses(app, [("POST", "/api/tickets/")] * 1000, "tdk_a")) == {200}


def test_an_unreachable_counter_store_lets_requests_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = stub_limiter(rate_limit_storage_url="redis://127.0.0.1:1", rate_limit_writes="1/minute")
    assert statuses(app, [("POST", "/api/tickets/")] * 2, "tdk_a") == [200, 200]
    assert "rate limit storage failed" in caplog.text


def test_the_settings_refuse_a_rate_they_cannot_read() -> None:
    with pytest.raises(ValueError, match="not a rate"):
        Settings(_env_file=None, rate_limit_writes="lots")


def test_clients_are_their_token_else_their_session_else_their_address() -> None:
    def scope(headers: dict[str, str], client: str = "10.0.0.1") -> dict[str, Any]:
        encoded = [(k.encode(), v.encode()) for k, v in headers.items()]
        return {"type": "http", "headers": encoded, "client": (client, 1)}

    token = client_key(scope({"authorization": "Bearer tdk_secret", "cookie": "triage_session=s"}))
    assert token.startswith("token:") and "tdk_secret" not in token
    session = client_key(scope({"cookie": "theme=dark; triage_session=s3cr3t"}))
    assert session.startswith("session:") and "s3cr3t" not in session
    assert client_key(scope({"cookie": "theme=dark"})) == "address:10.0.0.1"
    assert client_key(scope({}, client="10.0.0.2")) == "address:10.0.0.2"


def test_anonymous_clients_behind_a_trusted_proxy_are_their_forwarded_address() -> None:
    def scope(headers: list[tuple[str, str]], client: str = "10.0.0.2") -> dict[str, Any]:
        encoded = [(k.encode(), v.encode()) for k, v in headers]
        return {"type": "http", "headers": encoded, "client": (client, 1)}

    balancer = [ip_network("10.0.0.0/24")]
    forwarded = [("x-forwarded-for", "192.0.2.66, 198.51.100.1")]  # spoofed, then real
    assert client_key(scope(forwarded), balancer) == "address:198.51.100.1"
    # HAProxy adds its own line after the client's.
    lines = [("x-forwarded-for", "192.0.2.66"), ("x-forwarded-for", "198.51.100.1")]
    assert client_key(scope(lines), balancer) == "address:198.51.100.1"
    # Not from a trusted proxy, or no proxy trusted: the header is ignored.
    assert client_key(scope(forwarded, client="203.0.113.9"), balancer) == "address:203.0.113.9"
    assert client_key(scope(forwarded), []) == "address:10.0.0.2"
    # A credential still wins over any address.
    with_token = scope([*forwarded, ("authorization", "Bearer tdk_x")])
    assert client_key(with_token, balancer).startswith("token:")


def test_the_limiter_counts_clients_behind_a_trusted_balancer_apart() -> None:
    async def post(app: RateLimitMiddleware, forwarded_for: str) -> int:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        request = {
            "type": "http",
            "method": "POST",
            "path": "/api/tickets/",
            "headers": [(b"x-forwarded-for", forwarded_for.encode())],
            "client": ("10.0.0.2", 1234),
        }
        await app(request, receive, send)
        return sent[0]["status"]

    async def run(app: RateLimitMiddleware) -> list[int]:
        first = [await post(app, "198.51.100.1") for _ in range(3)]
        return [*first, await post(app, "198.51.100.2")]

    trusting = stub_limiter(rate_limit_writes="2/minute", trusted_proxies="10.0.0.0/24")
    assert asyncio.run(run(trusting)) == [200, 200, 429, 200]
    everyone_together = stub_limiter(rate_limit_writes="2/minute", trusted_proxies="")
    assert asyncio.run(run(everyone_together)) == [200, 200, 429, 429]


# Through the app --------------------------------------------------------------------------


@pytest.fixture
def app_with(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    """Makes TestClients for fresh apps built with the given settings (NAME=value keywords)."""
    with ExitStack() as stack:

        def make(headers: dict[str, str] | None = None, **env: str) -> TestClient:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            get_settings.cache_clear()
            client = TestClient(create_api(), headers=headers)
            return stack.enter_context(client)

        yield make
    get_settings.cache_clear()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_creates_and_patches_beyond_the_limit_get_429(
    app_with: AppFactory, admin_token: str
) -> None:
    client = app_with(bearer(admin_token), RATE_LIMIT_WRITES="4/minute")
    ticket = make_ticket(client)
    for n in range(2):
        make_ticket(client, title=f"Ticket {n}")
    assert client.patch(f"/api/tickets/{ticket['id']}/", json={"status": "closed"}).is_success

    refused = client.post("/api/tickets/", json={"title": "One more", "description": "Text."})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.json()
    assert body["errors"] == [{"field": "", "message": body["detail"], "type": "rate_limited"}]
    assert "Too many writes" in body["detail"]
    patch = client.patch(f"/api/tickets/{ticket['id']}", json={"status": "open"})
    assert patch.status_code == 429

    listing = client.get("/api/tickets/")  # reads have a bucket of their own
    assert listing.status_code == 200
    assert len(listing.json()) == 3  # the refused create wrote nothing
    assert client.get(f"/api/tickets/{ticket['id']}/").json()["status"] == "closed"

    # Another token of the same person spends the same allowance (issue 27, item 12).
    other, _ = tokens.create_token(ADMIN_EMAIL, "second", actor=SYSTEM)
    from_other = client.post(
        "/api/tickets/",
        json={"title": "From the other token", "description": "Text."},
        headers=bearer(other),
    )
    assert from_other.status_code == 429


def test_classify_and_export_have_their_own_limits(app_with: AppFactory, admin_token: str) -> None:
    client = app_with(
        bearer(admin_token), RATE_LIMIT_CLASSIFY="2/minute", RATE_LIMIT_EXPORTS="1/minute"
    )
    text = {"description": "I was charged twice for my invoice."}
    answers = [client.post("/api/tickets/classify/", json=text).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    assert client.get("/api/tickets/export/").status_code == 200
    second = client.get("/api/tickets/export")
    assert second.status_code == 429
    assert "Too many exports" in second.json()["detail"]
    assert make_ticket(client)["id"]  # writes are a separate bucket


@pytest.mark.timeout(120)
def test_a_script_creating_hundreds_of_tickets_and_paging_through_all_is_not_refused(
    app_with: AppFactory, admin_token: str
) -> None:
    client = app_with(bearer(admin_token))  # the default limits
    started = time.monotonic()
    for n in range(300):
        make_ticket(client, title=f"Scripted ticket {n}")
    seen, url = 0, "/api/tickets/?limit=10"
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        seen += len(page.json())
        url = page.links.get("next", {}).get("url")
    exports = [client.get("/api/tickets/export/").status_code for _ in range(3)]
    assert seen == 300
    assert exports == [200, 200, 200]
    assert time.monotonic() - started < 60
