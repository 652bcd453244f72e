"""The `bench` command: every kind of API request measured through the real HTTP stack.

`run_bench` loads generated tickets (`bench_data`), starts the REST API under granian (one worker
unless `--workers` says more) in a subprocess on a free local port, waits until its `/ping` says
the models are loaded, creates an admin with an API token,
and runs each request of REQUESTS in a closed loop (every client sends its next request when it
has the answer) for a fixed time at each client count. Reports per request and client count:
requests made, p50, p95 and p99 latency, requests per second, errors (non-2xx answers), and the
1-minute load average at the end of the run, so a busy machine shows in the figures. Meanwhile
the benchmark runs the worker's every-minute database upkeep itself (`_database_upkeep`), as
the served set-up's worker would.

The server gets no Gemini key (classification is the offline classifier: a benchmark must not
measure a remote API or spend its quota) and no write rate limit (one client sending far more
than automation would).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import typer
from sqlalchemy.engine import make_url

from ticket_app.cli import bench_data
from ticket_app.cli.common import EXIT_BAD_INPUT, fail, service_errors
from ticket_app.cli.database import apply_migrations
from ticket_app.models import Status
from ticket_app.services import counts, gin_pending
from ticket_app.services.database import use_database
from ticket_app.services.ticket_query import encode_cursor
from ticket_app.settings import PROJECT_ROOT

SERVER_START_SECONDS = 180
WARMUP_REQUESTS = 5
# `/ping` answers in a row that say ready before measuring (each worker warms up on its own).
READY_ANSWERS = 10
UPKEEP_SECONDS = 60.0
"""How often the worker's database upkeep runs during a benchmark, as on the worker."""


@dataclass(frozen=True)
class Call:
    """One HTTP request: method, path with query string, optional JSON body."""

    method: str
    path: str
    json: dict[str, object] | None = None


@dataclass(frozen=True)
class Request:
    """A named request of the benchmark; `make(client, n)` builds the n-th call of a client."""

    name: str
    make: Callable[[int, int], Call]


def requests_for(targets: bench_data.BenchTargets) -> list[Request]:
    """The benchmark's requests, in report order, aimed at `targets`' tickets."""
    ids = targets.ticket_ids
    statuses = [status.value for status in Status]
    deep = encode_cursor(targets.deep_ticket_id)

    def get(path: str) -> Callable[[int, int], Call]:
        return lambda _client, _n: Call("GET", path)

    def create(client: int, n: int) -> Call:
        body = {
            "title": f"Bench ticket {client}-{n}",
            "description": f"Customer {client}-{n} cannot log in after the password reset email.",
        }
        return Call("POST", "/api/tickets/", body)

    def patch(client: int, n: int) -> Call:
        # Clients change different tickets, so they measure the write, not a row lock.
        ticket = ids[(client * 97 + n) % len(ids)]
        return Call("PATCH", f"/api/tickets/{ticket}/", {"status": statuses[n % len(statuses)]})

    def comment(client: int, n: int) -> Call:
        ticket = ids[(client * 53 + n) % len(ids)]
        body = {
            "body": f"Bench note {client}-{n}: checked the invoice and the refund.",
            "public": False,
        }
        return Call("POST", f"/api/tickets/{ticket}/comments/", body)

    return [
        Request("first page", get("/api/tickets/?limit=50")),
        Request("enum filters", get("/api/tickets/?status=open&category=billing&limit=50")),
        Request("deep page (90%)", get(f"/api/tickets/?limit=50&cursor={deep}")),
        Request(
            f"rare search ({bench_data.RARE_TERM})",
            get(f"/api/tickets/?search={bench_data.RARE_TERM}&limit=50"),
        ),
        Request(
            f"common search ({bench_data.COMMON_TERM})",
            get(f"/api/tickets/?search={bench_data.COMMON_TERM}&limit=50"),
        ),
        Request(
            f'phrase search ("{bench_data.PHRASE}")',
            get(f"/api/tickets/?search=%22{quote(bench_data.PHRASE)}%22&limit=50"),
        ),
        Request(
            f"no-hit search ({bench_data.NO_HIT_TERM})",
            get(f"/api/tickets/?search={bench_data.NO_HIT_TERM}&limit=50"),
        ),
        Request(
            f"best match ({bench_data.COMMON_TERM} {bench_data.RARE_TERM[:3]}*)",
            get(
                f"/api/tickets/?search={bench_data.COMMON_TERM}+{bench_data.RARE_TERM[:3]}*"
                "&sort=relevance&limit=50"
            ),
        ),
        Request("stats", get("/api/tickets/stats/")),
        Request("stats priority+status", get("/api/tickets/stats/?priority=critical&status=open")),
        Request(
            "ticket by id",
            lambda client, n: Call("GET", f"/api/tickets/{ids[(client * 31 + n) % len(ids)]}/"),
        ),
        Request(
            "similar tickets",
            lambda client, n: Call(
                "GET", f"/api/tickets/{ids[(client * 17 + n) % len(ids)]}/similar/"
            ),
        ),
        Request("create (classified)", create),
        Request("PATCH status", patch),
        Request("comment", comment),
    ]


@dataclass
class Result:
    """Latencies (ms) of one request at one client count, with errors and the load average."""

    request: str
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    load: float = 0.0

    def percentile(self, share: float) -> float:
        """The latency below which `share` (0..1) of the requests finished, in ms."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def row(self) -> list[str]:
        """The table row: request, clients, n, p50, p95, p99, req/s, errors, load."""
        p50 = statistics.median(self.latencies) if self.latencies else 0.0
        return [
            self.request,
            str(self.clients),
            str(len(self.latencies)),
            f"{p50:.1f}",
            f"{self.percentile(0.95):.1f}",
            f"{self.percentile(0.99):.1f}",
            f"{len(self.latencies) / self.seconds:.0f}",
            str(self.errors),
            f"{self.load:.2f}",
        ]


HEADERS = ["request", "clients", "n", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors", "load"]


def format_table(results: list[Result]) -> str:
    """Results as a Markdown table (readable in a terminal, pasteable into docs)."""
    rows = [HEADERS, *(result.row() for result in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def _run(base: str, token: str, request: Request, clients: int, seconds: float) -> Result:
    """`clients` threads send `request` back to back for `seconds`; the warm-up is not counted."""
    result = Result(request.name, clients, seconds)
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(number: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            for n in range(WARMUP_REQUESTS):
                call = request.make(number, -1 - n)
                http.request(call.method, call.path, json=call.json)
            start.wait()
            stop_at = time.perf_counter() + seconds
            n = 0
            while time.perf_counter() < stop_at:
                call = request.make(number, n)
                began = time.perf_counter()
                answer = http.request(call.method, call.path, json=call.json)
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    result.latencies.append(elapsed)
                    result.errors += not answer.is_success
                n += 1

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.load = os.getloadavg()[0]
    return result


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVED_API = "ticket_app.api.app:create_served_api"


def _database_upkeep(stop: threading.Event) -> None:
    """The worker's every-minute jobs that change what a request costs, until `stop` is set.

    The count fold and the merge of the search indexes' pending lists, at once (as the worker
    does at its start) and then every UPKEEP_SECONDS: the served set-up runs them on its
    worker, which the benchmark does not start (its mail and SLA jobs have nothing to do here).
    """
    while True:
        counts.fold_count_deltas()
        gin_pending.clean_pending_lists()
        if stop.wait(UPKEEP_SECONDS):
            return


def start_server(
    database_url: str,
    port: int,
    workers: int = 1,
    factory: str = SERVED_API,
    root: Path = PROJECT_ROOT,
) -> subprocess.Popen[bytes]:
    """The API alone under granian with `workers` processes on `port`.

    `factory` is the app factory granian calls, `module:function` (default the API as served,
    its models loaded at start); `root` the checkout whose code it runs (default this one).
    Rate limits and the Gemini key are off (see the module).
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(root),
        # One token does the work of many clients: the per-user limits would measure themselves.
        "RATE_LIMIT_WRITES": "",
        "RATE_LIMIT_READS": "",
        "RATE_LIMIT_SEARCHES": "",
        "RATE_LIMIT_SIMILAR": "",
        "EXPENSIVE_READS_PER_USER": "0",
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "",
    }
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", factory]
    return subprocess.Popen(command, cwd=root, env=env)


def wait_until_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    """Wait until `base`'s `/ping` answers 200 (up, models loaded); RuntimeError after 180 s.

    With several workers, each answers for itself: a few answers in a row must be 200.
    """
    deadline = time.monotonic() + SERVER_START_SECONDS
    ready_in_a_row = 0
    while ready_in_a_row < READY_ANSWERS:
        try:
            ready = httpx.get(f"{base}/ping", timeout=1).status_code == 200
        except httpx.TransportError:
            ready = False
        ready_in_a_row = ready_in_a_row + 1 if ready else 0
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the benchmark's API server did not start")
        if not ready:
            time.sleep(0.2)


@dataclass(frozen=True)
class BenchRun:
    """A finished benchmark: tickets stored, tickets loaded and how long that took, results."""

    tickets: int
    loaded: int
    load_seconds: float
    results: list[Result]


def run_bench(
    database_url: str,
    tickets: int,
    *,
    clients: list[int],
    seconds: float,
    seed: int = 7,
    workers: int = 1,
    only: str = "",
    progress: Callable[[str], None] = lambda _line: None,
) -> BenchRun:
    """Fill the (migrated) database at `database_url` up to `tickets`, then measure.

    Tickets already there count towards `tickets`; only the difference is generated, so a
    second run on the same database measures at once. Each request runs `seconds` at each
    client count in `clients` (all requests at the first count, then the next), against
    `workers` server processes; with `only`, just the requests whose name starts with it. The token
    created for the run is revoked at the end; the generated admin and tickets
    (and those the create and PATCH requests made or changed) stay. `progress` gets one line
    per step. Raises RuntimeError when the server does not start, DatabaseUnavailableError when
    the database is down.
    """
    use_database(database_url)
    existing = bench_data.stored_tickets()
    loaded = max(0, tickets - existing)
    load_seconds = 0.0
    if loaded:
        progress(f"loading {loaded:,} generated tickets ...")
        load_seconds = bench_data.load_tickets(database_url, loaded, seed=seed)
        progress(f"loaded {loaded:,} tickets in {load_seconds:.1f} s")
    targets = bench_data.bench_targets()
    admin = bench_data.create_bench_admin()
    port = free_port()
    server = start_server(database_url, port, workers)
    results: list[Result] = []
    stop_upkeep = threading.Event()
    upkeep = threading.Thread(target=_database_upkeep, args=(stop_upkeep,), daemon=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, server)
        upkeep.start()
        requests = [r for r in requests_for(targets) if r.name.startswith(only)]
        for count in clients:
            for request in requests:
                progress(f"{request.name}, {count} client(s) ...")
                results.append(_run(base, admin.token, request, count, seconds))
    finally:
        stop_upkeep.set()
        server.terminate()
        server.wait(timeout=30)
        if upkeep.is_alive():
            upkeep.join()
        bench_data.retire_bench_admin(admin)
    return BenchRun(
        tickets=bench_data.stored_tickets(),
        loaded=loaded,
        load_seconds=load_seconds,
        results=results,
    )


def _client_counts(value: str) -> list[int]:
    """`1,4` as [1, 4]; exit 2 unless every part is a whole number from 1 to 64."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or not all(part.isascii() and part.isdigit() for part in parts):
        raise fail(
            f"--clients must be comma-separated numbers such as 1,4, not {value!r}", EXIT_BAD_INPUT
        )
    counts = [int(part) for part in parts]
    if not all(1 <= count <= 64 for count in counts):
        raise fail("--clients must be between 1 and 64", EXIT_BAD_INPUT)
    return counts


def bench(
    tickets: int = typer.Option(100_000, "--tickets", min=1, help="Tickets to measure with."),
    database_url: str = typer.Option(
        ...,
        "--database-url",
        help="A database of its own (generated tickets are added and stay); PostgreSQL for "
        "meaningful figures.",
    ),
    clients: str = typer.Option("1,4", "--clients", help="Concurrent clients, e.g. 1,4."),
    seconds: float = typer.Option(5.0, "--seconds", min=0.5, help="Run time per row."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="API server processes (granian workers)."
    ),
    only: str = typer.Option(
        "", "--only", help="Measure only the requests whose name starts with this, e.g. 'first'."
    ),
) -> None:
    """Measure every kind of API request through the real HTTP stack, as a table.

    Migrates the database, tops it up to TICKETS generated tickets (COPY on PostgreSQL),
    starts the API under granian and runs: first page, enum filters, deep page, rare and common
    search, stats (all and filtered), ticket by id, similar tickets, create (classified
    offline) and PATCH, at each client count. Prints p50/p95/p99 latency, requests per second,
    errors and the load average.
    """
    client_counts = _client_counts(clients)
    apply_migrations(database_url)
    with service_errors():
        run = run_bench(
            database_url,
            tickets,
            clients=client_counts,
            seconds=seconds,
            workers=workers,
            only=only,
            progress=lambda line: typer.echo(line, err=True),
        )
    loaded = f", {run.loaded:,} loaded in {run.load_seconds:.1f} s" if run.loaded else ""
    typer.echo(
        f"{run.tickets:,} tickets on {make_url(database_url).get_backend_name()}{loaded}; "
        f"API under granian ({workers} worker{'s' if workers > 1 else ''}), "
        f"{os.cpu_count()} CPUs; {seconds:g} s per row"
    )
    typer.echo(format_table(run.results))
