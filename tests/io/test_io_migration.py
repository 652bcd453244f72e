"""Migration 0002 (tickets.external_id) goes down and up again on both dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ticket_app.services.migrations import downgrade_database, upgrade_database

ROW = (
    "INSERT INTO tickets (title, description, category, priority{extra}) "
    "VALUES ('t', 'd', 'general', 'low'{value})"
)


def columns(engine: Engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("tickets")}


def test_external_id_is_unique_but_optional(db: Engine) -> None:
    with db.begin() as connection:
        connection.execute(sa.text(ROW.format(extra="", value="")))
        connection.execute(sa.text(ROW.format(extra="", value="")))
        connection.execute(sa.text(ROW.format(extra=", external_id", value=", 'X-1'")))
    with pytest.raises(IntegrityError), db.begin() as connection:
        connection.execute(sa.text(ROW.format(extra=", external_id", value=", 'X-1'")))


def test_downgrade_drops_only_the_column_and_upgrade_restores_it(
    db: Engine, database_url: str
) -> None:
    try:
        downgrade_database(database_url, "0001")
        db.dispose()
        assert "external_id" not in columns(db)
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(sa.text(ROW.replace("'low'", "'urgent'").format(extra="", value="")))
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert "external_id" in columns(db)
    indexes = {index["name"]: index for index in sa.inspect(db).get_indexes("tickets")}
    assert indexes["ux_tickets_external_id"]["unique"]
