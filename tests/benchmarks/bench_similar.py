"""Similar-ticket search on PostgreSQL at scale: latency and duplicate detection (issues 14, 26).

Usage: TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
       python tests/benchmarks/bench_similar.py [--rows 100000]

Creates a scratch database beside TEST_DATABASE_URL's, migrates it and fills it with generated
tickets drawn word by word with the reference tickets' word frequencies (so common and rare
words are as common as in support text), about half of them open. The 800 reference tickets
themselves are added as open tickets. Then each of the labelled duplicate paraphrases
(`ticket_app/triage/reference_signals/duplicates.jsonl`) is looked up with the service call the
classify answer uses, and precision@1 / recall@5 and the latency (median, p95 in ms) are printed,
with `EXPLAIN ANALYZE` of one lookup's index query (its rarest terms). The scratch database is
dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.database import scratch_postgres_database
from ticket_app.services import similarity as service
from ticket_app.services.database import create_db_engine, use_database
from ticket_app.services.migrations import upgrade_database
from ticket_app.triage.evaluate_common import SIGNALS_DIR, load_reference

STATUSES = ("open", "in_progress", "resolved", "closed")


def generated_rows(count: int, seed: int = 14) -> list[dict[str, object]]:
    """`count` tickets of 30 to 80 words drawn with the reference tickets' word frequencies.

    Words, not sentences, are drawn: a ticket stitched from a reference ticket's sentences would
    be a genuine near-duplicate of it, and detection could not be scored.
    """
    rng = random.Random(seed)
    words = [
        word
        for example in load_reference()
        for word in re.findall(r"[A-Za-z']+", f"{example.title} {example.description}")
    ]
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        text = " ".join(rng.choices(words, k=rng.randint(30, 80)))
        created = now - timedelta(seconds=rng.randrange(365 * 86400))
        rows.append(
            {
                "title": text[:60],
                "description": text,
                "category": "general",
                "priority": "medium",
                "status": rng.choice(STATUSES),
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def main() -> None:
    """Parse arguments and run the benchmark in a scratch database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        sys.exit("set TEST_DATABASE_URL to a PostgreSQL URL")
    with scratch_postgres_database(base, prefix="triage_bench") as url:
        run_benchmark(url, args.rows)


def run_benchmark(url: str, rows_wanted: int) -> None:
    """Fill the database at `url`, then print detection quality, latency and one plan."""
    upgrade_database(url)
    engine = use_database(url)
    # The load is no request: on a busy machine it outlasts the statement timeout.
    loader = create_db_engine(url, statement_timeout_ms=0)
    reference = load_reference()
    now = datetime.now(UTC)
    kept = [
        {
            "title": e.title,
            "description": e.description,
            "category": e.category,
            "priority": e.priority,
            "status": "open",
            "created_at": now,
            "updated_at": now,
        }
        for e in reference
    ]
    started = time.perf_counter()
    rows = generated_rows(rows_wanted)
    table = sa.table("tickets", *(sa.column(c) for c in rows[0]))
    with loader.begin() as connection:
        for first in range(0, len(rows), 10_000):
            connection.execute(table.insert(), rows[first : first + 10_000])
        result = connection.execute(table.insert().returning(sa.column("id")), kept)
        ids = {e.title: row_id for e, (row_id,) in zip(reference, result, strict=True)}
        connection.execute(sa.text("ANALYZE tickets"))
    print(
        f"inserted {rows_wanted} generated + {len(kept)} reference tickets in "
        f"{time.perf_counter() - started:.1f} s"
    )
    pairs = [
        json.loads(line)
        for line in (SIGNALS_DIR / "duplicates.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    timings, first, within = [], 0, 0
    for _ in range(3):
        for pair in pairs:
            began = time.perf_counter()
            found = service.similar_to_text(pair["description"], pair["title"])
            timings.append((time.perf_counter() - began) * 1000)
            wanted = ids[pair["original"]]
            first += bool(found) and found[0].id == wanted
            within += wanted in [item.id for item in found]
    lookups = len(timings)
    timings.sort()
    print(
        f"duplicates ({len(pairs)} paraphrase pairs, 3 rounds): precision@1="
        f"{first / lookups:.3f}  recall@5={within / lookups:.3f}"
    )
    print(
        f"similar_to_text latency over {lookups} lookups: median "
        f"{statistics.median(timings):.1f} ms  p95 {timings[int(0.95 * (lookups - 1))]:.1f} ms  "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    pair = pairs[0]
    with Session(engine) as session:
        terms = service.rare_terms(session, f"{pair['title']}\n{pair['description']}")
        plan = session.execute(
            sa.text("EXPLAIN (ANALYZE, BUFFERS) " + service.PG_LOOKUPS_SQL.text),
            service.pg_lookup_parameters(service.lookups_for(terms), 0),
        ).scalars()
        print(f"\nEXPLAIN ANALYZE of one lookup's index query ({len(terms)} terms):")
        print("\n".join(f"  {line}" for line in plan))


if __name__ == "__main__":
    main()
