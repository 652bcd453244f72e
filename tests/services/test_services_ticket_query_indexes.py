"""Enum list filters page through the rank indexes (migration 0022 dropped the columns' own)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ticket_app.models import Priority, Status, Ticket
from ticket_app.schemas import TicketFilters
from ticket_app.services.database import service_session
from ticket_app.services.ticket_query import filter_clauses


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (TicketFilters(status=Status.PENDING), "ix_tickets_status_rank_created_at_id"),
        (TicketFilters(priority=Priority.HIGH), "ix_tickets_priority_rank_created_at_id"),
        (TicketFilters(q="status:open"), "ix_tickets_status_rank_created_at_id"),
    ],
)
def test_status_and_priority_filters_walk_the_rank_index(
    db: Engine, filters: TicketFilters, index: str
) -> None:
    """Newest first, filtered: an index scan on the rank index, no sort (seq scans off, as at
    a million tickets the planner would choose on its own)."""
    if db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans")
    with service_session() as session:
        query = (
            sa.select(Ticket.id)
            .where(*filter_clauses(session, filters))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(51)
        )
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = "\n".join(session.execute(sa.text(f"EXPLAIN {compiled}")).scalars())
    assert index in plan
    if filters.q is None:  # a search's plan depends on the statistics left by earlier tests
        assert "Sort" not in plan
