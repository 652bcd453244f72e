"""The `pending` status (waiting on the requester) through the API: list, edits, sort, bulk,
saved views, export and import; existing statuses keep their meaning."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.tickets import make_ticket
from ticket_app.services.imports.write import import_records

WORKFLOW = ["open", "in_progress", "pending", "resolved", "closed"]


def test_the_list_filters_on_pending_and_open_leaves_it_out(client: TestClient) -> None:
    waiting = make_ticket(client, status="pending")
    make_ticket(client, status="open")
    listed = client.get("/api/tickets/", params={"status": "pending"})
    assert [t["id"] for t in listed.json()] == [waiting["id"]]
    assert listed.headers["x-total-count"] == "1"
    assert waiting["id"] not in [t["id"] for t in client.get("/api/tickets/?status=open").json()]


def test_a_ticket_goes_to_pending_and_back_with_audit_events(client: TestClient) -> None:
    ticket = make_ticket(client)
    assert ticket["status"] == "open"
    for status in ("pending", "open"):
        response = client.patch(f"/api/tickets/{ticket['id']}/", json={"status": status})
        assert response.status_code == 200 and response.json()["status"] == status
    events = client.get(f"/api/tickets/{ticket['id']}/events/").json()
    changes = [(e["old_value"], e["new_value"]) for e in events if e["field"] == "status"]
    assert changes == [("open", "pending"), ("pending", "open")]


def test_sort_by_status_puts_pending_between_in_progress_and_resolved(client: TestClient) -> None:
    for status in reversed(WORKFLOW):
        make_ticket(client, status=status)
    first = client.get("/api/tickets/", params={"sort": "status", "limit": 2})
    cursor = first.headers["Link"].split("cursor=", 1)[1].split("&", 1)[0].split(">", 1)[0]
    rest = client.get("/api/tickets/", params={"sort": "status", "cursor": cursor})
    assert [t["status"] for t in first.json() + rest.json()] == WORKFLOW


def test_bulk_changes_and_saved_views_take_pending(client: TestClient) -> None:
    ids = [make_ticket(client, status="open")["id"] for _ in range(2)]
    bulk = client.post(
        "/api/tickets/bulk/",
        json={"filters": {"status": "open"}, "changes": {"status": "pending"}},
    )
    assert bulk.status_code == 200 and bulk.json()["updated"] == 2
    view = client.post("/api/views/", json={"name": "Waiting", "query": {"status": "pending"}})
    assert view.status_code == 201 and view.json()["query"] == {"status": "pending"}
    listed = client.get("/api/tickets/?status=pending").json()
    assert sorted(t["id"] for t in listed) == ids


def test_export_writes_pending_and_import_reads_it_in_any_case(
    client: TestClient, db: Engine
) -> None:
    make_ticket(client, title="Waiting on logs", status="pending")
    exported = client.get("/api/tickets/export/")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["title"], r["status"]) for r in rows] == [("Waiting on logs", "pending")]
    records = [{"description": "Asked for the invoice number.", "status": "Pending"}]
    report = import_records(enumerate(records, start=1), classify=False)
    assert report.inserted == 1, report.errors
    assert client.get("/api/tickets/stats/").json()["status_breakdown"]["pending"] == 2
