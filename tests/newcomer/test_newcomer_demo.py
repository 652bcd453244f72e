"""`python -m ticket_app demo` gives the same tickets for the same seed all day long: two runs
at different times of one UTC day fill two fresh databases with identical numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from ticket_app.cli import app
from ticket_app.cli import demo_data as demo
from ticket_app.services.database import use_database
from ticket_app.services.stats import ticket_stats

runner = CliRunner()
DAY = datetime(2026, 11, 20, tzinfo=UTC).date()


def demo_run(
    tmp_path: Path, name: str, clock: datetime, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict, dict[str, int], list[tuple]]:
    """Run `demo` into a fresh SQLite file with the clock at `clock`; return its stats, status
    counts and every ticket's (external id, status, created, updated)."""
    monkeypatch.setattr(demo, "utc_now", lambda: clock)
    url = f"sqlite:///{tmp_path / name}"
    result = runner.invoke(app, ["demo", "--count", "600", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "added 600 tickets" in result.stdout
    try:
        use_database(url)
        stats = ticket_stats(today=DAY).model_dump()
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT status, count(*) FROM tickets GROUP BY status")
            )
            statuses = {status: count for status, count in rows}
            rows = connection.execute(
                sa.text(
                    "SELECT external_id, status, created_at, updated_at FROM tickets"
                    " ORDER BY external_id"
                )
            )
            tickets = [tuple(row) for row in rows]
        engine.dispose()
    finally:
        use_database("sqlite://")
    return stats, statuses, tickets


def test_two_demo_runs_on_one_day_give_identical_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    early = demo_run(tmp_path, "early.db", datetime(2026, 11, 20, 0, 5, tzinfo=UTC), monkeypatch)
    late = demo_run(tmp_path, "late.db", datetime(2026, 11, 20, 23, 55, tzinfo=UTC), monkeypatch)
    early_stats, early_statuses, early_tickets = early
    late_stats, late_statuses, late_tickets = late
    assert early_stats == late_stats
    assert early_statuses == late_statuses
    assert early_tickets == late_tickets
    assert 0 < early_statuses["open"] < 600
    assert early_stats["open_tickets"] == early_statuses["open"]


def test_demo_tickets_lie_before_the_reference_day() -> None:
    records = [record for _, record in demo.demo_records(300, now=datetime(2026, 11, 20, 9, 30))]
    created = [datetime.fromisoformat(record["created_at"]) for record in records]
    updated = [datetime.fromisoformat(record["updated_at"]) for record in records]
    midnight = datetime(2026, 11, 20, tzinfo=UTC)
    assert max(created) < midnight
    assert max(updated) <= midnight
    assert min(created).date() >= datetime(2026, 8, 21).date()  # 90 days before
    assert demo.reference_day(datetime(2026, 11, 20, 23, 59, tzinfo=UTC)) == midnight
    assert demo.reference_day(DAY) == midnight
