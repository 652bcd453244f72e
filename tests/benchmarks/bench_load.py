"""Load test: concurrent short searches plus steady creates against the real API on PostgreSQL.

Usage: TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
       python tests/benchmarks/bench_load.py [--rows 100000] [--searchers 80] [--duration 30]

Not a pytest test (the file name does not start with test_). Creates a scratch database beside
TEST_DATABASE_URL's, migrates it and fills it with `--rows` generated tickets (the generator of
bench_queries.py), starts the API under granian (one worker, as `serve` runs it without Redis)
in a subprocess, then for `--duration` seconds keeps `--searchers` searches in flight (each
client searches again as soon as it has its answer; the terms are 1-2 characters by default,
which the trigram index cannot serve) while one client creates `--create-rate` tickets a second
on a fixed schedule. Prints the latency of creates (p50/p95/max) and searches (p50/p95) and the
status codes seen; the target is create p95 < 200 ms. The scratch database is dropped at the
end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_queries import generate_rows
from tests.helpers import scratch_postgres_database
from ticket_app.models import ActorKind
from ticket_app.services.access import Actor
from ticket_app.services.database import use_database
from ticket_app.services.identity import tokens, users
from ticket_app.services.migrations import upgrade_database
from ticket_app.settings import PROJECT_ROOT, get_settings

TARGET_CREATE_P95_MS = 200.0
SHORT_TERMS = ("a", "e", "o", "er", "in", "re", "ti", "on", "x", "7")


@dataclass
class Samples:
    """Latencies (ms) and status codes of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)

    def add(self, started: float, status: int | str) -> None:
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.statuses[status] += 1

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def summary(self) -> str:
        if not self.latencies:
            return "no requests"
        return (
            f"{len(self.latencies)} requests, p50 {statistics.median(self.latencies):.0f} ms, "
            f"p95 {self.percentile(0.95):.0f} ms, max {max(self.latencies):.0f} ms; "
            f"status {dict(sorted(self.statuses.items(), key=str))}"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fill(url: str, rows: int) -> str:
    """Migrate and fill the database at `url`; return an admin API token."""
    upgrade_database(url)
    engine = use_database(url)
    started = time.perf_counter()
    generated = generate_rows(rows)
    for offset in range(0, rows, 20_000):
        batch = generated[offset : offset + 20_000]
        with engine.begin() as connection:
            connection.execute(
                sa.table("tickets", *(sa.column(c) for c in batch[0])).insert(), batch
            )
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE tickets"))
    print(f"inserted {rows} tickets in {time.perf_counter() - started:.1f} s")
    system = Actor.process(ActorKind.SYSTEM, "bench")
    users.create_user("bench@example.com", "admin", "bench password 123", actor=system)
    secret, _ = tokens.create_token("bench@example.com", "bench", actor=system)
    use_database("sqlite://")  # close this process's pool; the server opens its own
    return secret


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(PROJECT_ROOT),
        # The limits are per user; the bench is one token doing the work of many clients.
        "RATE_LIMIT_WRITES": "",
        "RATE_LIMIT_READS": "",
        "RATE_LIMIT_SEARCHES": "",
        "EXPENSIVE_READS_PER_USER": "0",
    }
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--log-level", "warning", "ticket_app.api.app:create_api"]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)


async def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while True:
            try:
                await client.get(f"{base}/api/me/", timeout=1)
                return
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                await asyncio.sleep(0.2)


async def run_load(
    base: str, token: str, searchers: int, duration: float, create_rate: float, terms: list[str]
) -> tuple[Samples, Samples]:
    """Searches in a closed loop on `searchers` clients, creates on a fixed schedule."""
    headers = {"Authorization": f"Bearer {token}"}
    searches, creates = Samples(), Samples()
    limits = httpx.Limits(max_connections=searchers + 50, max_keepalive_connections=searchers + 50)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:
        stop_at = time.perf_counter() + duration

        async def searcher(number: int) -> None:
            turn = number
            while time.perf_counter() < stop_at:
                term = terms[turn % len(terms)]
                turn += 1
                started = time.perf_counter()
                try:
                    response = await client.get(
                        "/api/tickets/", params={"search": term, "limit": 25}
                    )
                    searches.add(started, response.status_code)
                except httpx.HTTPError as exc:
                    searches.add(started, type(exc).__name__)

        async def create(number: int) -> None:
            started = time.perf_counter()
            payload = {
                "title": f"Load test ticket {number}",
                "description": f"Created during the load test, number {number}: printer error.",
                "category": "technical",
                "priority": "medium",
            }
            try:
                response = await client.post("/api/tickets/", json=payload)
                creates.add(started, response.status_code)
            except httpx.HTTPError as exc:
                creates.add(started, type(exc).__name__)

        async def creator() -> None:
            pending = []
            number = 0
            next_at = time.perf_counter() + 1.0  # let the searches build up first
            while next_at < stop_at:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                pending.append(asyncio.create_task(create(number)))
                number += 1
                next_at += 1 / create_rate
            await asyncio.gather(*pending)

        await asyncio.gather(creator(), *(searcher(n) for n in range(searchers)))
    return creates, searches


def main() -> None:
    """Build the scratch database, run the load, print the figures, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--searchers", type=int, default=80)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--create-rate", type=float, default=5.0, help="creates per second")
    parser.add_argument(
        "--terms",
        default=",".join(SHORT_TERMS),
        help="comma-separated search terms, used in turn (default: 1-2 characters)",
    )
    args = parser.parse_args()
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url or not base_url.startswith("postgresql"):
        sys.exit("set TEST_DATABASE_URL to a PostgreSQL URL")
    terms = [term for term in args.terms.split(",") if term]
    with scratch_postgres_database(base_url, prefix="triage_bench") as url:
        token = fill(url, args.rows)
        port = free_port()
        server = start_server(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_until_up(base, server))
            settings = get_settings()
            print(
                f"load: {args.searchers} searchers ({', '.join(terms)}), "
                f"{args.create_rate:g} creates/s, {args.duration:g} s; "
                f"statement timeout {settings.statement_timeout_ms} ms, one granian worker, "
                f"{os.cpu_count()} CPUs"
            )
            creates, searches = asyncio.run(
                run_load(base, token, args.searchers, args.duration, args.create_rate, terms)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"creates:  {creates.summary()}")
    print(f"searches: {searches.summary()}")
    p95 = creates.percentile(0.95)
    verdict = "met" if p95 < TARGET_CREATE_P95_MS else "NOT met"
    print(f"create p95 {p95:.0f} ms: target < {TARGET_CREATE_P95_MS:.0f} ms {verdict}")


if __name__ == "__main__":
    main()
