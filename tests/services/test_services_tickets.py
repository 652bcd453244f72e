"""Service functions the console and the triage learner rely on: labelled history, change marker;
the create without a read-back that inbound mail uses."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.tickets import make_ticket
from ticket_app.schemas import TicketCreate, TicketRead
from ticket_app.services.tickets import create_ticket, get_ticket, store_ticket
from ticket_app.services.triage_history import training_rows


def test_only_confirmed_labels_become_training_rows(client: TestClient) -> None:
    manual = make_ticket(client, title="Manual", description="Set by hand")
    unreviewed = make_ticket(
        client, title="Guess", description="Refund my invoice", category=None, priority=None
    )
    overridden = make_ticket(
        client,
        title="Override",
        description="Refund my invoice please",
        category=None,
        priority=None,
    )
    worked_on = make_ticket(
        client, title="Worked", description="Invoice is wrong", category=None, priority=None
    )
    client.patch(f"/api/tickets/{overridden['id']}/", json={"category": "general"})
    client.patch(f"/api/tickets/{worked_on['id']}/", json={"status": "resolved"})

    rows = training_rows()

    texts = [text for text, _, _ in rows]
    assert texts == [
        "Worked\nInvoice is wrong",
        "Override\nRefund my invoice please",
        "Manual\nSet by hand",
    ]
    assert rows[1][1:] == ("general", overridden["priority"])
    assert rows[2][1:] == (manual["category"], manual["priority"])
    assert all(unreviewed["title"] not in text for text in texts)
    assert len(training_rows(limit=1)) == 1


def test_change_marker_moves_on_create_and_update(client: TestClient) -> None:
    from ticket_app.services.tickets import change_marker

    empty = change_marker()
    ticket = make_ticket(client)
    created = change_marker()
    assert created != empty
    assert change_marker() == created
    client.patch(f"/api/tickets/{ticket['id']}/", json={"status": "closed"})
    assert change_marker() != created


def relative(ticket: TicketRead) -> dict[str, object]:
    """A ticket's fields but its id and ETag, instants as offsets from its creation."""
    values = ticket.model_dump(exclude={"id", "etag"})
    return {
        name: value - ticket.created_at if isinstance(value, datetime) else value
        for name, value in values.items()
    }


def test_store_ticket_stores_what_create_ticket_does_without_reading_it_back(db: Engine) -> None:
    data = TicketCreate(
        title="Printer on fire",
        description="The office printer is on fire.",
        requester_email="Ada@Example.org",
        requester_name="Ada",
        tags=["printer"],
    )
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    created = create_ticket(data, actor=SYSTEM)
    sa.event.listen(db, "before_cursor_execute", record)
    try:
        stored_id = store_ticket(data, actor=SYSTEM)
    finally:
        sa.event.remove(db, "before_cursor_execute", record)

    assert relative(get_ticket(stored_id)) == relative(created)
    assert not [sql for sql in statements if sql.startswith("SELECT") and "FROM tickets" in sql]
