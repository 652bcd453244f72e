"""`POST /api/tickets/bulk/`: by ids or by the list's filters, one transaction, audited, confirmed
above 10,000 tickets; and the undo the console offers (a service call)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.tickets import make_ticket
from tests.support.workspace import error_fields, staff_clients
from ticket_app.models import Role, Ticket, utc_now
from ticket_app.schemas import BulkRequest
from ticket_app.services.bulk import bulk_update, undo_bulk


def bulk(client: TestClient, **payload: object):
    return client.post("/api/tickets/bulk/", json=payload)


def state(client: TestClient, ticket_id: int) -> tuple[str, str, int | None]:
    ticket = client.get(f"/api/tickets/{ticket_id}/").json()
    return ticket["status"], ticket["priority"], ticket["assignee_id"]


def changed_fields(client: TestClient, ticket_id: int) -> list[str]:
    """The fields of the ticket's `changed` events, sorted."""
    events = client.get(f"/api/tickets/{ticket_id}/events/").json()
    return sorted(event["field"] for event in events if event["kind"] == "changed")


def test_by_ids_counts_only_the_tickets_that_changed(client: TestClient) -> None:
    open_one = make_ticket(client, priority="low")["id"]
    closed = make_ticket(client, status="closed", priority="high")["id"]
    untouched = make_ticket(client)["id"]
    with staff_clients(Role.AGENT) as [(agent, _)]:
        response = bulk(
            client,
            ids=[open_one, closed],
            changes={"status": "closed", "priority": "high", "assignee_id": agent},
        )
        assert response.status_code == 200 and response.json() == {"updated": 2}
        assert state(client, open_one) == ("closed", "high", agent)
        assert state(client, closed) == ("closed", "high", agent)
    assert changed_fields(client, open_one) == ["assignee_id", "priority", "status"]
    assert changed_fields(client, closed) == ["assignee_id"]
    assert changed_fields(client, untouched) == []
    again = bulk(client, ids=[closed], changes={"status": "closed"})
    assert again.json() == {"updated": 0}


def test_by_filters_takes_the_lists_names(client: TestClient) -> None:
    refunds = [make_ticket(client, title=f"Refund {n}", category="billing")["id"] for n in range(3)]
    make_ticket(client, title="Refund done", category="billing", status="closed")
    make_ticket(client, title="Printer", category="technical")
    with staff_clients(Role.AGENT) as [(agent, agent_client)]:
        response = bulk(
            agent_client,
            filters={"q": "refund", "status": "open", "assignee": "none"},
            changes={"assignee_id": agent, "status": "in_progress"},
        )
        assert response.json() == {"updated": 3}
        mine = agent_client.get("/api/tickets/", params={"assignee": "me"}).json()
        assert sorted(ticket["id"] for ticket in mine) == refunds
        response = bulk(agent_client, filters={"assignee": "me"}, changes={"assignee_id": None})
        assert response.json() == {"updated": 3}


def test_by_filters_takes_the_lists_language_and_frustrated_filters(client: TestClient) -> None:
    german = make_ticket(
        client,
        title="Rechnung doppelt",
        description="Guten Tag, die Rechnung für März wurde zweimal abgebucht. Bitte erstatten.",
    )["id"]
    angry = make_ticket(
        client,
        title="Third time asking",
        description="This is the third time I write about this invoice and still no answer. "
        "Fix it or I cancel my subscription.",
    )["id"]
    make_ticket(client, title="Printer", description="Could you send me the printer manual?")
    for filters, expected in (({"language": "de"}, german), ({"frustrated": True}, angry)):
        listed = client.get("/api/tickets/", params=filters).json()
        assert [ticket["id"] for ticket in listed] == [expected]
        response = bulk(client, filters=filters, changes={"priority": "critical"})
        assert response.status_code == 200 and response.json() == {"updated": 1}
        assert state(client, expected)[1] == "critical"
    assert bulk(client, filters={"frustrated": False}, changes={"priority": "low"}).json() == {
        "updated": 2
    }
    refused = bulk(client, filters={"language": "German"}, changes={"priority": "low"})
    assert refused.status_code == 422 and error_fields(refused) == ["filters.language"]


def test_nothing_changes_when_any_id_is_unknown(client: TestClient) -> None:
    ticket = make_ticket(client)["id"]
    response = bulk(client, ids=[ticket, 9999], changes={"status": "closed"})
    assert response.status_code == 404 and "9999" in response.json()["detail"]
    assert state(client, ticket)[0] == "open"


def test_malformed_requests_are_a_422(client: TestClient) -> None:
    ticket = make_ticket(client)["id"]
    cases = [
        ({"changes": {"status": "closed"}}, "body"),
        ({"ids": [ticket], "filters": {}, "changes": {"status": "closed"}}, "body"),
        ({"ids": [ticket], "changes": {}}, "changes"),
        ({"ids": [ticket], "changes": {"status": None}}, "changes.status"),
        ({"ids": [ticket], "changes": {"title": "x"}}, "changes.title"),
        ({"ids": [], "changes": {"status": "closed"}}, "ids"),
        ({"filters": {"assignee": "bob"}, "changes": {"status": "closed"}}, "filters.assignee"),
        ({"filters": {"colour": "red"}, "changes": {"status": "closed"}}, "filters.colour"),
        ({"ids": [ticket], "changes": {"assignee_id": 4242}}, "changes.assignee_id"),
        ({"ids": [ticket], "changes": {"status": "closed"}, "confirm_count": 2}, "confirm_count"),
    ]
    for payload, field in cases:
        response = bulk(client, **payload)
        assert response.status_code == 422, payload
        assert error_fields(response)[0] == field, (payload, response.json())
    assert state(client, ticket)[0] == "open"


def test_viewers_and_read_tokens_cannot_bulk_change(client: TestClient) -> None:
    ticket = make_ticket(client)["id"]
    with staff_clients(Role.VIEWER) as [(_, viewer)]:
        assert bulk(viewer, ids=[ticket], changes={"status": "closed"}).status_code == 403
    with staff_clients(Role.ADMIN, scopes="tickets:read") as [(_, reader)]:
        assert bulk(reader, ids=[ticket], changes={"status": "closed"}).status_code == 403


def test_more_than_ten_thousand_need_their_count_confirmed(client: TestClient, db: Engine) -> None:
    now = utc_now()
    rows = [
        {
            "title": f"Import {n}",
            "description": "Bulk imported",
            "category": "general",
            "priority": "low",
            "status": "open",
            "created_at": now,
            "updated_at": now,
        }
        for n in range(10_001)
    ]
    with db.begin() as connection:
        connection.execute(sa.insert(Ticket), rows)
    request = {"filters": {"status": "open"}, "changes": {"status": "closed"}}
    refused = bulk(client, **request)
    assert refused.status_code == 422 and error_fields(refused) == ["confirm_count"]
    assert "10001" in refused.json()["detail"]
    assert bulk(client, **request, confirm_count=10_000).status_code == 422
    assert client.get("/api/tickets/", params={"status": "closed"}).headers["X-Total-Count"] == "0"
    assert bulk(client, **request, confirm_count=10_001).json() == {"updated": 10_001}
    with db.connect() as connection:
        closed_events = connection.execute(
            sa.text("SELECT count(*) FROM ticket_events WHERE field = 'status'")
        ).scalar_one()
    assert closed_events == 10_001


def test_undo_puts_back_what_the_bulk_change_replaced(client: TestClient) -> None:
    low = make_ticket(client, priority="low")["id"]
    high = make_ticket(client, priority="high", status="resolved")["id"]
    request = BulkRequest.model_validate(
        {"ids": [low, high], "changes": {"priority": "critical", "status": "closed"}}
    )
    outcome = bulk_update(request, actor=SYSTEM)
    assert outcome.updated == 2
    assert outcome.previous == {
        low: {"priority": "low", "status": "open"},
        high: {"priority": "high", "status": "resolved"},
    }
    assert undo_bulk(outcome.previous, actor=SYSTEM) == 2
    assert state(client, low)[:2] == ("open", "low")
    assert state(client, high)[:2] == ("resolved", "high")
    assert changed_fields(client, low) == ["priority", "priority", "status", "status"]
    assert undo_bulk(outcome.previous, actor=SYSTEM) == 0
