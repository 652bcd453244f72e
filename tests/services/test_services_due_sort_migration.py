"""Migration 0015 (the due sort key) goes down and up again on both dialects and fills the key."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.auth import add_ticket
from ticket_app.models import NO_DUE_TIME, Ticket
from ticket_app.services.database import service_session
from ticket_app.services.migrations import downgrade_database, upgrade_database


def _keys(ids: list[int]) -> dict[int, tuple]:
    with service_session() as session:
        rows = session.execute(
            sa.select(Ticket.id, Ticket.sla_due_at, Ticket.sla_order_at).where(Ticket.id.in_(ids))
        )
        return {row.id: (row.sla_due_at, row.sla_order_at) for row in rows}


def test_the_key_is_the_due_time_or_the_end_of_time_after_down_and_up(
    db: Engine, database_url: str
) -> None:
    running = add_ticket("Printer on fire", priority="critical")
    done = add_ticket("Printer fixed")
    with db.begin() as connection:
        connection.execute(
            sa.text("UPDATE tickets SET status = 'closed', sla_due_at = NULL WHERE id = :id"),
            {"id": done},
        )
    try:
        downgrade_database(database_url, "0014")
        db.dispose()
        assert "sla_order_at" not in {c["name"] for c in sa.inspect(db).get_columns("tickets")}
    finally:
        upgrade_database(database_url)
        db.dispose()
    keys = _keys([running, done])
    due, order = keys[running]
    assert due is not None and order == due
    assert keys[done] == (None, NO_DUE_TIME)
