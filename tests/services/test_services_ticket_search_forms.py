"""A search's tsquery forms are read from PostgreSQL once per text, then kept by the process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from ticket_app.schemas import TicketCreate, TicketFilters
from ticket_app.services import tickets


@pytest.fixture
def form_reads(db: Engine) -> Iterator[list[str]]:
    """The statements that compute tsquery forms, as the database receives them."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite matches its FTS5 table directly")
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        if "to_tsquery(name::regconfig" in statement:
            seen.append(statement)

    sa.event.listen(db, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db, "before_cursor_execute", record)


def test_repeated_searches_read_the_forms_once_and_match_the_same(form_reads: list[str]) -> None:
    created = tickets.create_ticket(
        TicketCreate(
            title="Refunds for the Kookaburra plan",
            description="Customers on the kookaburra plan were refunded twice.",
            category="billing",
            priority="medium",
        ),
        actor=SYSTEM,
    )
    filters = TicketFilters(search="kookaburra refunded")

    pages = [tickets.list_tickets(filters) for _ in range(3)]

    assert [[item.id for item in page.items] for page in pages] == [[created.id]] * 3
    assert len(form_reads) == 1
    tickets.list_tickets(TicketFilters(search="kookaburra"))
    assert len(form_reads) == 2
