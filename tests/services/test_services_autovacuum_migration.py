"""Migration 0027: autovacuum visits `tickets` after 1% of its rows changed, down and up again."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ticket_app.services.migrations import downgrade_database, upgrade_database


def _settings(db: Engine) -> dict[str, str]:
    with db.connect() as connection:
        options = connection.execute(
            sa.text("SELECT reloptions FROM pg_class WHERE oid = 'tickets'::regclass")
        ).scalar_one()
    return dict(option.split("=", 1) for option in options or [])


def test_tickets_are_vacuumed_and_analyzed_after_one_percent_changed(
    db: Engine, database_url: str
) -> None:
    try:
        downgrade_database(database_url, "0026")
        db.dispose()
        if db.dialect.name == "postgresql":
            assert not any(name.startswith("autovacuum") for name in _settings(db))
    finally:
        upgrade_database(database_url)
        db.dispose()
    if db.dialect.name != "postgresql":
        return
    settings = _settings(db)
    for kind in ("vacuum", "vacuum_insert", "analyze"):
        assert settings[f"autovacuum_{kind}_scale_factor"] == "0.01"
        assert settings[f"autovacuum_{kind}_threshold"] == "1000"
