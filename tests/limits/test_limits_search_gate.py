"""The search gate: searches take turns, everything else goes straight through.

Against the ASGI middleware with a stub app (no database): the gate's effect on create latency
under load is measured by tests/benchmarks/bench_load.py (docs/load-test.md).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from ticket_app.api.rate_limits import RateLimitMiddleware, SearchGate, is_search
from ticket_app.settings import Settings


def scope(method: str, target: str) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"authorization", b"Bearer tdk_a")],
        "client": ("10.0.0.1", 1),
    }


class Stub:
    """An app that holds searches until released and counts how many it holds at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.inside = 0
        self.most_inside = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if is_search(scope):
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            await self.release.wait()
            self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def request(app: Any, method: str, target: str) -> tuple[int, dict[str, str], bytes]:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope(method, target), receive, send)
    headers = {k.decode(): v.decode() for k, v in messages[0]["headers"]}
    return messages[0]["status"], headers, messages[1]["body"]


@pytest.mark.parametrize(
    ("method", "target", "expected"),
    [
        ("GET", "/api/tickets/?search=a", True),
        ("GET", "/api/tickets?q=er&limit=10", True),
        ("HEAD", "/api/tickets/stats/?search=x", True),
        ("GET", "/api/tickets/?search=%20&q=", False),
        ("GET", "/api/tickets/?category=billing", False),
        ("GET", "/api/tickets/7/?search=a", False),
        ("GET", "/api/tickets/export/?search=a", False),  # rate-limited on its own
        ("POST", "/api/tickets/?search=a", False),
    ],
)
def test_what_counts_as_a_search(method: str, target: str, expected: bool) -> None:
    assert is_search(scope(method, target)) is expected


def test_searches_take_turns_while_writes_and_plain_reads_go_straight_through() -> None:
    async def run() -> Stub:
        stub = Stub()
        gate = SearchGate(stub, concurrency=2, wait_seconds=5)
        searches = [
            asyncio.create_task(request(gate, "GET", f"/api/tickets/?search=t{n}"))
            for n in range(6)
        ]
        await asyncio.sleep(0.05)
        assert stub.inside == 2  # two run, four wait without holding anything
        # Meanwhile a create, an edit and a plain list are answered at once.
        for method, target in [
            ("POST", "/api/tickets/"),
            ("PATCH", "/api/tickets/3/"),
            ("GET", "/api/tickets/?limit=5"),
        ]:
            status, _, _ = await asyncio.wait_for(request(gate, method, target), timeout=1)
            assert status == 200
        stub.release.set()
        assert [status for status, _, _ in await asyncio.gather(*searches)] == [200] * 6
        return stub

    assert asyncio.run(run()).most_inside == 2


def test_a_search_that_waits_too_long_gets_503_with_retry_after() -> None:
    async def run() -> tuple[int, dict[str, str], bytes]:
        stub = Stub()
        gate = SearchGate(stub, concurrency=1, wait_seconds=0.1)
        first = asyncio.create_task(request(gate, "GET", "/api/tickets/?search=a"))
        await asyncio.sleep(0.02)
        refused = await request(gate, "GET", "/api/tickets/?search=b")
        stub.release.set()
        assert (await first)[0] == 200
        return refused

    status, headers, body = asyncio.run(run())
    assert status == 503
    assert headers["retry-after"] == "1"
    error = json.loads(body)
    assert error["errors"][0]["type"] == "busy"
    assert "busy with other searches" in error["detail"]


def test_the_rate_limit_middleware_puts_searches_through_the_gate() -> None:
    async def run() -> int:
        stub = Stub()
        app = RateLimitMiddleware(
            stub, settings=Settings(_env_file=None, search_concurrency=1, search_queue_seconds=5)
        )
        searches = [
            asyncio.create_task(request(app, "GET", "/api/tickets/?q=ab")) for _ in range(3)
        ]
        await asyncio.sleep(0.05)
        stub.release.set()
        await asyncio.gather(*searches)
        return stub.most_inside

    assert asyncio.run(run()) == 1


def test_zero_turns_the_gate_off() -> None:
    async def run() -> int:
        stub = Stub()
        gate = SearchGate(stub, concurrency=0, wait_seconds=5)
        searches = [
            asyncio.create_task(request(gate, "GET", "/api/tickets/?search=a")) for _ in range(5)
        ]
        await asyncio.sleep(0.05)
        stub.release.set()
        await asyncio.gather(*searches)
        return stub.most_inside

    assert asyncio.run(run()) == 5
