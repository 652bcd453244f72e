"""Load test (issue 27): one abusive reader and stalled exports must not slow an agent down.

Against a real server (the API under granian, one worker, as `serve` runs it without Redis) on a
scratch PostgreSQL database of ROWS generated tickets, on loopback only. An agent's list,
search and create are timed one after another while the server is idle, then again while

- a viewer keeps VIEWER_SEARCHES `q=%` searches in flight (a one-character term: every one
  scans the table; refused ones are sent again after RETRY_PAUSE seconds), and
- STALLED_EXPORTS raw sockets (a read-only agent token) request `/api/tickets/export/` and never
  read the answer.

Done when each of the agent's p50s stays within SLOWDOWN times its idle p50 and no request gets a
5xx. Skipped without TEST_DATABASE_URL (PostgreSQL). The run without stalled exports guards the
per-user turns for expensive reads; the one with them also needs exports that do not hold a
pooled connection while the client is slow (issue 27, item 2).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.benchmarks.bench_queries import generate_rows
from tests.conftest import SYSTEM, TEST_PASSWORD
from tests.helpers import scratch_postgres_database
from ticket_app.services import identity
from ticket_app.services.database import use_database
from ticket_app.services.migrations import upgrade_database
from ticket_app.settings import PROJECT_ROOT

pytestmark = [pytest.mark.load, pytest.mark.timeout(240)]

ROWS = 30_000
VIEWER_SEARCHES = 24
STALLED_EXPORTS = 20
RETRY_PAUSE = 0.05
SLOWDOWN = 3.0
ROUNDS = 15
WARMUP_ROUNDS = 3
AGENT_SEARCH = "err00042"  # a product code: a search the trigram index serves


@dataclass
class Server:
    """The running server and the tokens of the people in the test."""

    base: str
    agent: str
    viewer: str
    exporter: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fill(url: str) -> tuple[str, str, str]:
    """Migrate and fill the database; return the agent's, viewer's and exporter's tokens."""
    upgrade_database(url)
    engine = use_database(url)
    rows = generate_rows(ROWS)
    with engine.begin() as connection:
        connection.execute(sa.table("tickets", *(sa.column(c) for c in rows[0])).insert(), rows)
        connection.execute(sa.text("ANALYZE tickets"))
    tokens = []
    for email, role, scopes in (
        ("agent@example.com", "agent", None),
        ("viewer@example.com", "viewer", "tickets:read"),
        ("exporter@example.com", "agent", "tickets:read"),
    ):
        identity.create_user(email, role, TEST_PASSWORD, actor=SYSTEM)
        tokens.append(identity.create_token(email, "load", scopes=scopes, actor=SYSTEM)[0])
    use_database("sqlite://")  # close this process's pool; the server opens its own
    return tokens[0], tokens[1], tokens[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The API under granian on a filled scratch PostgreSQL database."""
    base_url = os.environ.get("TEST_DATABASE_URL", "")
    if not base_url.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL is not a PostgreSQL URL; load test skipped")
    with scratch_postgres_database(base_url, prefix="triage_load") as url:
        agent, viewer, exporter = _fill(url)
        port = _free_port()
        log = tmp_path_factory.mktemp("load") / "server.log"
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT)}
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        command += ["ticket_app.api.app:create_api"]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/api/me/", timeout=1)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            yield Server(base, agent, viewer, exporter, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Timings:
    """The agent's latencies (ms) per operation and every status code seen."""

    ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)

    def p50(self, operation: str) -> float:
        return statistics.median(self.ms[operation])


def _agent_rounds(server: Server, rounds: int) -> Timings:
    """List, search and create, one after another, `rounds` times; time each."""
    timings = Timings()
    headers = {"Authorization": f"Bearer {server.agent}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        for n in range(rounds):
            for operation, send in (
                ("list", lambda: client.get("/api/tickets/", params={"limit": 25})),
                (
                    "search",
                    lambda: client.get("/api/tickets/", params={"q": AGENT_SEARCH, "limit": 25}),
                ),
                (
                    "create",
                    lambda n=n: client.post(
                        "/api/tickets/",
                        json={"title": f"Load {n}", "description": "Printer error during load."},
                    ),
                ),
            ):
                started = time.perf_counter()
                response = send()
                timings.ms.setdefault(operation, []).append((time.perf_counter() - started) * 1000)
                timings.statuses[f"agent {operation} {response.status_code}"] += 1
    return timings


class Abuse:
    """The viewer's searches (in a thread with its own event loop) and the stalled exports."""

    def __init__(self, server: Server, stalled_exports: int) -> None:
        self.server = server
        self.stalled_exports = stalled_exports
        self.statuses: Counter[str] = Counter()
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._searches()))

    def __enter__(self) -> Abuse:
        port = int(self.server.base.rsplit(":", 1)[1])
        request = (
            "GET /api/tickets/export/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {self.server.exporter}\r\n\r\n"
        ).encode()
        for _ in range(self.stalled_exports):
            stalled = socket.socket()
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills at once
            stalled.connect(("127.0.0.1", port))
            stalled.sendall(request)
            self._sockets.append(stalled)
        self._thread.start()
        time.sleep(2)  # let every export start and every search slot fill
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        for stalled in self._sockets:
            stalled.close()

    async def _searches(self) -> None:
        headers = {"Authorization": f"Bearer {self.server.viewer}"}
        limits = httpx.Limits(max_connections=VIEWER_SEARCHES + 5)
        async with httpx.AsyncClient(
            base_url=self.server.base, headers=headers, limits=limits, timeout=60
        ) as client:

            async def searcher() -> None:
                while not self._stop.is_set():
                    try:
                        response = await client.get("/api/tickets/", params={"q": "%"})
                        status = str(response.status_code)
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    self.statuses[f"viewer search {status}"] += 1
                    if status != "200":
                        await asyncio.sleep(RETRY_PAUSE)

            await asyncio.gather(*(searcher() for _ in range(VIEWER_SEARCHES)))


@pytest.mark.parametrize(
    "stalled_exports",
    [
        0,
        pytest.param(
            STALLED_EXPORTS,
            marks=pytest.mark.xfail(
                reason="item 2 of issue 27 (exports hold a pooled connection while the client "
                "is slow) is fixed on another branch; remove this mark once it is merged",
                strict=False,
            ),
        ),
    ],
    ids=["searches", "searches and stalled exports"],
)
def test_an_agent_keeps_its_pace_while_a_viewer_abuses_the_server(
    server: Server, stalled_exports: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _agent_rounds(server, WARMUP_ROUNDS)
    idle = _agent_rounds(server, ROUNDS)
    with Abuse(server, stalled_exports) as abuse:
        loaded = _agent_rounds(server, ROUNDS)

    report = [
        f"{operation}: idle p50 {idle.p50(operation):.1f} ms, "
        f"under load p50 {loaded.p50(operation):.1f} ms"
        for operation in ("list", "search", "create")
    ]
    statuses = idle.statuses + loaded.statuses + abuse.statuses
    with capsys.disabled():
        print(f"\n{stalled_exports} stalled exports: " + "; ".join(report))
        print(f"statuses: {dict(sorted(statuses.items()))}")

    server_errors = {k: n for k, n in statuses.items() if not k.split()[-1].startswith(("2", "4"))}
    assert not server_errors, f"{server_errors}\n{server.log.read_text()[-3000:]}"
    assert abuse.statuses["viewer search 200"] > 0  # the viewer was served, within limits
    for operation in ("list", "search", "create"):
        assert loaded.p50(operation) <= SLOWDOWN * idle.p50(operation), report
