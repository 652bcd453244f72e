"""Helpers for the CLI tests: run a command against the test database with CliRunner."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import Result
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.support.cli import STRONG_PASSWORD, Invoke
from ticket_app.cli import app


@pytest.fixture
def cli(db: Engine, database_url: str) -> Invoke:
    """`cli("users", "list", input=...)`: the command on the test database (a fresh one)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, [*args, "--database-url", database_url], input=input)

    return invoke


@pytest.fixture
def make_user(cli: Invoke) -> Callable[..., None]:
    """`make_user(email, role)`: create a staff user through the CLI (password from stdin)."""

    def create(email: str, role: str = "agent", password: str = STRONG_PASSWORD) -> None:
        result = cli("users", "create", email, "--role", role, "--password-stdin", input=password)
        assert result.exit_code == 0, result.output

    return create


@pytest.fixture
def audit_events(db: Engine) -> Callable[[], list[dict[str, object]]]:
    """`audit_events()`: every stored audit event, oldest first."""

    def read() -> list[dict[str, object]]:
        with db.connect() as connection:
            rows = connection.execute(sa.text("SELECT * FROM ticket_events ORDER BY id"))
            return [dict(row) for row in rows.mappings()]

    return read
