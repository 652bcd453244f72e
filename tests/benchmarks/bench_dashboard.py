"""The dashboard's reads on a large database: each aggregate it runs on a load or a refresh.

Usage: python tests/benchmarks/bench_dashboard.py --database-url URL [--runs 5]

URL names a migrated database (for example one filled by `python -m ticket_app bench`). For
each filter the dashboard is commonly opened with (none, `status=open`, `category=billing`,
`category=billing&status=open`), it times, in process and warm (the first run is reported
apart, as "cold"), each read `ui.state.stats.load_stats_view` makes:

- `ticket_stats(workload=True)` (counts, open per assignee, median first reply),
- `triage_override_stats`,
- `created_and_resolved_per_day` (14 days),
- and the whole `load_stats_view`,

and prints the median and the slowest of `--runs` warm runs, in milliseconds. It reads only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ticket_app.models import Category, Status
from ticket_app.schemas import TicketFilters
from ticket_app.services.database import use_database
from ticket_app.services.stats import (
    created_and_resolved_per_day,
    ticket_stats,
    triage_override_stats,
)
from ticket_app.ui.state.stats import load_stats_view

FILTERS = {
    "all tickets": TicketFilters(),
    "status=open": TicketFilters(status=Status.OPEN),
    "category=billing": TicketFilters(category=Category.BILLING),
    "billing, open": TicketFilters(category=Category.BILLING, status=Status.OPEN),
}


def timed(read: Callable[[], object]) -> float:
    """Milliseconds one call of `read` takes."""
    start = time.perf_counter()
    read()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    use_database(args.database_url)
    print(f"| filter | read | cold ms | median ms (of {args.runs}) | max ms |")
    print("|---|---|---|---|---|")
    for name, filters in FILTERS.items():
        reads: dict[str, Callable[[], object]] = {
            "ticket_stats(workload)": lambda f=filters: ticket_stats(f, workload=True),
            "triage_override_stats": lambda f=filters: triage_override_stats(f),
            "created_and_resolved_per_day": lambda f=filters: created_and_resolved_per_day(f),
            "load_stats_view (all)": lambda f=filters: load_stats_view(f),
        }
        for label, read in reads.items():
            cold = timed(read)
            warm = [timed(read) for _ in range(args.runs)]
            print(
                f"| {name} | {label} | {cold:.1f} | {statistics.median(warm):.1f} "
                f"| {max(warm):.1f} |"
            )


if __name__ == "__main__":
    main()
