"""Notifications through the API: who is told what, the bell's count, marking read, permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL
from tests.support.auth import actor_of, add_token, add_user, bearer
from ticket_app.api.app import create_api
from ticket_app.models import utc_now
from ticket_app.schemas import CommentCreate, TicketUpdate
from ticket_app.services.comments import add_comment
from ticket_app.services.sla_check import check_due
from ticket_app.services.tickets import update_ticket


@pytest.fixture
def people(db: Engine, admin_token: str) -> dict[str, TestClient]:
    """API clients acting as the admin, two agents (Ann, Bob) and a viewer (Vic)."""
    clients = {"admin": TestClient(create_api(), headers=bearer(admin_token))}
    for name, role in (("ann", "agent"), ("bob", "agent"), ("vic", "viewer")):
        add_user(role, f"{name}@example.com")
        clients[name] = TestClient(create_api(), headers=bearer(add_token(f"{name}@example.com")))
    return clients


def _user_id(client: TestClient) -> int:
    return client.get("/api/me/").json()["id"]


def _ticket(client: TestClient, **fields: object) -> int:
    payload = {"title": "VPN drops", "description": "Every hour.", "category": "technical"}
    response = client.post("/api/tickets/", json={**payload, **fields, "priority": "high"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _kinds(client: TestClient) -> list[tuple[str, int]]:
    return [(item["kind"], item["ticket_id"]) for item in client.get("/api/notifications/").json()]


def test_assigning_a_ticket_tells_the_new_assignee_not_the_one_who_assigned(
    people: dict[str, TestClient],
) -> None:
    ann, bob = people["ann"], people["bob"]
    ticket_id = _ticket(ann)
    assert ann.patch(f"/api/tickets/{ticket_id}/", json={"assignee_id": _user_id(bob)}).is_success
    response = bob.get("/api/notifications/")
    assert response.status_code == 200
    [item] = response.json()
    assert item["kind"] == "assigned" and item["ticket_id"] == ticket_id
    assert item["actor"].startswith("ann@example.com") and item["read_at"] is None
    assert item["ticket_title"] == "VPN drops"
    assert set(item) >= {"id", "kind", "ticket_id", "actor", "created_at", "read_at"}
    assert response.headers["X-Unread-Count"] == "1" and response.headers["X-Total-Count"] == "1"
    assert _kinds(ann) == []
    # Taking a ticket oneself tells nobody.
    mine = _ticket(bob)
    assert bob.patch(f"/api/tickets/{mine}/", json={"assignee_id": _user_id(bob)}).is_success
    assert [t for _, t in _kinds(bob)] == [ticket_id]


def test_a_reply_by_someone_else_tells_the_assignee(people: dict[str, TestClient]) -> None:
    ann, bob = people["ann"], people["bob"]
    ticket_id = _ticket(ann, assignee_id=_user_id(bob))
    ann.post(
        f"/api/tickets/{ticket_id}/comments/",
        json={"body": "Bob, the logs are attached.", "public": True},
    )
    bob.post(f"/api/tickets/{ticket_id}/comments/", json={"body": "Thanks", "public": False})
    items = bob.get("/api/notifications/").json()
    assert [item["kind"] for item in items] == ["replied", "assigned"]
    assert items[0]["detail"] == "Bob, the logs are attached."
    assert _kinds(ann) == []


def test_marking_read_by_ids_and_all_and_others_ids_are_ignored(
    people: dict[str, TestClient],
) -> None:
    ann, bob = people["ann"], people["bob"]
    for _ in range(3):
        _ticket(ann, assignee_id=_user_id(bob))
    _ticket(bob, assignee_id=_user_id(ann))
    bobs = bob.get("/api/notifications/").json()
    anns = ann.get("/api/notifications/").json()
    marked = bob.post("/api/notifications/read/", json={"ids": [bobs[0]["id"], anns[0]["id"]]})
    assert marked.status_code == 200 and marked.json() == {"marked": 1, "unread": 2}
    assert ann.get("/api/notifications/").json()[0]["read_at"] is None
    unread = bob.get("/api/notifications/?unread=true").json()
    assert [item["id"] for item in unread] == [bobs[1]["id"], bobs[2]["id"]]
    assert bob.post("/api/notifications/read/", json={"all": True}).json() == {
        "marked": 2,
        "unread": 0,
    }
    first_read = bob.get("/api/notifications/").json()[0]["read_at"]
    assert bob.post("/api/notifications/read/", json={"all": True}).json()["marked"] == 0
    assert bob.get("/api/notifications/").json()[0]["read_at"] == first_read


@pytest.mark.parametrize(
    "body",
    [{"ids": []}, {"ids": ["x"]}, {"ids": [0]}, {"all": 1}, {"all": "true"}, {"id": [1]}],
)
def test_a_read_request_with_bad_ids_or_all_is_a_422(
    people: dict[str, TestClient], body: dict
) -> None:
    response = people["ann"].post("/api/notifications/read/", json=body)
    assert response.status_code == 422
    assert response.json()["errors"]


def test_a_read_request_with_neither_marks_nothing(people: dict[str, TestClient]) -> None:
    ann, bob = people["ann"], people["bob"]
    _ticket(ann, assignee_id=_user_id(bob))
    for body in ({}, {"all": False}):
        assert bob.post("/api/notifications/read/", json=body).json() == {"marked": 0, "unread": 1}


def test_pages_follow_the_link_header_newest_first(people: dict[str, TestClient]) -> None:
    ann, bob = people["ann"], people["bob"]
    made = [_ticket(ann, assignee_id=_user_id(bob)) for _ in range(5)]
    first = bob.get("/api/notifications/?limit=2")
    assert [item["ticket_id"] for item in first.json()] == made[::-1][:2]
    url = first.headers["Link"].split(";")[0].strip("<>")
    second = bob.get(url)
    assert [item["ticket_id"] for item in second.json()] == made[::-1][2:4]
    assert bob.get("/api/notifications/?cursor=bm9wZQ").status_code == 422


def test_viewers_read_their_own_and_anonymous_callers_are_refused(
    people: dict[str, TestClient], anonymous_client: TestClient
) -> None:
    assert people["vic"].get("/api/notifications/").json() == []
    assert anonymous_client.get("/api/notifications/").status_code == 401
    assert anonymous_client.post("/api/notifications/read/", json={"all": True}).status_code == 401


def test_an_unowned_tickets_breach_tells_the_whole_team_and_an_owned_one_its_owner(
    people: dict[str, TestClient],
) -> None:
    ann, bob, vic = people["ann"], people["bob"], people["vic"]
    unowned = _ticket(ann)
    owned = _ticket(ann, assignee_id=_user_id(bob))
    bob.post("/api/notifications/read/", json={"all": True})
    # High priority: a first response within 240 minutes, so a warning at 192 (80%).
    check_due(utc_now() + timedelta(minutes=200))
    check_due(utc_now() + timedelta(days=30))
    for client in (ann, bob, people["admin"]):
        kinds = {kind for kind, ticket in _kinds(client) if ticket == unowned}
        assert {"sla_warning", "sla_breached"} <= kinds
    for client in (ann, people["admin"]):
        assert [kind for kind, ticket in _kinds(client) if ticket == owned] == []
    assert {"sla_warning", "sla_breached"} <= {k for k, t in _kinds(bob) if t == owned}
    assert _kinds(vic) == []


def test_service_calls_notify_in_the_same_transaction(people: dict[str, TestClient]) -> None:
    ann = actor_of("ann@example.com")
    bob = actor_of("bob@example.com")
    ticket_id = _ticket(people["ann"])
    update_ticket(ticket_id, TicketUpdate(assignee_id=bob.user_id), actor=ann)
    add_comment(ticket_id, CommentCreate(body="ping", public=False), actor=actor_of(ADMIN_EMAIL))
    assert [kind for kind, _ in _kinds(people["bob"])] == ["replied", "assigned"]
