"""The database itself refuses bad rows, whatever client writes them (raw SQL, no ORM)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError

# PostgreSQL reports an over-long VARCHAR as a data error; every other refusal is an
# integrity error.
REFUSED = (IntegrityError, DataError)

VALID = {
    "title": "Cannot log in",
    "description": "The password reset link has expired.",
    "category": "account",
    "priority": "high",
    "status": "open",
}


def insert(engine: Engine, **overrides: object) -> None:
    row = {**VALID, **overrides}
    columns = ", ".join(row)
    params = ", ".join(f":{name}" for name in row)
    with engine.begin() as connection:
        connection.execute(sa.text(f"INSERT INTO tickets ({columns}) VALUES ({params})"), row)


def test_valid_raw_row_gets_server_defaults(db: Engine) -> None:
    row = {key: value for key, value in VALID.items() if key != "status"}
    insert_sql = (
        "INSERT INTO tickets (title, description, category, priority) "
        "VALUES (:title, :description, :category, :priority)"
    )
    with db.begin() as connection:
        connection.execute(sa.text(insert_sql), row)
        stored = connection.execute(
            sa.text("SELECT status, created_at, updated_at FROM tickets")
        ).one()
    assert stored.status == "open"
    assert stored.created_at is not None
    assert stored.updated_at is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": None},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 201},
        {"description": None},
        {"description": ""},
        {"description": "  "},
        {"category": "sales"},
        {"category": None},
        {"priority": "urgent"},
        {"priority": None},
        {"status": "waiting"},
        {"status": None},
        {"category": "Billing"},
        {"suggested_category": "sales"},
        {"suggested_priority": "extreme"},
    ],
    ids=lambda overrides: "-".join(f"{k}={str(v)[:12]}" for k, v in overrides.items()),
)
def test_database_refuses_bad_row(db: Engine, overrides: dict[str, object]) -> None:
    with pytest.raises(REFUSED):
        insert(db, **overrides)
    with db.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one() == 0


def test_title_of_exactly_200_characters_is_accepted(db: Engine) -> None:
    insert(db, title="é" * 200)
    with db.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one() == 1


def test_refused_constraint_is_named(db: Engine) -> None:
    with pytest.raises(IntegrityError) as excinfo:
        insert(db, priority="urgent")
    assert "ck_tickets_priority" in str(excinfo.value)
