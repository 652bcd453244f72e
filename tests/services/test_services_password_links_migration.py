"""Migration 0019 (password links, the sessions' user agent) goes down and up on both dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tests.support.auth import add_user
from ticket_app.services.migrations import downgrade_database, upgrade_database

LINK = (
    "INSERT INTO password_links (user_id, purpose, token_hash, expires_at) "
    "VALUES (:user, :purpose, :hash, '2026-12-09 10:00:00')"
)


def _columns(db: Engine, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(db).get_columns(table)}


def test_the_database_keeps_its_rules(db: Engine) -> None:
    user = add_user("agent").id
    with db.begin() as connection:
        connection.execute(sa.text(LINK), {"user": user, "purpose": "invite", "hash": "a" * 64})
    bad = [
        {"user": user, "purpose": "gossip", "hash": "b" * 64},
        {"user": user, "purpose": "reset", "hash": "a" * 64},  # the same token twice
    ]
    for values in bad:
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(sa.text(LINK), values)
    if db.dialect.name == "sqlite":
        return  # SQLite enforces foreign keys only when asked; the app does not ask
    with db.begin() as connection:
        connection.execute(sa.text("DELETE FROM staff_users"))
        assert connection.execute(sa.text("SELECT count(*) FROM password_links")).scalar() == 0


def test_downgrade_drops_the_table_and_the_column_upgrade_restores_them(
    db: Engine, database_url: str
) -> None:
    user = add_user("agent").id
    with db.begin() as connection:
        connection.execute(sa.text(LINK), {"user": user, "purpose": "reset", "hash": "c" * 64})
        connection.execute(
            sa.text(
                "INSERT INTO staff_sessions (user_id, token_hash, expires_at, user_agent) "
                "VALUES (:user, :hash, '2026-12-09 10:00:00', 'Firefox')"
            ),
            {"user": user, "hash": "d" * 64},
        )
    try:
        downgrade_database(database_url, "0018")
        db.dispose()
        assert "password_links" not in sa.inspect(db).get_table_names()
        assert "user_agent" not in _columns(db, "staff_sessions")
        with db.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM staff_sessions")).scalar() == 1
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert "password_links" in sa.inspect(db).get_table_names()
    assert "user_agent" in _columns(db, "staff_sessions")
    with db.begin() as connection:
        connection.execute(sa.text(LINK), {"user": user, "purpose": "invite", "hash": "e" * 64})
