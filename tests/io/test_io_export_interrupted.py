"""How an API export ends: audited as `exported` only when the whole file went out.

A download that stops part-way (the database fails mid-read, the client goes away, the client
stops reading for EXPORT_SEND_TIMEOUT_SECONDS) is audited as `export_interrupted`, and its
per-user slot is free again. A user's exports beyond EXPORT_CONCURRENCY_PER_USER get 429.
The app is driven at the ASGI level, where a test can stall or drop the client at will.
On SQLite and PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.io.faults import dropping_after
from tests.io.test_io_export_snapshot import seed
from ticket_app.api.app import create_api
from ticket_app.api.export_response import ExportStalledError
from ticket_app.models import TicketEvent
from ticket_app.services import exporter
from ticket_app.services.export_stream import running_exports
from ticket_app.services.identity import tokens
from ticket_app.settings import get_settings

Message = dict[str, Any]


def export_kinds(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(TicketEvent.kind)
                .where(TicketEvent.kind.in_(["exported", "export_interrupted"]))
                .order_by(TicketEvent.id)
            ).scalars()
        )


def admin_slots(admin_token: str) -> int:
    actor = tokens.resolve_token(admin_token)
    assert actor is not None
    return running_exports(actor)


def export_scope(token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/tickets/export/",
        "raw_path": b"/api/tickets/export/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def call(
    app: FastAPI,
    token: str,
    send: Callable[[Message], Awaitable[None]],
    disconnect: asyncio.Event | None = None,
) -> None:
    """Run one export request through the app; `disconnect` set: the client has gone away."""
    requested = False
    gone = disconnect or asyncio.Event()

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    await app(export_scope(token), receive, send)


@pytest.fixture
def short_send_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("EXPORT_SEND_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("EXPORT_SEND_TIMEOUT_SECONDS")
    get_settings.cache_clear()


def test_a_whole_download_is_audited_as_exported(
    client: TestClient, db: Engine, admin_token: str
) -> None:
    seed(db, 1200)
    assert client.get("/api/tickets/export/").status_code == 200
    assert export_kinds(db) == ["exported"]
    assert admin_slots(admin_token) == 0


def test_a_database_failure_mid_export_is_audited_as_interrupted(
    client: TestClient, db: Engine, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db, 1200)
    monkeypatch.setattr(exporter, "iter_snapshot", dropping_after(700))
    with pytest.raises(Exception):  # noqa: B017 - the response is aborted, see test_io_export_snapshot
        client.get("/api/tickets/export/")
    assert export_kinds(db) == ["export_interrupted"]
    assert admin_slots(admin_token) == 0


def test_a_client_that_goes_away_mid_download_is_audited_as_interrupted(
    db: Engine, admin_token: str
) -> None:
    seed(db, 3000)
    app = create_api()

    async def scenario() -> int:
        gone = asyncio.Event()
        received = 0

        async def send(message: Message) -> None:
            nonlocal received
            if message["type"] == "http.response.body":
                received += len(message["body"])
                gone.set()  # the client leaves after the first piece
                await asyncio.sleep(3600)  # and never accepts another

        await call(app, admin_token, send, gone)
        return received

    assert asyncio.run(scenario()) > 0
    assert export_kinds(db) == ["export_interrupted"]
    assert admin_slots(admin_token) == 0


def test_a_client_that_stops_reading_is_cut_off_after_the_send_timeout(
    db: Engine, admin_token: str, short_send_timeout: None
) -> None:
    seed(db, 3000)
    app = create_api()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            await asyncio.sleep(3600)  # a socket nobody reads

    with pytest.raises(ExportStalledError):
        asyncio.run(asyncio.wait_for(call(app, admin_token, send), timeout=30))
    assert export_kinds(db) == ["export_interrupted"]
    assert admin_slots(admin_token) == 0


def test_a_user_runs_at_most_the_configured_number_of_exports_at_once(
    db: Engine, admin_token: str
) -> None:
    seed(db, 3000)
    limit = get_settings().export_concurrency_per_user
    assert limit == 2
    # Another token of the same user shares the budget: the limit is per user.
    second_token, _ = tokens.create_token("admin@example.com", "second", actor=SYSTEM)
    app = create_api()

    async def scenario() -> list[Message]:
        started = asyncio.Queue[int]()
        gone = asyncio.Event()

        async def stalled_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.put_nowait(message["status"])
            else:
                await gone.wait()
                raise OSError("connection reset by peer")

        held = [
            asyncio.create_task(call(app, token, stalled_send, gone))
            for token in (admin_token, second_token)
        ]
        assert sorted([await started.get() for _ in held]) == [200] * limit
        refused: list[Message] = []

        async def collect(message: Message) -> None:
            refused.append(message)

        await call(app, second_token, collect)
        gone.set()
        await asyncio.gather(*held, return_exceptions=True)
        return refused

    start, body = asyncio.run(scenario())
    assert start["status"] == 429
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    assert headers["retry-after"] == "10"
    assert headers["content-type"] == "application/json"
    assert json.loads(body["body"])["errors"][0]["type"] == "rate_limited"
    assert admin_slots(admin_token) == 0
    assert export_kinds(db) == ["export_interrupted"] * limit
