"""Plans of list queries: enum filters page through the rank indexes (migration 0022 dropped
the columns' own); a relevance page reads whole rows for its own tickets only."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.database import statements_sent
from ticket_app.models import Priority, Status, Ticket
from ticket_app.schemas import TicketCreate, TicketFilters, TicketSort
from ticket_app.services import tickets
from ticket_app.services.database import service_session
from ticket_app.services.ticket_query import RANK_LABEL, filter_clauses


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


def _rows_read_from_tickets(plan: dict[str, Any]) -> int:
    """Rows that the plan's scans of `tickets` returned, over all their loops."""
    scans_tickets = plan.get("Relation Name") == "tickets"
    own = plan["Actual Rows"] * plan["Actual Loops"] if scans_tickets else 0
    return own + sum(_rows_read_from_tickets(child) for child in plan.get("Plans", []))


def test_a_relevance_page_reads_whole_rows_for_its_own_tickets_only(db: Engine) -> None:
    """The window of matches is ranked where it is read; only the page is fetched by id.

    Ranking after fetching the whole window read each match twice (at 1M tickets, 2,000 rows
    again by primary key for a page of 50; docs/performance.md).
    """
    if db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans")
    matches, page = 30, 5
    for n in range(matches):
        tickets.create_ticket(
            TicketCreate(
                title=f"Kookaburra plan {n}",
                description="kookaburra " * (n % 4 + 1),
                category="billing",
                priority="medium",
            ),
            actor=SYSTEM,
        )
    with statements_sent(db, containing=RANK_LABEL) as statements:
        listed = tickets.list_tickets(
            TicketFilters(search="kookaburra"), limit=page, sort=TicketSort.RELEVANCE
        )
    assert len(listed.items) == page
    [(statement, params)] = statements
    with db.connect() as connection:
        # As at a million tickets, where the planner chooses index scans and nested loops on
        # its own; on 30 rows it may read the whole table instead, whatever the query's shape.
        for method in ("seqscan", "hashjoin", "mergejoin"):
            connection.exec_driver_sql(f"SET LOCAL enable_{method} = off")
        [[plan]] = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params
        ).all()
    assert _rows_read_from_tickets(plan[0]["Plan"]) <= matches + page + 1
