"""Service functions the console and the triage learner rely on: labelled history, change marker."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.tickets import make_ticket
from ticket_app.services.tickets import training_rows


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
