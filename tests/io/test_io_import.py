"""Ticket import: services directly and the CLI, on SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.conftest import SYSTEM
from ticket_app.cli import app
from ticket_app.models import Category, Priority
from ticket_app.schemas import TicketCreate
from ticket_app.services.imports.prepare import derive_title
from ticket_app.services.imports.read import ImportFileError, parse_column_map
from ticket_app.services.imports.runs import import_file
from ticket_app.services.tickets import create_ticket, iter_tickets
from ticket_app.settings import PROJECT_ROOT
from ticket_app.triage import OfflineClassifier, TriageSuggestion

FIXTURES = Path(__file__).parent / "fixtures"
BITEXT = PROJECT_ROOT.parent / "shared" / "data" / "bitext" / "bitext_customer_support_4514.csv"
runner = CliRunner()


class FixedClassifier:
    """Suggests billing/high for everything and counts the calls."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.fail_after = fail_after

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt
        return TriageSuggestion(Category.BILLING, Priority.HIGH, 0.9, 0.9, "offline", "test")


class FailingClassifier:
    """Every call fails, as an outside service might."""

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        raise RuntimeError("classifier down")


# The triage signal columns a created ticket stores (services.triage_signals.signal_columns).
SIGNAL_COLUMNS = (
    "suggestion_source",
    "suggested_category_confidence",
    "suggested_priority_confidence",
    "suggested_title",
    "language",
    "sentiment",
    "sentiment_score",
    "frustrated",
)
GERMAN_FRUSTRATED = (
    "Ich schreibe Ihnen jetzt zum dritten Mal, weil meine Rechnung immer noch falsch ist. "
    "Das ist wirklich ärgerlich und ich werde kündigen."
)
ENGLISH_ANGRY = (
    "This is the third time I write about this. My invoice is still wrong and nobody answers. "
    "This is unacceptable and terrible service!"
)
ENGLISH_CALM = "My password reset email never arrived, please help."


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def stored(engine: Engine) -> dict[str, dict[str, object]]:
    """Every stored ticket by external id (or title when it has none)."""
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM tickets")).mappings().all()
    return {row["external_id"] or row["title"]: dict(row) for row in rows}


def stored_by_id(engine: Engine, ticket_id: int) -> dict[str, object]:
    with engine.connect() as connection:
        query = sa.text("SELECT * FROM tickets WHERE id = :id")
        return dict(connection.execute(query, {"id": ticket_id}).mappings().one())


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one()


def write_generated_csv(path: Path, rows: int, *, with_ids: bool = True) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "title", "description", "category", "priority"])
        for number in range(1, rows + 1):
            writer.writerow(
                [
                    f"G-{number}" if with_ids else "",
                    f"Generated ticket {number}",
                    f"Generated description number {number}.",
                    "general",
                    "low",
                ]
            )


def test_csv_import_stores_good_rows_and_reports_bad_ones_by_line(db: Engine) -> None:
    classifier = FixedClassifier()
    report = import_file(FIXTURES / "tickets.csv", classifier=classifier, batch_size=2)

    assert (report.rows, report.inserted, report.rejected) == (7, 4, 3)
    assert [(e.line, e.field) for e in report.errors] == [
        (6, "status"),
        (7, "created_at"),
        (8, "description"),
    ]
    assert "'done' is not one of open, in_progress, pending, resolved, closed" in str(
        report.errors[0]
    )
    assert str(report.errors[2]) == "line 8: description: is missing or blank"

    tickets = stored(db)
    assert set(tickets) == {"T-1", "T-2", "T-3", "T-7"}
    first = tickets["T-1"]
    assert (first["category"], first["priority"], first["status"]) == ("account", "high", "open")
    assert first["suggested_category"] is None
    # No title: the description's first sentence; labels in any case are accepted.
    second = tickets["T-2"]
    assert second["title"] == "Charged twice for the Team plan."
    assert (second["category"], second["priority"], second["status"]) == (
        "billing",
        "low",
        "resolved",
    )
    assert "\n" in tickets["T-3"]["description"]
    # Unknown labels go to the classifier, whose suggestion is kept.
    unknown = tickets["T-7"]
    assert (unknown["category"], unknown["priority"]) == ("billing", "high")
    assert (unknown["suggested_category"], unknown["suggested_priority"]) == ("billing", "high")
    assert unknown["status"] == "closed"
    assert classifier.calls == 1
    assert report.classified == 1


def test_imported_timestamps_are_utc(db: Engine) -> None:
    import_file(FIXTURES / "tickets.csv", classify=False)
    by_id = {t.title: t for t in iter_tickets()}
    assert by_id["Cannot log in"].created_at == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert by_id["Cannot log in"].updated_at == by_id["Cannot log in"].created_at
    assert by_id["Export broken"].created_at == datetime(2026, 1, 7, 11, 15, tzinfo=UTC)
    # A timestamp without an offset is taken as UTC.
    charged = by_id["Charged twice for the Team plan."]
    assert charged.created_at == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)


def test_jsonl_import(db: Engine) -> None:
    report = import_file(FIXTURES / "tickets.jsonl", classifier=FixedClassifier())

    assert (report.rows, report.inserted, report.rejected) == (7, 3, 4)
    assert [(e.line, e.field) for e in report.errors] == [
        (4, "description"),
        (5, None),
        (6, None),
        (7, "title"),
    ]
    assert "not valid JSON" in report.errors[1].message
    tickets = stored(db)
    assert set(tickets) == {"J-1", "J-2", "5"}
    assert tickets["J-2"]["title"] == "How do I change the email on my account?"
    assert tickets["J-1"]["suggested_category"] is None
    assert tickets["J-2"]["suggested_category"] == "billing"
    assert [t.created_at for t in iter_tickets() if t.title.startswith("Numbers")] == [
        datetime(2026, 2, 1, 11, 0, tzinfo=UTC)
    ]


def test_no_classify_falls_back_to_general_medium(db: Engine) -> None:
    report = import_file(FIXTURES / "tickets.csv", classify=False)
    assert report.classified == 0
    unknown = stored(db)["T-7"]
    assert (unknown["category"], unknown["priority"]) == ("general", "medium")
    assert unknown["suggested_category"] is None


def test_rerun_skips_rows_whose_external_id_is_stored(db: Engine) -> None:
    import_file(FIXTURES / "tickets.csv", classify=False)
    again = import_file(FIXTURES / "tickets.csv", classify=False)
    assert (again.inserted, again.already_present, again.rejected) == (0, 4, 3)
    assert count(db) == 4


def test_interrupted_import_keeps_whole_batches_and_a_rerun_completes_it(
    db: Engine, tmp_path: Path
) -> None:
    source = tmp_path / "unlabelled.csv"
    with source.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "description"])
        writer.writerows([f"U-{n}", f"Ticket text {n}"] for n in range(1, 26))

    with pytest.raises(KeyboardInterrupt):
        import_file(source, classifier=FixedClassifier(fail_after=12), batch_size=5)
    assert count(db) == 10  # batches 1-2 committed, batch 3 interrupted before its write

    report = import_file(source, classifier=FixedClassifier(), batch_size=5)
    assert (report.inserted, report.already_present) == (15, 10)
    assert count(db) == 25


@pytest.mark.timeout(180)
def test_killed_import_process_leaves_only_whole_batches(db: Engine, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    write_generated_csv(source, 30_000)
    command = [sys.executable, "-m", "ticket_app", "import", str(source), "--no-classify"]
    command += ["--batch-size", "500", "--quiet", "--database-url", url_of(db)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while count(db) == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    partial = count(db)
    assert partial % 500 == 0

    result = runner.invoke(
        app, ["import", str(source), "--no-classify", "-q", "--database-url", url_of(db)]
    )
    assert result.exit_code == 0, result.output
    assert f"imported {30_000 - partial}, already present {partial}" in result.output
    assert count(db) == 30_000


def test_line_ids_make_files_without_ids_idempotent(db: Engine, tmp_path: Path) -> None:
    source = tmp_path / "noids.csv"
    write_generated_csv(source, 12, with_ids=False)
    first = import_file(source, classify=False, line_ids=True, batch_size=5)
    second = import_file(source, classify=False, line_ids=True)
    assert (first.inserted, second.inserted, second.already_present) == (12, 0, 12)
    assert "noids.csv:2" in stored(db)


def test_cli_import_with_map_derives_titles(db: Engine) -> None:
    result = runner.invoke(
        app,
        [
            "import",
            str(FIXTURES / "instructions.csv"),
            "--map",
            "description=utterance",
            "--database-url",
            url_of(db),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "read 3 rows: imported 3, already present 0, rejected 0, classified 3" in result.output
    tickets = stored(db)
    assert set(tickets) == {
        "I want to cancel my order 1234 please",
        "my invoice shows the wrong amount",
        "cannot log in to my account after the update",
    }
    for ticket in tickets.values():
        assert ticket["category"] in {c.value for c in Category}
        assert ticket["suggested_category"] == ticket["category"]
        assert ticket["suggested_priority"] == ticket["priority"]


def test_cli_import_exit_code_and_errors_for_bad_rows(db: Engine) -> None:
    result = runner.invoke(
        app,
        ["import", str(FIXTURES / "tickets.csv"), "--no-classify", "--database-url", url_of(db)],
    )
    assert result.exit_code == 1
    assert "line 6: status: 'done' is not one of" in result.output
    assert "line 7: created_at: 'yesterday' is not an ISO 8601 timestamp" in result.output
    assert "read 7 rows: imported 4, already present 0, rejected 3" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "colour=utterance"], "unknown field 'colour'"),
        (["--map", "description"], "expected FIELD=COLUMN"),
        (["--map", "description=nope"], "the file has no column 'nope'"),
        ([], "no 'description' column"),
        (["--format", "xml"], "unknown format 'xml'"),
    ],
)
def test_cli_import_refuses_bad_usage_with_exit_2(
    db: Engine, args: list[str], message: str
) -> None:
    result = runner.invoke(
        app, ["import", str(FIXTURES / "instructions.csv"), *args, "--database-url", url_of(db)]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert count(db) == 0


def test_cli_import_refuses_unmigrated_database(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["import", str(FIXTURES / "tickets.csv"), "--database-url", f"sqlite:///{tmp_path}/x.db"],
    )
    assert result.exit_code == 3
    assert "run `python -m ticket_app migrate` first" in result.output


def test_broken_encoding_is_a_file_error(db: Engine, tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes("description\ncaf\xe9 is closed\n".encode("latin-1"))
    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_file(source, classify=False)


def test_derive_title() -> None:
    assert derive_title("  Printer jammed. It beeps!") == "Printer jammed."
    assert derive_title("first line\nsecond line") == "first line"
    long = derive_title("word " * 100)
    assert len(long) <= 200
    assert long.endswith("word…")


def test_parse_column_map() -> None:
    assert parse_column_map(["Description = instruction", "category="]) == {
        "description": "instruction",
        "category": "",
    }


@pytest.mark.skipif(not BITEXT.exists(), reason=f"shared Bitext set not present at {BITEXT}")
@pytest.mark.timeout(600)
# Alone: beside the parallel suite a 1,000-row batch on SQLite outran the 5 s statement timeout.
@pytest.mark.serial
def test_bitext_set_imports_completely(db: Engine) -> None:
    args = ["import", str(BITEXT), "--map", "description=instruction", "--line-ids", "-q"]
    args += ["--database-url", url_of(db)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "read 4514 rows: imported 4514, already present 0, rejected 0" in result.output
    assert count(db) == 4514

    again = runner.invoke(app, [*args, "--no-classify"])
    assert "read 4514 rows: imported 0, already present 4514, rejected 0" in again.output
    assert count(db) == 4514


def test_labelled_rows_get_the_offline_signals_of_their_text(db: Engine, tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "signals.jsonl",
        [
            {"external_id": "DE", "description": GERMAN_FRUSTRATED, "category": "billing",
             "priority": "medium"},
            {"external_id": "ANGRY", "description": ENGLISH_ANGRY, "category": "billing",
             "priority": "high"},
            {"external_id": "CALM", "description": ENGLISH_CALM, "category": "account",
             "priority": "low"},
            # The classifier fails for this one: general/medium and the offline signals.
            {"external_id": "FAILED", "description": ENGLISH_ANGRY},
        ],
    )  # fmt: skip
    report = import_file(source, classifier=FailingClassifier(), batch_size=3)

    assert (report.inserted, report.classified) == (4, 1)
    tickets = stored(db)
    german, angry, calm = tickets["DE"], tickets["ANGRY"], tickets["CALM"]
    assert (german["language"], bool(german["frustrated"])) == ("de", True)
    assert (angry["language"], bool(angry["frustrated"]), angry["sentiment"]) == (
        "en",
        True,
        "negative",
    )
    assert angry["sentiment_score"] < -0.05
    assert (calm["language"], bool(calm["frustrated"]), calm["sentiment"]) == (
        "en",
        False,
        "neutral",
    )
    failed = tickets["FAILED"]
    assert (failed["category"], failed["priority"]) == ("general", "medium")
    assert [failed[name] for name in SIGNAL_COLUMNS] == [angry[name] for name in SIGNAL_COLUMNS]
    # No suggestion was made for any of them: its columns stay empty.
    for ticket in tickets.values():
        assert ticket["suggestion_source"] is None
        assert ticket["suggested_category_confidence"] is None
        assert ticket["suggested_title"] is None


def test_classified_rows_store_the_suggestion_like_a_created_ticket(
    db: Engine, tmp_path: Path
) -> None:
    source = write_jsonl(
        tmp_path / "classify.jsonl",
        [
            {"external_id": "ASK", "title": "Invoice wrong", "description": ENGLISH_ANGRY},
            {"external_id": "DE", "description": GERMAN_FRUSTRATED, "category": "billing"},
        ],
    )
    report = import_file(source, classifier=OfflineClassifier())
    assert report.classified == 2

    tickets = stored(db)
    asked, german = tickets["ASK"], tickets["DE"]
    assert asked["suggestion_source"] == "offline"
    assert 0 < asked["suggested_category_confidence"] <= 1
    assert 0 < asked["suggested_priority_confidence"] <= 1
    assert asked["suggested_title"] == "This is the third time I write about this"
    assert (asked["language"], bool(asked["frustrated"]), asked["sentiment"]) == (
        "en",
        True,
        "negative",
    )
    assert (german["suggestion_source"], german["language"], bool(german["frustrated"])) == (
        "offline",
        "de",
        True,
    )
    # The same text and suggestion through the ticket service stores the same columns.
    for imported in (asked, german):
        data = TicketCreate(
            title=imported["title"],
            description=imported["description"],
            category=Category.BILLING if imported is german else None,
        )
        suggestion = OfflineClassifier().classify(data.description, data.title)
        created = stored_by_id(db, create_ticket(data, suggestion, actor=SYSTEM).id)
        assert [created[name] for name in SIGNAL_COLUMNS] == [
            imported[name] for name in SIGNAL_COLUMNS
        ]


def test_integer_confidences_of_a_classifier_are_stored(db: Engine, tmp_path: Path) -> None:
    class WholeNumbers:
        async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
            confidence = 1 if "first" in description else 0.5
            return TriageSuggestion(Category.BILLING, Priority.LOW, confidence, 1, "offline", "")

    source = write_jsonl(
        tmp_path / "ints.jsonl",
        [
            {"external_id": "1", "description": "The first ticket to classify."},
            {"external_id": "2", "description": "The second ticket to classify."},
            {"external_id": "3", "description": ENGLISH_CALM, "category": "account",
             "priority": "low"},
        ],
    )  # fmt: skip
    import_file(source, classifier=WholeNumbers())
    tickets = stored(db)
    assert [tickets[key]["suggested_category_confidence"] for key in "123"] == [1.0, 0.5, None]
    assert tickets["3"]["sentiment_score"] == 0.0


def test_ticket_list_filters_find_imported_tickets_by_language_and_frustration(
    client: TestClient, tmp_path: Path
) -> None:
    source = write_jsonl(
        tmp_path / "filters.jsonl",
        [
            {"external_id": "DE", "description": GERMAN_FRUSTRATED},
            {"external_id": "ANGRY", "description": ENGLISH_ANGRY},
            {"external_id": "CALM", "description": ENGLISH_CALM},
        ],
    )
    import_file(source, classify=False)

    def external_ids(query: str) -> set[str]:
        response = client.get(f"/api/tickets/?{query}")
        assert response.status_code == 200, response.text
        return {ticket["external_id"] for ticket in response.json()}

    assert external_ids("frustrated=true") == {"DE", "ANGRY"}
    assert external_ids("frustrated=false") == {"CALM"}
    assert external_ids("language=de") == {"DE"}
    assert external_ids("language=en") == {"ANGRY", "CALM"}
    assert external_ids("language=en&frustrated=true") == {"ANGRY"}
