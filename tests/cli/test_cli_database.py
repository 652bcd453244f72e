"""The `users` and `tokens` commands on a database that is unreachable or not migrated: exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ticket_app.cli import app

runner = CliRunner()
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


@pytest.mark.parametrize(
    "args",
    [
        ["users", "list"],
        ["users", "deactivate", "a@example.com"],
        ["tokens", "list"],
        ["tokens", "create", "--user", "a@example.com", "--name", "x"],
        ["tokens", "revoke", "1"],
    ],
)
def test_unreachable_database_exits_3(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--database-url", UNREACHABLE])
    assert result.exit_code == 3
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: the database is unreachable: ")


def test_unmigrated_database_exits_3_before_asking_for_a_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(
        app, ["users", "create", "a@example.com", "--role", "admin", "--database-url", url]
    )
    assert result.exit_code == 3
    assert "Password" not in result.output
    assert result.stderr.strip() == (
        "error: the database schema is not up to date; run `python -m ticket_app migrate` first"
    )
