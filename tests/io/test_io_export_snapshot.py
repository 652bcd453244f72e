"""Export as one snapshot, and failures that cannot pass for a complete file.

On SQLite and PostgreSQL (the `db` fixture): the service, the HTTP route (in-process and behind
a real server, granian, as `serve` runs it) and the CLI.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.support.faults import dropping_after
from tests.support.server import free_port, start_server
from ticket_app.cli import app
from ticket_app.models import Ticket
from ticket_app.services import exporter
from ticket_app.services.errors import DatabaseUnavailableError
from ticket_app.services.exporter import EXPORT_COLUMNS, export_csv
from ticket_app.settings import PROJECT_ROOT

runner = CliRunner()
START = datetime(2026, 1, 1, tzinfo=UTC)


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def seed(engine: Engine, count: int) -> None:
    """`count` tickets one minute apart, ticket n created at START + n minutes."""
    rows = [
        {
            "title": f"Ticket {n}",
            "description": f"Description of ticket {n}.",
            "category": "general",
            "priority": "low",
            "status": "open",
            "created_at": START + timedelta(minutes=n),
            "updated_at": START + timedelta(minutes=n),
        }
        for n in range(1, count + 1)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(Ticket.__table__), rows)


def table(engine: Engine) -> dict[int, tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(Ticket.id, Ticket.title, Ticket.status)).all()
    return {row.id: (row.title, row.status) for row in rows}


def exported(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def causes(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def test_changes_during_a_long_export_are_neither_skipped_nor_repeated(db: Engine) -> None:
    seed(db, 40)
    before = table(db)
    chunks = export_csv(chunk_rows=5)
    text = next(chunks) + next(chunks)  # header, then tickets 40..36 (newest first)

    # While the export runs: a backdated ticket lands among the rows not yet read (as an import
    # of history does), an unread ticket moves to the front (already passed) and a read one to
    # the end (still to come), and an unread ticket is edited.
    with db.begin() as connection:
        connection.execute(
            sa.insert(Ticket.__table__).values(
                title="Imported meanwhile",
                description="Backdated.",
                category="general",
                priority="low",
                status="open",
                created_at=START + timedelta(minutes=10, seconds=30),
                updated_at=START,
            )
        )
        moves = {10: START + timedelta(days=9), 38: START - timedelta(days=9)}
        for ticket_id, created_at in moves.items():
            connection.execute(
                sa.update(Ticket).where(Ticket.id == ticket_id).values(created_at=created_at)
            )
        connection.execute(
            sa.update(Ticket).where(Ticket.id == 20).values(title="Edited meanwhile")
        )
    text += "".join(chunks)

    rows = exported(text)
    ids = [int(row["id"]) for row in rows]
    assert sorted(ids) == sorted(before)  # each ticket once: none skipped, none repeated
    assert {int(row["id"]): (row["title"], row["status"]) for row in rows} == before
    assert ids == list(range(40, 0, -1))  # the order of the moment the export started
    assert len(table(db)) == 41  # the writes did happen


def test_an_outage_before_the_export_starts_is_a_503(
    client: TestClient, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db, 3)

    def down(*_args: object) -> Iterator[object]:
        raise DatabaseUnavailableError("The database is unavailable; try again in a moment.")
        yield

    monkeypatch.setattr(exporter, "iter_snapshot", down)
    response = client.get("/api/tickets/export/")
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_a_connection_lost_mid_export_aborts_the_response(
    client: TestClient, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db, 1200)
    monkeypatch.setattr(exporter, "iter_snapshot", dropping_after(700))
    # The error escapes the app after the response started: the server cannot end the chunked
    # body cleanly (the real-server test below shows what the client sees).
    with pytest.raises(Exception) as failed:
        client.get("/api/tickets/export/")
    assert any(isinstance(exc, DatabaseUnavailableError) for exc in causes(failed.value))


def test_the_cli_never_leaves_a_short_file(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db, 1200)
    target = tmp_path / "tickets.csv"
    target.write_bytes(b"the previous export\r\n")
    monkeypatch.setattr(exporter, "iter_snapshot", dropping_after(700))
    result = runner.invoke(app, ["export", "-o", str(target), "--database-url", url_of(db)])
    assert result.exit_code == 3
    assert result.output.startswith("error: ")
    assert len(result.output.strip().splitlines()) == 1
    assert target.read_bytes() == b"the previous export\r\n"  # untouched, not a short one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tickets.csv"]  # no partial file

    monkeypatch.undo()
    result = runner.invoke(app, ["export", "-o", str(target), "--database-url", url_of(db)])
    assert result.exit_code == 0, result.output
    assert len(exported(target.read_text())) == 1200


@pytest.mark.timeout(120)
def test_behind_a_real_server_the_client_sees_a_transport_error(
    db: Engine, admin_token: str, tmp_path: Path
) -> None:
    rows = 2000
    seed(db, rows)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url_of(db),
        "EXPORT_FAULT_AFTER_ROWS": "700",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "tests.support.export_server:create"]
    log = tmp_path / "server.log"
    server = start_server(command, log=log, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        server.wait_until_up(f"{base}/api/me/", timeout=30)

        received = bytearray()
        headers = {"Authorization": f"Bearer {admin_token}"}
        with (
            pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"),
            httpx.stream("GET", f"{base}/api/tickets/export/", headers=headers) as response,
        ):
            assert response.status_code == 200, log.read_text()
            for chunk in response.iter_bytes():
                received += chunk
        # What arrived is a prefix of the export, and the client knows it is incomplete.
        got = exported(received.decode())
        assert list(got[0]) == list(EXPORT_COLUMNS)
        assert 0 < len(got) < rows
    finally:
        server.stop()
