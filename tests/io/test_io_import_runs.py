"""Import runs: every file import is recorded, and a re-import that would duplicate rows is refused.

On SQLite and PostgreSQL (the `db` fixture); services directly and the CLI.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from ticket_app.cli import app
from ticket_app.models import ActorKind, Category, Priority
from ticket_app.services.access import Actor
from ticket_app.services.imports.runs import DuplicateImportError, file_digest, import_file
from ticket_app.triage import TriageSuggestion

runner = CliRunner()
NIGHTLY = Actor.process(ActorKind.IMPORT, "nightly-sync")


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one()


def runs(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        result = connection.execute(sa.text("SELECT * FROM import_runs ORDER BY id"))
        return [dict(row) for row in result.mappings()]


def write_rows(path: Path, rows: int, *, with_ids: bool = False, labelled: bool = True) -> Path:
    """A CSV of `rows` tickets; unlabelled rows need the classifier (which tests can fail)."""
    labels = ["general", "low"] if labelled else ["", ""]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "description", "category", "priority"])
        for n in range(1, rows + 1):
            writer.writerow([f"K-{n}" if with_ids else "", f"Ticket text {n}", *labels])
    return path


class FailingClassifier:
    """Answers until `fail_after` calls, then interrupts the import."""

    def __init__(self, fail_after: int) -> None:
        self.calls = 0
        self.fail_after = fail_after

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        self.calls += 1
        if self.calls > self.fail_after:
            raise KeyboardInterrupt
        return TriageSuggestion(Category.BILLING, Priority.HIGH, 0.9, 0.9, "offline", "test")


def test_a_second_import_of_the_same_bytes_is_refused_naming_the_first(
    db: Engine, tmp_path: Path
) -> None:
    source = write_rows(tmp_path / "no-ids.csv", 7)
    first = import_file(source, classify=False, actor=NIGHTLY)
    assert first.inserted == 7

    with pytest.raises(DuplicateImportError) as refused:
        import_file(source, classify=False)
    message = str(refused.value)
    (run,) = runs(db)
    assert f"import #{run['id']}" in message
    assert "by nightly-sync" in message
    assert "finished, 7 tickets imported" in message
    assert run["started_at"] is not None
    assert "--allow-duplicates" in message
    assert "\n" not in message
    assert count(db) == 7  # nothing written, no run recorded for the refusal
    assert len(runs(db)) == 1

    # The same bytes under another name are the same file; one changed byte is another file.
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(source.read_bytes())
    with pytest.raises(DuplicateImportError, match=r"as no-ids\.csv"):
        import_file(renamed, classify=False)
    source.write_bytes(source.read_bytes().replace(b"text 7", b"text 8"))
    assert import_file(source, classify=False).inserted == 7
    assert count(db) == 14


def test_allow_duplicates_imports_again_and_is_recorded(db: Engine, tmp_path: Path) -> None:
    source = write_rows(tmp_path / "no-ids.csv", 3)
    import_file(source, classify=False)
    again = import_file(source, classify=False, allow_duplicates=True)
    assert again.inserted == 3
    assert count(db) == 6
    first, second = runs(db)
    digest, size = file_digest(source)
    for run in (first, second):
        assert (run["content_sha256"], run["size_bytes"], run["file_name"]) == (
            digest,
            size,
            "no-ids.csv",
        )
        assert (run["status"], run["rows_read"], run["inserted"], run["rejected"]) == (
            "finished",
            3,
            3,
            0,
        )
        assert run["finished_at"] is not None
        assert run["actor_label"] == "import"
    assert (bool(first["allow_duplicates"]), bool(second["allow_duplicates"])) == (False, True)
    assert second["id"] == again.run_id


def test_a_rerun_keyed_the_same_way_completes_an_interrupted_import(
    db: Engine, tmp_path: Path
) -> None:
    source = write_rows(tmp_path / "ids.csv", 12, with_ids=True, labelled=False)
    with pytest.raises(KeyboardInterrupt):
        import_file(source, classifier=FailingClassifier(fail_after=5), batch_size=5)
    assert count(db) == 5

    # Every row carries an external id, so a re-run only skips what is stored: allowed.
    rest = import_file(source, classify=False, batch_size=5)
    assert (rest.inserted, rest.already_present) == (7, 5)
    again = import_file(source, classify=False)
    assert (again.inserted, again.already_present) == (0, 12)
    assert count(db) == 12
    assert [run["status"] for run in runs(db)] == ["failed", "finished", "finished"]


def test_a_rerun_keyed_differently_is_refused(db: Engine, tmp_path: Path) -> None:
    source = write_rows(tmp_path / "no-ids.csv", 4)
    import_file(source, classify=False)
    # --line-ids now would give the rows stored without an id new ids: all four again.
    with pytest.raises(DuplicateImportError, match="other external ids"):
        import_file(source, classify=False, line_ids=True)
    assert count(db) == 4


def test_a_failed_import_that_wrote_batches_blocks_a_keyless_rerun(
    db: Engine, tmp_path: Path
) -> None:
    source = write_rows(tmp_path / "no-ids.csv", 12, labelled=False)
    with pytest.raises(KeyboardInterrupt):
        import_file(source, classifier=FailingClassifier(fail_after=5), batch_size=5)
    (run,) = runs(db)
    assert (run["status"], run["inserted"], count(db)) == ("failed", 5, 5)
    assert run["finished_at"] is not None

    with pytest.raises(DuplicateImportError, match="failed part-way, 5 tickets imported"):
        import_file(source, classify=False)
    assert count(db) == 5


def test_a_failed_import_that_wrote_nothing_does_not_block(db: Engine, tmp_path: Path) -> None:
    source = write_rows(tmp_path / "no-ids.csv", 3, labelled=False)
    with pytest.raises(KeyboardInterrupt):
        import_file(source, classifier=FailingClassifier(fail_after=0))
    assert import_file(source, classify=False).inserted == 3


def test_two_imports_of_the_same_file_started_together_cannot_both_run(
    db: Engine, tmp_path: Path
) -> None:
    source = write_rows(tmp_path / "no-ids.csv", 50)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        start.wait()
        try:
            import_file(source, classify=False, batch_size=10)
            outcomes.append("imported")
        except DuplicateImportError:
            outcomes.append("refused")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["imported", "refused"]
    assert count(db) == 50


def test_cli_refuses_a_duplicate_import_in_one_line_with_exit_2(db: Engine, tmp_path: Path) -> None:
    source = write_rows(tmp_path / "no-ids.csv", 3)
    args = ["import", str(source), "--no-classify", "-q", "--database-url", url_of(db)]
    assert runner.invoke(app, args).exit_code == 0

    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: no-ids.csv was already imported: import #")
    assert "by import, finished, 3 tickets imported" in lines[0]
    assert count(db) == 3

    allowed = runner.invoke(app, [*args, "--allow-duplicates"])
    assert allowed.exit_code == 0, allowed.output
    assert "imported 3, already present 0" in allowed.output
    assert count(db) == 6
