"""CPU time per API request, the server's and PostgreSQL's, one request at a time.

Usage: python tests/benchmarks/bench_request_cpu.py --database-url URL [--checkout PATH ...]
       [--only PREFIX ...] [--batches 12] [--batch-size 60]

URL names a database filled by `python -m ticket_app bench` (its generated tickets and
targets). For each `--checkout` (default: this one) the API starts as `bench` starts it
(granian, one worker, that checkout's code), all at once. Then, for each of `bench`'s requests
(or those whose name starts with an `--only`), batches of `--batch-size` requests go to each
server in turn, from one client, in ABBA order. Printed per request and checkout: the median and
the lowest of the batches' server CPU per request (the granian processes, from `/proc`), and
the median of PostgreSQL's (every process whose command line starts with `postgres`, so run it
on a quiet database server) and of the wall time. Linux only.

Why: on two cores, four clients' throughput and p95 are set by the CPU a request costs the
server, PostgreSQL and the client together. And on this project's host the same code's CPU per
request moved by a factor of two within minutes (docs/performance.md, "CPU per request"), so
two versions are only compared in interleaved batches, never in runs one after the other. Some
requests write (create, PATCH, comment): run it on a benchmark database of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ticket_app.cli import bench, bench_data
from ticket_app.services.database import use_database

WARM_UP = 30
_SERVER_CPU = "server CPU ms: median (lowest)"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pids: list[int]) -> float:
    """User plus system CPU time of `pids`, in ms (processes gone meanwhile count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return 1000 * total / _CLOCK_TICKS


def postgres_pids() -> list[int]:
    """Every process whose command line starts with `postgres` (server and backends)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"postgres"):
                pids.append(int(entry.name))
    return pids


@dataclass
class Server:
    """One checkout's API under granian, with its client and the batches measured on it."""

    checkout: Path
    process: subprocess.Popen[bytes]
    http: httpx.Client
    server_cpu: list[float] = field(default_factory=list)
    postgres_cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)

    def pids(self) -> list[int]:
        """The granian main process and its workers."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [pid, *(int(child) for child in children)]


def start(checkout: Path, database_url: str, token: str) -> Server:
    """`checkout`'s API on a free port (as `bench.start_server`, from that checkout's code).

    Ready when it returns; a server that does not start is stopped before the error is raised.
    """
    port = bench.free_port()
    process = bench.start_server(database_url, port, workers=1, root=checkout)
    base = f"http://127.0.0.1:{port}"
    try:
        bench.wait_until_ready(base, process)
    except RuntimeError:
        process.terminate()
        process.wait(timeout=30)
        raise
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Server(checkout, process, http)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--checkout", action="append", type=Path, default=[])
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=60)
    args = parser.parse_args()
    checkouts = args.checkout or [Path(__file__).resolve().parents[2]]

    use_database(args.database_url)
    targets = bench_data.bench_targets()
    admin = bench_data.create_bench_admin()
    requests = [
        r
        for r in bench.requests_for(targets)
        if not args.only or any(r.name.startswith(prefix) for prefix in args.only)
    ]
    servers: list[Server] = []
    try:
        for checkout in checkouts:  # one by one, so the finally stops those already started
            servers.append(start(checkout, args.database_url, admin.token))
        print(f"| request | checkout | {_SERVER_CPU} | PostgreSQL CPU ms | wall ms |")
        print("|---|---|---|---|---|")
        for request in requests:
            for server in servers:
                server.server_cpu, server.postgres_cpu, server.wall = [], [], []
                for n in range(WARM_UP):
                    call = request.make(0, -1 - n)
                    server.http.request(call.method, call.path, json=call.json)
            for batch in range(args.batches):
                for server in servers if batch % 2 == 0 else servers[::-1]:
                    measure_batch(server, request, batch, args.batch_size)
            for server in servers:
                print(
                    f"| {request.name} | {server.checkout} | "
                    f"{statistics.median(server.server_cpu):.2f} ({min(server.server_cpu):.2f}) | "
                    f"{statistics.median(server.postgres_cpu):.2f} | "
                    f"{statistics.median(server.wall):.2f} |",
                    flush=True,
                )
    finally:
        for server in servers:
            server.http.close()
            server.process.terminate()
            server.process.wait(timeout=30)
        bench_data.retire_bench_admin(admin)


def measure_batch(server: Server, request: bench.Request, batch: int, size: int) -> None:
    """Send `size` of `request` to `server` and record its CPU and wall time per request."""
    server_pids, database_pids = server.pids(), postgres_pids()
    server_cpu, database_cpu = cpu_ms(server_pids), cpu_ms(database_pids)
    began = time.perf_counter()
    for n in range(size):
        call = request.make(batch % 4, batch * size + n)
        answer = server.http.request(call.method, call.path, json=call.json)
        if not answer.is_success:
            raise RuntimeError(f"{request.name} on {server.checkout}: HTTP {answer.status_code}")
    server.wall.append(1000 * (time.perf_counter() - began) / size)
    server.server_cpu.append((cpu_ms(server_pids) - server_cpu) / size)
    server.postgres_cpu.append((cpu_ms(database_pids) - database_cpu) / size)


if __name__ == "__main__":
    main()
