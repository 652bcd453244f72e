"""CSV export (service and CLI), the export -> import round trip, and the demo generator."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.conftest import SYSTEM, TEST_PASSWORD
from tests.support.auth import actor_of
from ticket_app.cli import app
from ticket_app.cli.demo_data import demo_records, seed_demo
from ticket_app.models import Category, Status
from ticket_app.schemas import TicketCreate, TicketFilters, TicketRead
from ticket_app.services.exporter import EXPORT_COLUMNS, export_csv
from ticket_app.services.identity import users
from ticket_app.services.imports.runs import import_file
from ticket_app.services.imports.write import import_records
from ticket_app.services.stats import ticket_stats, triage_override_stats
from ticket_app.services.tickets import create_ticket, iter_tickets

runner = CliRunner()
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

TRICKY = [
    {
        "title": 'Quotes "and" commas, here',
        "description": '  Leading spaces, a\nnew line, "quotes" and ünïcödé ✓  ',
        "category": "billing",
        "priority": "critical",
        "status": "in_progress",
        "suggested_category": "technical",
        "suggested_priority": "low",
        "created_at": "2026-03-01T08:00:00.123456+00:00",
        "updated_at": "2026-03-02T09:30:00+00:00",
    },
    {
        "title": "=SUM(A1:A2) looks like a formula",
        "description": "Semicolons; tabs\there; a backslash \\ and 100% of _underscores_",
        "category": "account",
        "priority": "low",
        "status": "closed",
        "created_at": "2026-03-03T10:00:00+00:00",
    },
    {
        "title": "'already quoted",
        "description": "@here -5 refunds +1 and '=not a formula",
        "category": "billing",
        "priority": "high",
        "status": "open",
        "created_at": "2026-03-03T11:00:00+00:00",
    },
    {
        "title": "Plain",
        "description": "Nothing special.",
        "category": "general",
        "priority": "medium",
        "status": "open",
        "created_at": "2026-03-04T10:00:00+00:00",
    },
]


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def fill(rows: list[dict[str, str]]) -> None:
    report = import_records(enumerate(rows, start=1), classify=False)
    assert report.inserted == len(rows), report.errors


def snapshot() -> list[dict[str, object]]:
    """Every ticket without its id, oldest first."""
    return [t.model_dump(exclude={"id"}) for t in reversed(list(iter_tickets()))]


def empty(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM tickets"))


def test_export_then_import_into_an_empty_database_gives_the_same_tickets(
    db: Engine, tmp_path: Path
) -> None:
    fill(TRICKY)
    seed_demo(50, now=NOW)
    before = snapshot()
    target = tmp_path / "export.csv"
    result = runner.invoke(app, ["export", "-o", str(target), "--database-url", url_of(db)])
    assert result.exit_code == 0, result.output
    assert "exported 54 tickets" in result.output

    empty(db)
    report = import_file(target, classify=False)
    assert (report.inserted, report.rejected) == (54, 0)
    assert snapshot() == before


def test_export_filters_and_header(db: Engine) -> None:
    fill(TRICKY)
    result = runner.invoke(
        app, ["export", "--category", "billing", "--search", "COMMAS", "--database-url", url_of(db)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [row["title"] for row in rows] == ['Quotes "and" commas, here']
    assert rows[0]["description"] == TRICKY[0]["description"]
    assert rows[0]["created_at"] == "2026-03-01T08:00:00.123456+00:00"

    closed = "".join(export_csv(TicketFilters(status=Status.CLOSED)))
    assert [r["title"] for r in csv.DictReader(io.StringIO(closed))] == ["'" + TRICKY[1]["title"]]


def test_export_neutralises_spreadsheet_formulas(db: Engine) -> None:
    fill(TRICKY)
    rows = {row["status"]: row for row in csv.DictReader(io.StringIO("".join(export_csv())))}
    assert rows["closed"]["title"] == "'=SUM(A1:A2) looks like a formula"
    billing_open = [
        r for r in csv.DictReader(io.StringIO("".join(export_csv()))) if r["priority"] == "high"
    ]
    assert billing_open[0]["title"] == "''already quoted"
    assert billing_open[0]["description"] == "'@here -5 refunds +1 and '=not a formula"
    assert rows["in_progress"]["title"] == TRICKY[0]["title"]


def test_export_csv_streams_in_chunks(db: Engine) -> None:
    seed_demo(25, now=NOW)
    chunks = list(export_csv(chunk_rows=10))
    assert chunks[0] == ",".join(EXPORT_COLUMNS) + "\r\n"
    assert len(chunks) == 4  # header, 10, 10, 5
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert len(rows) == 25
    # Newest first, like the ticket list.
    assert rows[0]["created_at"] >= rows[-1]["created_at"]


def test_export_of_nothing_is_just_the_header(db: Engine) -> None:
    assert "".join(export_csv()) == ",".join(EXPORT_COLUMNS) + "\r\n"


def test_demo_records_are_deterministic_and_realistic() -> None:
    first = list(demo_records(400, now=NOW))
    assert first == list(demo_records(400, now=NOW))
    assert first != list(demo_records(400, seed=1, now=NOW))
    records = [record for _line, record in first]
    created = [datetime.fromisoformat(r["created_at"]) for r in records]
    assert min(created) >= NOW - timedelta(days=91)
    assert max(created) <= NOW
    assert created == sorted(created)
    assert {r["status"] for r in records} == {s.value for s in Status}
    assert {r["category"] for r in records} == {c.value for c in Category}
    old = [r["status"] for r, c in zip(records, created, strict=True) if NOW - c > timedelta(30)]
    assert old.count("closed") + old.count("resolved") > len(old) * 0.7


def test_seed_demo_is_idempotent_and_fills_the_stats(db: Engine) -> None:
    report = seed_demo(300, now=NOW)
    assert (report.inserted, report.rejected) == (300, 0)
    assert seed_demo(300, now=NOW).inserted == 0
    stats = ticket_stats(today=NOW.date())
    assert stats.total_tickets == 300
    assert 0 < stats.open_tickets < 300
    assert all(stats.category_breakdown.values())
    overrides = triage_override_stats()
    assert 0 < overrides.overridden < overrides.suggested < 300


def test_cli_demo_fills_its_own_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(app, ["demo", "--count", "120", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "added 120 tickets" in result.output
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one() == 120
    engine.dispose()


def test_export_writes_numbers_as_numbers_and_guards_text_only(db: Engine) -> None:
    """A sentiment score of -0.477 was written as text (`'-0.477`): the formula guard took the
    minus sign for a formula (issue 25, item 17)."""
    fill(TRICKY)
    with db.begin() as connection:
        connection.execute(sa.text("UPDATE tickets SET sentiment_score = -0.477"))
    rows = list(csv.DictReader(io.StringIO("".join(export_csv()))))
    assert {row["sentiment_score"] for row in rows} == {"-0.477"}
    guarded = [row for row in rows if row["priority"] == "high"]
    assert guarded[0]["description"] == "'@here -5 refunds +1 and '=not a formula"


def test_export_names_the_assignee_and_creator_by_email_in_the_last_columns(db: Engine) -> None:
    users.create_user("agent@example.com", "agent", TEST_PASSWORD, actor=SYSTEM)
    users.create_user("=lead@example.com", "admin", TEST_PASSWORD, actor=SYSTEM)
    agent, lead = (actor_of(email) for email in ("agent@example.com", "=lead@example.com"))
    create_ticket(
        TicketCreate(title="Assigned", description="Printer on fire", assignee_id=agent.user_id),
        actor=lead,
    )
    create_ticket(TicketCreate(title="Nobody's", description="Printer jammed"), actor=SYSTEM)
    rows = list(csv.reader(io.StringIO("".join(export_csv()))))
    header = rows[0]
    # The ticket's own columns keep their positions; the addresses come after them.
    assert header[: len(TicketRead.model_fields)] == list(TicketRead.model_fields)
    assert header[-2:] == ["assignee_email", "created_by_email"]
    by_title = {row[header.index("title")]: row for row in rows[1:]}
    assert by_title["Assigned"][-2:] == ["agent@example.com", "'=lead@example.com"]
    assert by_title["Nobody's"][-2:] == ["", ""]
