"""`python -m ticket_app bench` on a small SQLite database: every request answers, one table."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from ticket_app.cli import app, bench_data
from ticket_app.enums import Role
from ticket_app.services.database import use_database
from ticket_app.services.identity.tokens import resolve_token
from ticket_app.services.identity.users import list_users

REQUESTS = [
    "first page",
    "enum filters",
    "deep page (90%)",
    "rare search (err01234)",
    "common search (password)",
    'phrase search ("refund invoice")',
    "no-hit search (zqxvjk)",
    "best match (password err*)",
    "stats",
    "stats priority+status",
    "ticket by id",
    "similar tickets",
    "create (classified)",
    "PATCH status",
    "comment",
]


def table(output: str) -> list[dict[str, str]]:
    """The rows of the Markdown table `bench` prints, by column heading."""
    lines = [line.split("|")[1:-1] for line in output.splitlines() if line.startswith("| ")]
    headings = [cell.strip() for cell in lines[0]]
    return [
        dict(zip(headings, (cell.strip() for cell in cells), strict=True)) for cells in lines[1:]
    ]


def test_bench_loads_tickets_and_measures_every_request(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    try:
        args = ["--tickets", "300", "--database-url", url, "--clients", "1,2", "--seconds", "0.5"]
        result = CliRunner().invoke(app, ["bench", *args])
    finally:
        use_database("sqlite://")
    assert result.exit_code == 0, result.output
    assert "300 loaded" in result.stdout
    measured = [(row["request"], row["clients"], row["errors"]) for row in table(result.stdout)]
    assert measured == [(name, clients, "0") for clients in "12" for name in REQUESTS]


def test_bench_refuses_a_bad_client_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    result = CliRunner().invoke(app, ["bench", "--database-url", url, "--clients", "1,x"])
    assert result.exit_code == 2
    assert "--clients must be comma-separated numbers" in result.output


def test_bench_serves_with_several_workers_and_measures_only_what_is_asked(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    args = ["--tickets", "200", "--database-url", url, "--clients", "2", "--seconds", "0.5"]
    try:
        result = CliRunner().invoke(app, ["bench", *args, "--workers", "2", "--only", "first"])
    finally:
        use_database("sqlite://")
    assert result.exit_code == 0, result.output
    assert "API under granian (2 workers)" in result.stdout
    rows = table(result.stdout)
    assert [(row["request"], row["clients"], row["errors"]) for row in rows] == [
        ("first page", "2", "0")
    ]
    assert float(rows[0]["p50 ms"]) <= float(rows[0]["p95 ms"]) <= float(rows[0]["p99 ms"])


def test_every_run_signs_in_as_the_same_admin_so_the_team_does_not_grow(db: Engine) -> None:
    """Notices of an unowned ticket go to the whole team: a new admin per run changed the desk."""
    first = bench_data.create_bench_admin()
    bench_data.retire_bench_admin(first)
    second = bench_data.create_bench_admin()

    assert second.email == first.email and second.token != first.token
    assert [user.email for user in list_users()] == [first.email]
    assert resolve_token(first.token) is None
    assert resolve_token(second.token).role == Role.ADMIN
