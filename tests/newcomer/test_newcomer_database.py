"""The commands that connect say in one line when the PostgreSQL database does not exist (and
how to create it), and `migrate`/`serve` say whether they created, upgraded or found the schema
current."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.newcomer.conftest import ExecCall
from ticket_app.cli import app
from ticket_app.services.database import use_database
from ticket_app.services.migrations import alembic_config, downgrade_database

pytestmark = pytest.mark.newcomer

runner = CliRunner()
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture
def missing_postgres() -> Iterator[str]:
    """URL of a PostgreSQL database that does not exist (dropped afterwards if a test made it)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL tests skipped")
    server = make_url(base)
    name = f"triage_missing_{uuid.uuid4().hex[:10]}"
    yield server.set(database=name).render_as_string(hide_password=False)
    use_database("sqlite://")  # let go of connections to it before the drop
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def commands(tmp_path: Path) -> list[list[str]]:
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("title,description\nPrinter,The printer is on fire\n")
    return [
        ["migrate"],
        ["serve"],
        ["demo", "--count", "3"],
        ["import", str(tickets), "--quiet"],
        ["export"],
        ["users", "list"],
        ["users", "create", "a@example.com", "--role", "admin", "--password-stdin"],
        ["tokens", "list"],
        ["tokens", "revoke", "1"],
    ]


def test_every_connecting_command_names_the_missing_database_in_one_line(
    missing_postgres: str, tmp_path: Path, exec_calls: list[ExecCall]
) -> None:
    url = make_url(missing_postgres)
    createdb = f"createdb -h {url.host} -p {url.port or 5432} -U {url.username} {url.database}"
    for args in commands(tmp_path):
        result = runner.invoke(app, [*args, "--database-url", missing_postgres], input="x" * 20)
        assert result.exit_code == 3, (args, result.output)
        assert result.stdout == "", args
        assert result.stderr.strip() == (
            f'error: database "{url.database}" does not exist on the PostgreSQL server at '
            f"{url.host}:{url.port or 5432}; create it with `{createdb}` and run this again"
        ), args
    assert exec_calls == []


def test_the_printed_createdb_line_works(missing_postgres: str) -> None:
    if shutil.which("createdb") is None:
        pytest.skip("createdb is not installed (postgresql-client)")
    result = runner.invoke(app, ["migrate", "--database-url", missing_postgres])
    assert result.exit_code == 3
    [command] = re.findall(r"`(createdb [^`]+)`", result.stderr)
    subprocess.run(command, shell=True, check=True, timeout=30)  # the line exactly as printed

    created = runner.invoke(app, ["migrate", "--database-url", missing_postgres])
    assert created.exit_code == 0, created.output
    assert created.stdout == f"created the database schema (revision {HEAD})\n"


def test_an_unreachable_server_still_says_unreachable() -> None:
    result = runner.invoke(
        app, ["export", "--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"]
    )
    assert result.exit_code == 3
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: the database is unreachable: ")


def test_migrate_says_created_then_up_to_date_then_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    def migrate() -> str:
        result = runner.invoke(app, ["migrate", "--database-url", url])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert migrate() == f"created the database schema (revision {HEAD})\n"
    assert migrate() == f"database schema is up to date (revision {HEAD})\n"
    downgrade_database(url, "0002")
    assert migrate() == f"upgraded the database schema from revision 0002 to {HEAD}\n"


def test_serve_says_created_on_a_new_database_and_up_to_date_after(
    tmp_path: Path, exec_calls: list[ExecCall]
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    args = ["serve", "--database-url", url, "--host", "127.0.0.1", "--port", "3000"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0] == (
        f"created the database schema (revision {HEAD}); serving on 127.0.0.1:3000 (1 worker)"
    )
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[0] == (
        f"database schema is up to date (revision {HEAD}); serving on 127.0.0.1:3000 (1 worker)"
    )
    assert len(exec_calls) == 2
