"""First create against the hundredth in a fresh API process (issue 26, warm start).

Usage: python tests/benchmarks/bench_first_create.py [--database-url URL] [--creates 100]
       [--cold] [--runs 3]

Starts the API under granian (one worker, as `bench` does) on a migrated database (a scratch
SQLite file unless `--database-url` names one; generated tickets and an admin are added to it),
waits until `/ping` says ready, then sends `--creates` classified creates one after another and
prints the first, the second and the hundredth's latency, the median of the last ten, the ratio
first / median-of-last-ten, and the worker's resident memory after start and after the creates.
`--cold` serves `create_api` instead of `create_served_api`: no warm-up, the models load at the
first create (how the server started before issue 26). Each run is a fresh server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ticket_app.cli import bench, bench_data
from ticket_app.cli.database import apply_migrations
from ticket_app.services.database import use_database

COLD_API = "ticket_app.api.app:create_api"


def worker_rss_mib(server_pid: int) -> float:
    """Resident MiB of the server's children (granian's workers), from /proc."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0").strip()) == server_pid:
            total += int(fields["VmRSS"].split()[0]) / 1024
    return total


def one_run(database_url: str, token: str, creates: int, cold: bool) -> dict[str, float]:
    """A fresh server: start-up seconds, latencies (ms) and worker memory (MiB)."""
    port = bench.free_port()
    began = time.perf_counter()
    server = bench.start_server(database_url, port, factory=COLD_API if cold else bench.SERVED_API)
    base = f"http://127.0.0.1:{port}"
    try:
        bench.wait_until_ready(base, server)
        ready_seconds = time.perf_counter() - began
        rss_started = worker_rss_mib(server.pid)
        latencies = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            for n in range(creates):
                body = {
                    "title": f"First-create bench {n}",
                    "description": f"Customer {n} cannot log in after the password reset email.",
                }
                sent = time.perf_counter()
                answer = http.post("/api/tickets/", json=body, timeout=60)
                latencies.append((time.perf_counter() - sent) * 1000)
                answer.raise_for_status()
        rss_after = worker_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    last_ten = statistics.median(latencies[-10:])
    return {
        "ready s": ready_seconds,
        "1st ms": latencies[0],
        "2nd ms": latencies[1],
        f"{creates}th ms": latencies[-1],
        "last 10 median ms": last_ten,
        "1st / last 10": latencies[0] / last_ten,
        "RSS ready MiB": rss_started,
        "RSS after MiB": rss_after,
    }


def main() -> None:
    """Parse the arguments, prepare the database, print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--creates", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="serve without the warm-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/first-create.db"
        apply_migrations(url)
        use_database(url)
        if bench_data.stored_tickets() < 1000:
            bench_data.load_tickets(url, 1000, seed=26)
        admin = bench_data.create_bench_admin()
        try:
            print(
                f"{'cold (models at first use)' if args.cold else 'warm-up at start'}; "
                f"{url.split(':')[0]}; load average {os.getloadavg()[0]:.2f}"
            )
            for _ in range(args.runs):
                row = one_run(url, admin.token, args.creates, args.cold)
                print("  ".join(f"{name} {value:.2f}" for name, value in row.items()))
        finally:
            bench_data.retire_bench_admin(admin)
        print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
