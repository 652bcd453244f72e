"""Migration 0018 (ticket tags) goes down and up again on both dialects; the table is usable."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.auth import add_ticket
from ticket_app.services.database import service_session
from ticket_app.services.migrations import downgrade_database, upgrade_database
from ticket_app.services.tags import tags_by_ticket


def test_the_tags_table_goes_down_and_up_with_its_indexes(db: Engine, database_url: str) -> None:
    ticket_id = add_ticket("Printer on fire")
    try:
        downgrade_database(database_url, "0017")
        db.dispose()
        assert "ticket_tags" not in sa.inspect(db).get_table_names()
    finally:
        upgrade_database(database_url)
        db.dispose()
    indexes = {index["name"]: index for index in sa.inspect(db).get_indexes("ticket_tags")}
    assert indexes["ix_ticket_tags_tag_ticket_id"]["column_names"] == ["tag", "ticket_id"]
    assert indexes["ux_ticket_tags_ticket_id_tag"]["unique"]
    with db.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO ticket_tags (ticket_id, tag) VALUES (:id, 'hardware')"),
            {"id": ticket_id},
        )
    with service_session() as session:
        assert tags_by_ticket(session, [ticket_id]) == {ticket_id: ["hardware"]}
    for bad in ("a,b", "-x", "   ", "x" * 51, "hardware"):
        try:
            with db.begin() as connection:
                connection.execute(
                    sa.text("INSERT INTO ticket_tags (ticket_id, tag) VALUES (:id, :tag)"),
                    {"id": ticket_id, "tag": bad},
                )
        except (sa.exc.IntegrityError, sa.exc.DataError):
            continue
        raise AssertionError(f"the database stored {bad!r}")
