"""The benchmark's generated data: loaded through staging tables on PostgreSQL, exactly."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.services.test_services_counts import assert_counts_exact
from ticket_app.cli import bench_data


def test_loaded_tickets_are_counted_indexed_and_commented(db: Engine, database_url: str) -> None:
    """Twice (the second load adds to the first, indexes kept): every count exact, each
    ticket's search document what its trigger would build, its comments attached."""
    bench_data.load_tickets(database_url, 30, seed=1)
    bench_data.load_tickets(database_url, 12, seed=1)
    db.dispose()
    assert_counts_exact(db)
    with db.connect() as connection:
        tickets = connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one()
        comments = connection.execute(
            sa.text("SELECT count(DISTINCT ticket_id), count(*) FROM ticket_comments")
        ).one()
        if db.dialect.name == "postgresql":
            stale = connection.execute(
                sa.text(
                    "SELECT count(*) FROM tickets "
                    "WHERE search_document IS DISTINCT FROM td_ticket_search_document(id)"
                )
            ).scalar_one()
            assert stale == 0
    assert tickets == 42
    assert tuple(comments) == (42, 42 * bench_data.COMMENTS_PER_TICKET)
