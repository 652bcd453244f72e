"""CPU and wall time of the service's writes, in process: PATCH, create and comment.

Usage: python tests/benchmarks/bench_writes_in_process.py --database-url URL [--writes 400]
       [--rounds 3] [--seed 1]

URL names a database filled by `python -m ticket_app bench`. The HTTP benchmark's
four-client rows share two cores with the server, PostgreSQL and the client, and on this
machine their requests per second moved by more than a factor of two between runs of the same
code (`ticket by id`: 186 to 425 req/s in one morning); this
measures one thing at a time without HTTP: each write through its service function
(`tickets.update_ticket`, `tickets.create_ticket`, `comments.add_comment`) as the benchmark's
admin, `--writes` of each per round, and prints per write the process CPU time (this process
only: PostgreSQL's own work is not in it) and the wall time (which includes PostgreSQL's).
A status PATCH cycles the five statuses over random sample tickets, so some reopen old
tickets whose service levels are breached (an audit event and a notice each, as in use).

To compare two versions, run it from each checkout in turn (`PYTHONPATH=<checkout>`),
alternating. Writes stay in the database; run it on a benchmark database of its own.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ticket_app.cli import bench_data
from ticket_app.schemas import CommentCreate, TicketCreate, TicketUpdate
from ticket_app.services import comments, tickets
from ticket_app.services.database import use_database
from ticket_app.services.identity.tokens import resolve_token

STATUSES = ("open", "in_progress", "pending", "resolved", "closed")
WARM_UP = 50


def measure(write: Callable[[int], object], count: int) -> tuple[float, float]:
    """Milliseconds of CPU and of wall time per call of `write(n)`, over `count` calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(count):
        write(n)
    return (
        1000 * (time.process_time() - cpu) / count,
        1000 * (time.perf_counter() - wall) / count,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    use_database(args.database_url)
    admin = bench_data.create_bench_admin()
    actor = resolve_token(admin.token)
    ids = bench_data.bench_targets().ticket_ids
    rng = random.Random(args.seed)
    writes = {
        "PATCH status": lambda n: tickets.update_ticket(
            rng.choice(ids), TicketUpdate(status=STATUSES[n % len(STATUSES)]), actor=actor
        ),
        "create": lambda n: tickets.create_ticket(
            TicketCreate(
                title=f"In-process bench {n}",
                description="Customer cannot log in after the password reset email.",
                category="account",
                priority="high",
            ),
            actor=actor,
        ),
        "comment": lambda n: comments.add_comment(
            rng.choice(ids),
            CommentCreate(body=f"Bench note {n}: checked the invoice.", public=False),
            actor=actor,
        ),
    }
    try:
        for write in writes.values():
            measure(write, WARM_UP)
        print("| round | write | CPU ms | wall ms |")
        print("|---|---|---|---|")
        for round_number in range(1, args.rounds + 1):
            for name, write in writes.items():
                cpu, wall = measure(write, args.writes)
                print(f"| {round_number} | {name} | {cpu:.2f} | {wall:.2f} |", flush=True)
    finally:
        bench_data.retire_bench_admin(admin)


if __name__ == "__main__":
    main()
