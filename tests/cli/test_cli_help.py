"""`--help` of every command: flags are shown as plain flags, options that take a value keep
their type."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from ticket_app.cli import app

runner = CliRunner()

COMMANDS = [
    [],
    ["migrate"],
    ["serve"],
    ["import"],
    ["export"],
    ["demo"],
    ["users"],
    ["users", "create"],
    ["users", "list"],
    ["users", "deactivate"],
    ["users", "activate"],
    ["users", "set-role"],
    ["users", "reset-password"],
    ["tokens"],
    ["tokens", "create"],
    ["tokens", "list"],
    ["tokens", "revoke"],
]


def help_text(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def row(text: str, option: str) -> str:
    """The help table's row of `option` (the line that names it)."""
    [line] = [line for line in text.splitlines() if re.search(rf"{option}(\s|$)", line)]
    return line


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "(top)")
def test_no_flag_is_shown_as_taking_a_value(command: list[str]) -> None:
    text = help_text(*command)
    assert "<bool>" not in text
    assert re.search(r"--help\s+Show this message and exit\.", text)


def test_import_flags_are_plain_and_value_options_keep_their_type() -> None:
    text = help_text("import")
    assert re.search(r"--quiet\s+-q\s+No progress bar\.", row(text, "--quiet"))
    assert re.search(r"--line-ids\s+Give rows without", row(text, "--line-ids"))
    assert re.search(r"--classify\s+--no-classify\s+Ask the classifier", row(text, "--classify"))
    assert "<str>" in row(text, "--format")
    assert "<int range>" in row(text, "--batch-size")


def test_users_create_password_stdin_is_a_plain_flag() -> None:
    text = help_text("users", "create")
    assert re.search(r"--password-stdin\s+Read the password", row(text, "--password-stdin"))
    assert "<str>" in row(text, "--role")
