"""`sort` on the ticket list and the export: each order, paged across pages, and its cursors."""

from __future__ import annotations

import base64
import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.api.workspace import START, all_pages, error_fields, set_updated_at, ticket_at
from ticket_app.services.ticket_query import encode_cursor

PRIORITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
STATUS_RANK = {"open": 4, "in_progress": 3, "resolved": 2, "closed": 1}
# (minutes after START, priority, status); two pairs share a creation time, so ties go by id.
SPEC = [
    (0, "low", "closed"),
    (5, "critical", "open"),
    (5, "medium", "open"),
    (9, "critical", "resolved"),
    (12, "high", "in_progress"),
    (12, "high", "in_progress"),
    (20, "low", "open"),
]


@pytest.fixture
def tickets(client: TestClient, db: Engine) -> list[dict]:
    made = [
        ticket_at(client, db, minutes, priority=priority, status=status)
        for minutes, priority, status in SPEC
    ]
    # Last changed in an order of their own: reversed creation, two sharing an instant.
    for position, ticket in enumerate(made):
        moment = START + timedelta(days=1, minutes=-min(position, 5))
        set_updated_at(db, ticket["id"], moment)
        ticket["updated_at"] = moment
    return made


def expected(tickets: list[dict], sort: str) -> list[int]:
    keys = {
        "-created_at": lambda t: (t["created_at"], t["id"]),
        "created_at": lambda t: (t["created_at"], t["id"]),
        "-updated_at": lambda t: (t["updated_at"], t["id"]),
        "-priority": lambda t: (PRIORITY_RANK[t["priority"]], t["created_at"], t["id"]),
        "status": lambda t: (STATUS_RANK[t["status"]], t["created_at"], t["id"]),
    }
    ordered = sorted(tickets, key=keys[sort], reverse=sort != "created_at")
    return [ticket["id"] for ticket in ordered]


@pytest.mark.parametrize(
    "sort", ["-created_at", "created_at", "-updated_at", "-priority", "status"]
)
@pytest.mark.parametrize("limit", [2, 3, 50])
def test_every_sort_pages_through_every_ticket_once_in_order(
    client: TestClient, tickets: list[dict], sort: str, limit: int
) -> None:
    ids, totals = all_pages(client, "/api/tickets/", sort=sort, limit=limit)
    assert ids == expected(tickets, sort)
    assert set(totals) == {len(tickets)}


def test_the_default_is_newest_first(client: TestClient, tickets: list[dict]) -> None:
    assert all_pages(client, "/api/tickets/", limit=2)[0] == expected(tickets, "-created_at")


def test_sorted_pages_follow_the_filters(client: TestClient, tickets: list[dict]) -> None:
    ids, totals = all_pages(client, "/api/tickets/", sort="-priority", status="open", limit=1)
    assert ids == expected([t for t in tickets if t["status"] == "open"], "-priority")
    assert set(totals) == {3}


@pytest.mark.parametrize("sort", ["priority", "id", "-status", "", "created"])
def test_an_unknown_sort_is_a_422_naming_sort(client: TestClient, sort: str) -> None:
    response = client.get("/api/tickets/", params={"sort": sort})
    assert response.status_code == 422
    assert error_fields(response) == ["sort"]


def test_a_cursor_only_continues_its_own_sort(client: TestClient, tickets: list[dict]) -> None:
    first = client.get("/api/tickets/", params={"sort": "-priority", "limit": 2})
    cursor = first.headers["Link"].split("cursor=", 1)[1].split("&", 1)[0]
    for other in ("status", "-created_at", "created_at"):
        response = client.get("/api/tickets/", params={"sort": other, "cursor": cursor})
        assert response.status_code == 422, other
        assert error_fields(response) == ["cursor"]
        assert "another sort" in response.json()["detail"]
    newest = encode_cursor(tickets[0]["id"])
    response = client.get("/api/tickets/", params={"sort": "-updated_at", "cursor": newest})
    assert response.status_code == 422 and error_fields(response) == ["cursor"]


def test_cursors_clients_already_hold_still_work(client: TestClient, tickets: list[dict]) -> None:
    order = expected(tickets, "-created_at")
    response = client.get("/api/tickets/", params={"cursor": encode_cursor(order[2])})
    assert [item["id"] for item in response.json()] == order[3:]


@pytest.mark.parametrize(
    "payload",
    [
        b't2:["-priority",1,"x","2026-03-01T09:00:00+00:00"]',
        b't2:["-priority",1,9,"2026-03-01T09:00:00+00:00"]',
        b't2:["-priority",1,4,"2026-03-01T09:00:00"]',
        b't2:["-priority",0,4,"2026-03-01T09:00:00+00:00"]',
        b't2:["-priority",1,4]',
        b"t2:{}",
        b"t2:[[],1]",
    ],
)
def test_forged_sorted_cursors_are_a_422(client: TestClient, payload: bytes) -> None:
    cursor = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    response = client.get("/api/tickets/", params={"sort": "-priority", "cursor": cursor})
    assert response.status_code == 422 and error_fields(response) == ["cursor"]


def test_an_edit_between_pages_does_not_repeat_or_skip(
    client: TestClient, tickets: list[dict]
) -> None:
    first = client.get("/api/tickets/", params={"sort": "-updated_at", "limit": 3})
    seen = [item["id"] for item in first.json()]
    # The last ticket of page one changes: it moves to the top, behind the reader.
    assert client.patch(f"/api/tickets/{seen[-1]}/", json={"status": "closed"}).status_code == 200
    rest, _ = all_pages(client, first.headers["Link"].split(">", 1)[0].lstrip("<"))
    assert seen + rest == expected(tickets, "-updated_at")


def test_the_export_follows_sort_and_filters(client: TestClient, tickets: list[dict]) -> None:
    response = client.get("/api/tickets/export/", params={"sort": "-priority"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(row["id"]) for row in rows] == expected(tickets, "-priority")
    assert {"assignee_id", "requester_name", "requester_email"} <= set(rows[0])
    response = client.get("/api/tickets/export/", params={"sort": "bogus"})
    assert response.status_code == 422 and error_fields(response) == ["sort"]
