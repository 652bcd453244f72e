"""Stalled export downloads hold no database connection and cannot take the API down.

Behind a real server (granian, as `serve` runs it) with a small pool: raw sockets ask for large
exports and never read them. Each user gets EXPORT_CONCURRENCY_PER_USER exports, further ones
429; the running ones are spooled and give their connections back, so PostgreSQL shows no
connection "idle in transaction", and other clients' lists, searches and creates are served.
After EXPORT_SEND_TIMEOUT_SECONDS without progress the stalled downloads are cut off and
audited as `export_interrupted`, and their users can export again.
On SQLite and PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM, TEST_PASSWORD
from tests.support.server import free_port, running_server
from ticket_app.models import Ticket, TicketEvent
from ticket_app.services.identity import tokens as identity_tokens
from ticket_app.services.identity import users
from ticket_app.settings import PROJECT_ROOT

USERS = 10
PER_USER = 2
TICKETS = 8000
SEND_TIMEOUT = 10
ROUNDS = 5
START = datetime(2026, 1, 1, tzinfo=UTC)
# About 1 KB per ticket: 8 MB per export, more than the socket buffers of a client that reads
# nothing (the server's send buffer grows to 4 MB at most), so each download really stalls.
DESCRIPTION = "The export of the quarterly report hangs at 99 percent. " * 18


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def seed(engine: Engine) -> None:
    rows = [
        {
            "title": f"Ticket {n}",
            "description": DESCRIPTION,
            "category": "general",
            "priority": "low",
            "status": "open",
            "created_at": START + timedelta(minutes=n),
            "updated_at": START + timedelta(minutes=n),
        }
        for n in range(1, TICKETS + 1)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(Ticket.__table__), rows)


def agent_tokens(count: int) -> list[str]:
    tokens = []
    for n in range(count):
        email = f"agent{n}@example.com"
        users.create_user(email, "agent", TEST_PASSWORD, actor=SYSTEM)
        tokens.append(identity_tokens.create_token(email, "export", actor=SYSTEM)[0])
    return tokens


@pytest.fixture
def server(db: Engine, admin_token: str, tmp_path: Path) -> Iterator[str]:
    """A granian server on the test database, pool of 8 connections; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url_of(db),
        "DATABASE_POOL_SIZE": "8",
        "DATABASE_MAX_OVERFLOW": "0",
        "DATABASE_POOL_TIMEOUT_SECONDS": "10",
        "EXPORT_CONCURRENCY_PER_USER": str(PER_USER),
        "EXPORT_SEND_TIMEOUT_SECONDS": str(SEND_TIMEOUT),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "ticket_app.api.app:create_api"]
    base = f"http://127.0.0.1:{port}"
    with running_server(
        command,
        ready_url=f"{base}/api/me/",
        timeout=30,
        log=tmp_path / "server.log",
        env=env,
        stop_timeout=20,  # granian's worker can wait at exit for idle anyio threads
    ):
        yield base


def stalled_export(port: int, token: str) -> socket.socket:
    """A client that asks for the export and reads only its status line, then nothing."""
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(("127.0.0.1", port))
    client.sendall(
        b"GET /api/tickets/export/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    return client


def read_head(client: socket.socket) -> bytes:
    """The response head and whatever followed it in the first read (at least the head)."""
    client.settimeout(30)
    received = b""
    while b"\r\n\r\n" not in received:
        piece = client.recv(4096)
        assert piece, received
        received += piece
    return received


def in_transaction(engine: Engine) -> int:
    """Connections of others to this database that are inside a transaction."""
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "AND (state = 'active' OR state LIKE 'idle in transaction%')"
            )
        ).scalar_one()


def served_in_time(api: httpx.Client) -> None:
    """A list, a search and a create, each 2xx, all within 5 s."""
    started = time.monotonic()
    for response in (
        api.get("/api/tickets/", params={"limit": 50}),
        api.get("/api/tickets/", params={"search": "Ticket 77"}),
        api.post(
            "/api/tickets/", json={"title": "Still served", "description": "Created meanwhile."}
        ),
    ):
        assert response.status_code < 300, response.text
    assert time.monotonic() - started < 5


def export_events(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(TicketEvent.kind, sa.func.count())
            .where(TicketEvent.kind.in_(["exported", "export_interrupted"]))
            .group_by(TicketEvent.kind)
        ).all()
    return {"exported": 0, "export_interrupted": 0} | {kind: count for kind, count in rows}


def read_all(client: socket.socket) -> bytes:
    """Everything until the server closes the connection or ends the chunked body."""
    client.settimeout(60)
    received = bytearray()
    try:
        while piece := client.recv(1 << 20):
            received += piece
            if received.endswith(b"\r\n0\r\n\r\n"):
                break
    except ConnectionResetError:
        pass
    return bytes(received)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.serial  # other requests' latency beside the stalled downloads is measured
@pytest.mark.timeout(240)
def test_stalled_exports_neither_hold_connections_nor_starve_other_requests(
    db: Engine, admin_token: str, server: str
) -> None:
    seed(db)
    tokens = agent_tokens(USERS)
    port = int(server.rsplit(":", 1)[1])
    headers = {"Authorization": f"Bearer {admin_token}"}
    api = httpx.Client(base_url=server, headers=headers, timeout=30)
    served_in_time(api)  # warm: the first create trains the classifier on the history
    clients = {
        token: [stalled_export(port, token) for _ in range(PER_USER + 1)] for token in tokens
    }
    try:
        heads = {token: [read_head(client) for client in socks] for token, socks in clients.items()}
        for token_heads in heads.values():
            statuses = sorted(int(head.split(b" ", 2)[1]) for head in token_heads)
            assert statuses == [200] * PER_USER + [429]  # the user's extra export is refused
            refused = next(head for head in token_heads if b" 429 " in head.split(b"\r\n")[0])
            assert b"\r\nretry-after: " in refused.lower()
            body = json.loads(refused.split(b"\r\n\r\n", 1)[1])
            assert "export" in body["detail"] and body["errors"][0]["type"] == "rate_limited"

        # The running exports are spooled: once the database has produced them, no connection
        # is left in a transaction (before, each stalled download held one "idle in
        # transaction" until the server's 300 s limit).
        if db.dialect.name == "postgresql":
            deadline = time.monotonic() + 60
            while (held := in_transaction(db)) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert held == 0

        # Everyone else is served, promptly and without a 5xx, while 20 downloads stall.
        for _ in range(ROUNDS):
            served_in_time(api)
        if db.dialect.name == "postgresql":
            assert in_transaction(db) == 0

        # A download whose client accepts nothing is cut off after the send timeout: the
        # connection ends without the final chunk, the export is audited as interrupted and
        # its user's slot is free again.
        deadline = time.monotonic() + 90
        while export_events(db)["export_interrupted"] < USERS * PER_USER:
            assert time.monotonic() < deadline, export_events(db)
            time.sleep(0.5)
        assert export_events(db) == {"exported": 0, "export_interrupted": USERS * PER_USER}
        index = next(i for i, head in enumerate(heads[tokens[0]]) if head[9:12] == b"200")
        client, first = clients[tokens[0]][index], heads[tokens[0]][index]
        body = first.split(b"\r\n\r\n", 1)[1] + read_all(client)
        assert b"\r\n0\r\n\r\n" not in body  # cut off, not ended: the client can tell
        with httpx.Client(base_url=server, timeout=60) as again:
            response = again.get("/api/tickets/export/", headers=bearer(tokens[0]))
        assert response.status_code == 200
        created = 1 + ROUNDS  # the warm-up round's ticket and each round's
        assert len(list(csv.DictReader(io.StringIO(response.text)))) == TICKETS + created
        assert export_events(db)["exported"] == 1
    finally:
        api.close()
        for socks in clients.values():
            for client in socks:
                client.close()
