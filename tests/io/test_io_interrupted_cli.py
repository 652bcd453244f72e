"""Residue of interrupted CLI work is cleaned up: killed imports and killed exports.

Real processes (`python -m ticket_app`) are killed with SIGKILL or SIGTERM part-way:

- a killed import's run no longer stays `running` forever: once silent for
  IMPORT_STALE_AFTER_SECONDS it is marked `failed` by the next `migrate` (or `serve`, or
  import); a live import keeps its run alive with a heartbeat;
- a killed export's hidden partial file is removed by the next export to the same file, and
  SIGTERM removes it at once.

On SQLite and PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.io.test_io_export_stalled import seed
from ticket_app.cli import app
from ticket_app.models import ImportRun, utc_now
from ticket_app.services.export_files import partial_path
from ticket_app.services.imports.runs import fail_stale_runs, heartbeat
from ticket_app.settings import PROJECT_ROOT, get_settings

runner = CliRunner()
STALE_AFTER = 1.0
RUNS = ImportRun.__table__


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def stale_after_one_second(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IMPORT_STALE_AFTER_SECONDS", str(STALE_AFTER))
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("IMPORT_STALE_AFTER_SECONDS")
    get_settings.cache_clear()


def run_rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(RUNS).order_by(RUNS.c.id)).mappings()
        return [dict(row) for row in rows]


def cli_process(engine: Engine, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ticket_app", *args, "--database-url", url_of(engine)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.timeout(180)
def test_a_killed_import_is_marked_failed_by_the_next_migrate(
    db: Engine, tmp_path: Path, stale_after_one_second: None
) -> None:
    source = tmp_path / "tickets.csv"
    with source.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "title", "description", "category", "priority"])
        for n in range(60_000):
            writer.writerow([f"x-{n}", f"Ticket {n}", f"Printer {n} is on fire.", "general", "low"])
    importing = cli_process(
        db, "import", str(source), "--no-classify", "--batch-size", "200", "--quiet",
        IMPORT_STALE_AFTER_SECONDS=str(STALE_AFTER),
    )  # fmt: skip
    try:
        wait_for(lambda: any(run["inserted"] for run in run_rows(db)))
    finally:
        importing.send_signal(signal.SIGKILL)
        importing.wait(timeout=30)
    [run] = run_rows(db)
    assert run["status"] == "running"  # a killed process cannot say otherwise
    assert run["heartbeat_at"] is not None

    time.sleep(STALE_AFTER + 0.5)
    result = runner.invoke(app, ["migrate", "--database-url", url_of(db)])
    assert result.exit_code == 0, result.output
    assert f"marked interrupted import run(s) {run['id']} failed" in result.output
    [after] = run_rows(db)
    assert after["status"] == "failed" and after["finished_at"] is not None
    assert after["inserted"] == run["inserted"]  # the counts of its committed batches stay

    again = runner.invoke(app, ["migrate", "--database-url", url_of(db)])
    assert "marked" not in again.output


def test_a_live_import_keeps_its_run_alive_with_a_heartbeat(
    db: Engine, stale_after_one_second: None
) -> None:
    long_ago = utc_now() - timedelta(hours=1)
    with db.begin() as connection:
        run_id = connection.execute(
            RUNS.insert()
            .values(
                file_name="big.csv", content_sha256="0" * 64, size_bytes=1, actor_kind="import",
                actor_label="import", status="running", started_at=long_ago,
            )
            .returning(RUNS.c.id)
        ).scalar_one()  # fmt: skip
    with heartbeat(run_id):
        time.sleep(STALE_AFTER * 1.5)  # several beats
        assert fail_stale_runs() == []
    assert run_rows(db)[0]["status"] == "running"
    time.sleep(STALE_AFTER + 0.3)  # silent: as if killed
    assert fail_stale_runs() == [run_id]
    assert run_rows(db)[0]["status"] == "failed"


def exited_pid() -> int:
    """The process id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.timeout(120)
def test_a_partial_file_of_a_killed_export_is_removed_by_the_next_export(
    db: Engine, tmp_path: Path
) -> None:
    seed(db)
    target = tmp_path / "tickets.csv"
    target.write_bytes(b"the previous export\r\n")
    exporting = cli_process(db, "export", "-o", str(target))
    try:
        wait_for(lambda: partial_path(target, exporting.pid).exists())
    finally:
        exporting.send_signal(signal.SIGKILL)
        exporting.wait(timeout=30)
    left = partial_path(target, exporting.pid)
    assert left.exists()  # SIGKILL cannot be caught
    legacy = tmp_path / ".tickets.csv.partial"  # the name earlier versions used
    legacy.write_text("id\r\n")
    live = partial_path(target, os.getppid())  # an export still running elsewhere: kept
    live.write_text("id\r\n")
    other = partial_path(tmp_path / "other.csv", exited_pid())  # another target: not ours
    other.write_text("id\r\n")
    assert target.read_bytes() == b"the previous export\r\n"

    result = runner.invoke(app, ["export", "-o", str(target), "--database-url", url_of(db)])
    assert result.exit_code == 0, result.output
    assert not left.exists() and not legacy.exists()
    assert live.exists() and other.exists()
    with target.open(newline="", encoding="utf-8") as exported:
        assert len(list(csv.DictReader(exported))) == 8000


@pytest.mark.serial  # the signal must land while the export is still writing
@pytest.mark.timeout(120)
def test_sigterm_removes_the_partial_file_at_once(db: Engine, tmp_path: Path) -> None:
    seed(db)
    target = tmp_path / "tickets.csv"
    exporting = cli_process(db, "export", "-o", str(target))
    try:
        wait_for(lambda: partial_path(target, exporting.pid).exists())
        exporting.send_signal(signal.SIGTERM)
        # 143 (128 + SIGTERM), or 3 when the signal lands inside SQLite's progress callback,
        # which reports it as an interrupted statement: either way the export stopped.
        assert exporting.wait(timeout=30) in (128 + signal.SIGTERM, 3)
    finally:
        exporting.kill()
    assert list(tmp_path.iterdir()) == []


# Moments after the partial file appears at which SIGTERM is sent, in milliseconds.
SIGNAL_DELAYS_MS = (0, 5, 10, 15, 20, 30, 40, 60)


@pytest.mark.serial  # the signal must land while the export is still writing
@pytest.mark.timeout(300)
def test_sigterm_at_any_moment_of_the_export_ends_it_cleanly(db: Engine, tmp_path: Path) -> None:
    """Wherever the signal lands (a row being read, a finalizer), the export stops, leaving nothing.

    Raised inside pydantic's attribute read, the SystemExit came out as a ValidationError (exit
    1); raised where Python only reports it, it was lost and the export finished (exit 0). One
    export per delay in SIGNAL_DELAYS_MS, all from the same seeded tickets.
    """
    seed(db)
    target = tmp_path / "tickets.csv"
    for delay_ms in SIGNAL_DELAYS_MS:
        exporting = cli_process(db, "export", "-o", str(target))
        try:
            wait_for(partial_path(target, exporting.pid).exists)
            time.sleep(delay_ms / 1000)
            exporting.send_signal(signal.SIGTERM)
            exit_code = exporting.wait(timeout=30)
        finally:
            exporting.kill()
        assert exit_code in (128 + signal.SIGTERM, 3), f"SIGTERM after {delay_ms} ms"
        assert list(tmp_path.iterdir()) == [], f"SIGTERM after {delay_ms} ms"
