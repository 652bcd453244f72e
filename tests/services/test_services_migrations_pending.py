"""Migration 0012 (the `pending` status) goes down and up again on both dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ticket_app.services.migrations import downgrade_database, upgrade_database

ROW = (
    "INSERT INTO tickets (title, description, category, priority, status) "
    "VALUES ('t', 'd', 'general', 'low', :status)"
)
RANKS = "SELECT status, status_rank FROM tickets ORDER BY id"


def ranks(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(RANKS))]


def count_totals(engine: Engine) -> dict[str, int]:
    """Tickets per status from the count totals, plus their pending deltas (from 0022 on)."""
    counted = "SELECT status, n FROM ticket_count_totals"
    if sa.inspect(engine).has_table("ticket_count_deltas"):
        counted += " UNION ALL SELECT status, n FROM ticket_count_deltas"
    query = f"SELECT status, sum(n) FROM ({counted}) AS c GROUP BY status HAVING sum(n) > 0"
    with engine.connect() as connection:
        return {status: int(n) for status, n in connection.execute(sa.text(query))}


def integrity(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"


def similarity_index(engine: Engine) -> str:
    query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_tickets_similarity_vector'"
    with engine.connect() as connection:
        return connection.execute(sa.text(query)).scalar_one()


def test_pending_is_a_status_with_its_own_rank(db: Engine) -> None:
    with db.begin() as connection:
        for status in ("open", "in_progress", "pending", "resolved", "closed"):
            connection.execute(sa.text(ROW), {"status": status})
    assert [rank for _, rank in ranks(db)] == [5, 4, 3, 2, 1]
    assert count_totals(db)["pending"] == 1
    with pytest.raises(IntegrityError), db.begin() as connection:
        connection.execute(sa.text(ROW), {"status": "waiting"})
    integrity(db)
    if db.dialect.name == "postgresql":
        assert "'pending'" in similarity_index(db)


def test_downgrade_reopens_pending_tickets_and_upgrade_restores_the_status(
    client: TestClient, db: Engine, database_url: str
) -> None:
    pending = client.post(
        "/api/tickets/",
        json={
            "title": "Need logs",
            "description": "Waiting on the customer's logs.",
            "status": "pending",
        },
    ).json()
    client.post(
        "/api/tickets/", json={"title": "Open one", "description": "Still open.", "status": "open"}
    )
    view = client.post("/api/views/", json={"name": "Waiting", "query": {"status": "pending"}})
    assert view.status_code == 201, view.text
    try:
        downgrade_database(database_url, "0011")
        db.dispose()
        assert ranks(db) == [("open", 4), ("open", 4)]
        assert count_totals(db) == {"open": 2}
        with db.connect() as connection:
            events = connection.execute(
                sa.text(
                    "SELECT ticket_id, actor_kind, actor_label, field, old_value, new_value "
                    "FROM ticket_events WHERE actor_label = 'migration 0012 downgrade'"
                )
            ).all()
            queries = connection.execute(sa.text("SELECT query FROM saved_views")).scalars().all()
        assert [tuple(event) for event in events] == [
            (pending["id"], "system", "migration 0012 downgrade", "status", "pending", "open")
        ]
        assert queries == ['{"status":"open"}']
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(sa.text(ROW), {"status": "pending"})
        integrity(db)
        if db.dialect.name == "postgresql":
            assert "'pending'" not in similarity_index(db)
    finally:
        upgrade_database(database_url)
        db.dispose()
    with db.begin() as connection:
        connection.execute(sa.text(ROW), {"status": "pending"})
    assert ranks(db)[-1] == ("pending", 3)
    assert ranks(db)[0] == ("open", 5)
    assert count_totals(db) == {"open": 2, "pending": 1}
    integrity(db)
