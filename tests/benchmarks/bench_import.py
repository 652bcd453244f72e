"""Import throughput: generate a CSV of N tickets, import it with the classifier off, print rows/s.

Not a pytest test (the file name does not start with test_). Run it against a database you can
fill and throw away:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        python tests/benchmarks/bench_import.py --rows 50000

Without --database-url it uses TEST_DATABASE_URL, then DATABASE_URL, then a SQLite file in a
temporary folder. On PostgreSQL it creates a fresh scratch database beside the given one and
drops it afterwards; a SQLite URL is used as is (point it at a scratch file). It prints the
rate, and whether any count behind the stats and list totals differs from the tickets
afterwards (`services.counts.rebuild_counts`).

Every row carries both labels, so none is classified but each gets its offline triage signals
(language, sentiment, frustration), read in the importer's process while the previous batch is
written. Measured on a quiet 2-CPU host into PostgreSQL 15 (docs/performance.md, "Importing a
million tickets"): 1,000,000 rows at 2,782 rows/s with every count exact; 30,000 rows at
2,385-2,563 rows/s, against 1,804-2,094 before the batch language detection and migration 0032.
The database's insert sets the pace: its search document, four GIN indexes and 21 btrees.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.database import scratch_postgres_database
from ticket_app.cli.demo_data import demo_records
from ticket_app.services.counts import rebuild_counts
from ticket_app.services.database import use_database
from ticket_app.services.imports.runs import import_file
from ticket_app.services.migrations import upgrade_database

COLUMNS = ("external_id", "title", "description", "category", "priority", "status", "created_at")


def write_csv(path: Path, rows: int) -> None:
    """Write `rows` demo tickets (with external ids) as CSV to `path`."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for _line, record in demo_records(rows, seed=1):
            writer.writerow([record[column] for column in COLUMNS])


def main() -> None:
    """Parse the arguments, run the benchmark, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL"),
    )
    args = parser.parse_args()

    with ExitStack() as stack:
        url = args.database_url
        if not url:
            scratch = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{Path(scratch) / 'bench_import.db'}"
        elif url.startswith("postgresql"):
            url = stack.enter_context(scratch_postgres_database(url, prefix="triage_bench"))
        upgrade_database(url)
        engine = use_database(url)
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "tickets.csv"
            write_csv(source, args.rows)
            size_mb = source.stat().st_size / 1e6
            started = time.perf_counter()
            report = import_file(source, classify=False, batch_size=args.batch_size)
            elapsed = time.perf_counter() - started
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one()
        # The rebuild compares every stored count with the tickets themselves.
        wrong_counts = len(rebuild_counts().fixes)
        engine.dispose()
        rate = report.inserted / elapsed
        print(
            f"{engine.dialect.name}: imported {report.inserted} rows ({size_mb:.1f} MB CSV) "
            f"in {elapsed:.2f} s = {rate:,.0f} rows/s (batch {args.batch_size}; "
            f"{stored} rows stored, {report.rejected} rejected; "
            f"{wrong_counts} counts differed from the tickets)"
        )


if __name__ == "__main__":
    main()
