"""Migration 0029: the planner knows a rank follows from its column, down and up again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from ticket_app.schemas import TicketCreate
from ticket_app.services import tickets
from ticket_app.services.migrations import downgrade_database, upgrade_database


def _estimated_rows(db: Engine, where: str) -> int:
    with db.connect() as connection:
        connection.execute(sa.text("ANALYZE tickets"))
        plan = connection.execute(
            sa.text(f"EXPLAIN (FORMAT JSON) SELECT id FROM tickets WHERE {where}")
        ).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


def test_a_status_filter_naming_its_rank_is_estimated_at_its_size(
    db: Engine, database_url: str
) -> None:
    """`status = 'open' AND status_rank = 5` (how the list filters) is one condition, not two
    independent ones: without the statistics it is estimated at a quarter of its size here."""
    if db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    for n in range(40):
        tickets.create_ticket(
            TicketCreate(
                title=f"Printer {n}",
                description="The printer is jammed.",
                category="technical",
                priority=("low", "medium", "high", "critical")[n % 4],
                status=("open", "in_progress", "resolved", "closed")[n % 4],
            ),
            actor=SYSTEM,
        )
    status = "status = 'open' AND status_rank = 5"
    priority = "priority = 'high' AND priority_rank = 3"
    assert _estimated_rows(db, "status = 'open'") == 10
    assert (_estimated_rows(db, status), _estimated_rows(db, priority)) == (10, 10)
    try:
        downgrade_database(database_url, "0028")
        db.dispose()
        assert _estimated_rows(db, status) < 5 and _estimated_rows(db, priority) < 5
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert (_estimated_rows(db, status), _estimated_rows(db, priority)) == (10, 10)
