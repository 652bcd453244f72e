"""A CLI export is itself an audit event, as exports through the API and the console are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import Invoke


def test_export_to_a_file_and_to_stdout_are_recorded_with_their_filters(
    cli: Invoke, audit_events: Callable[[], list[dict[str, object]]], tmp_path: Path
) -> None:
    to_file = cli("export", "--status", "open", "-o", str(tmp_path / "open.csv"))
    assert to_file.exit_code == 0, to_file.output
    to_stdout = cli("export", "--category", "billing")
    assert to_stdout.exit_code == 0, to_stdout.output

    exports = [event for event in audit_events() if event["kind"] == "exported"]
    assert [(e["actor_kind"], e["actor_label"]) for e in exports] == [("system", "cli")] * 2
    assert '"status":"open"' in str(exports[0]["new_value"])
    assert '"category":"billing"' in str(exports[1]["new_value"])


def test_export_to_a_dash_writes_standard_output_not_a_file(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("export", "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("id,")
    assert list(tmp_path.iterdir()) == []
