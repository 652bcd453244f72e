"""Business-time arithmetic and the SLA clock: calls per second, pure Python (issue 22).

Usage: python tests/benchmarks/bench_sla_clock.py [--calls 100000] [--seed 22]

Prints, for a Berlin office calendar (09:00-12:00 and 13:00-17:00 on weekdays, German holidays)
and for the 24/7 default: `add_business_minutes` with starts spread over a year and targets from
30 minutes to 5 business days; `business_minutes_between` over spans of up to 30 days; and
`compute_sla_state` for generated histories of tickets opened in the 60 days before "now" (0-5
events: a reply, a pending spell, a customer message, a priority change). Each as calls per
second of CPU time (the machine may be shared), and the projected seconds for 100,000 calls.

The due and warning instants that `compute_sla_state` returns do not depend on "now", so they
are stored and a background check of ~100,000 open tickets compares them with the clock in SQL;
recomputing them all (after a calendar edit, or a migration) costs the last line's time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ticket_app.sla.calendar import ALWAYS_OPEN, BusinessCalendar
from ticket_app.sla.clock import (
    CustomerMessaged,
    SlaTargets,
    StaffReplied,
    StatusChanged,
    TargetsChanged,
    TicketHistory,
    compute_sla_state,
)

OFFICE = BusinessCalendar.office_hours(
    "Europe/Berlin", [("09:00", "12:00"), ("13:00", "17:00")], holiday_country="DE"
)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 15, tzinfo=UTC)


def _instant(rng: random.Random) -> datetime:
    return YEAR_START + timedelta(seconds=rng.randrange(365 * 86400))


def _history(rng: random.Random) -> TicketHistory:
    created = NOW - timedelta(seconds=rng.randrange(60 * 86400))
    moments = sorted(
        min(NOW, created + timedelta(minutes=rng.randrange(1, 7 * 1440))) for _ in range(4)
    )
    events = [
        StaffReplied(moments[0]),
        StatusChanged(moments[0], "pending"),
        CustomerMessaged(moments[1]),
        StatusChanged(moments[1], "open"),
        TargetsChanged(moments[2], SlaTargets(60, 240, 960)),
    ]
    return TicketHistory(created, SlaTargets(240, 480, 2400), tuple(events[: rng.randrange(6)]))


def _rate(label: str, calls: list[Callable[[], object]]) -> None:
    started = time.process_time()
    for call in calls:
        call()
    elapsed = time.process_time() - started
    per_second = len(calls) / elapsed
    print(f"{label:<58} {per_second:>10,.0f} calls/s   ({100_000 / per_second:5.2f} s per 100,000)")


def main() -> None:
    """Time each operation on `--calls` generated inputs and print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=22)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    count = arguments.calls
    for name, calendar in (("Berlin office", OFFICE), ("24/7", ALWAYS_OPEN)):
        adds = [(_instant(rng), rng.uniform(30, 5 * 420)) for _ in range(count)]
        spans = [(start, start + timedelta(minutes=rng.randrange(30 * 1440))) for start, _ in adds]
        _rate(
            f"{name}: add_business_minutes",
            [lambda s=s, m=m, c=calendar: c.add_business_minutes(s, m) for s, m in adds],
        )
        _rate(
            f"{name}: business_minutes_between",
            [lambda a=a, b=b, c=calendar: c.business_minutes_between(a, b) for a, b in spans],
        )
    histories = [_history(rng) for _ in range(count)]
    _rate(
        "Berlin office: compute_sla_state (0-5 events)",
        [lambda h=h: compute_sla_state(h, OFFICE, NOW) for h in histories],
    )


if __name__ == "__main__":
    main()
