"""Followers and @mentions through the API: follow, unfollow, the list, who is told what."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.auth import add_token, add_user, bearer
from ticket_app.api.app import create_api
from ticket_app.models import TicketEvent


@pytest.fixture
def people(db: Engine, admin_token: str) -> dict[str, TestClient]:
    """API clients acting as the admin, two agents (Ann Lee, Bob) and a viewer (Vic)."""
    clients = {"admin": TestClient(create_api(), headers=bearer(admin_token))}
    for name, role in (("ann.lee", "agent"), ("bob", "agent"), ("vic", "viewer")):
        add_user(role, f"{name}@example.com")
        clients[name] = TestClient(create_api(), headers=bearer(add_token(f"{name}@example.com")))
    return clients


def _ticket(client: TestClient, **fields: object) -> int:
    payload = {"title": "VPN drops", "description": "Every hour.", "category": "technical"}
    response = client.post("/api/tickets/", json={**payload, **fields, "priority": "high"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _user_id(client: TestClient) -> int:
    return client.get("/api/me/").json()["id"]


def _followers(client: TestClient, ticket_id: int) -> list[str]:
    response = client.get(f"/api/tickets/{ticket_id}/followers/")
    assert response.status_code == 200, response.text
    return [item["email"] for item in response.json()]


def _kinds(client: TestClient) -> list[str]:
    return [item["kind"] for item in client.get("/api/notifications/").json()]


def test_anyone_on_the_staff_follows_and_unfollows_idempotently(
    people: dict[str, TestClient], db: Engine
) -> None:
    ticket_id = _ticket(people["admin"])
    url = f"/api/tickets/{ticket_id}/followers/me/"
    for name in ("vic", "bob", "bob"):
        response = people[name].put(url)
        assert response.status_code == 204 and response.content == b""
    assert _followers(people["ann.lee"], ticket_id) == ["bob@example.com", "vic@example.com"]
    [item] = [
        f
        for f in people["vic"].get(f"/api/tickets/{ticket_id}/followers/").json()
        if f["email"] == "bob@example.com"
    ]
    assert item == {"user_id": _user_id(people["bob"]), "name": "bob", "email": "bob@example.com"}
    for _ in range(2):
        assert people["bob"].delete(url).status_code == 204
    assert _followers(people["admin"], ticket_id) == ["vic@example.com"]
    with db.connect() as connection:
        kinds = (
            connection.execute(
                sa.select(TicketEvent.kind)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.field == "followers")
                .order_by(TicketEvent.id)
            )
            .scalars()
            .all()
        )
    assert kinds == ["follower_added", "follower_added", "follower_removed"]


def test_unknown_tickets_and_anonymous_callers(
    people: dict[str, TestClient], anonymous_client: TestClient
) -> None:
    assert people["bob"].put("/api/tickets/999999/followers/me/").status_code == 404
    assert people["bob"].delete("/api/tickets/999999/followers/me/").status_code == 404
    assert people["bob"].get("/api/tickets/999999/followers/").status_code == 404
    ticket_id = _ticket(people["admin"])
    for method in ("PUT", "DELETE"):
        response = anonymous_client.request(method, f"/api/tickets/{ticket_id}/followers/me/")
        assert response.status_code == 401
    assert anonymous_client.get(f"/api/tickets/{ticket_id}/followers/").status_code == 401


def test_followers_are_told_of_replies_by_others_once(people: dict[str, TestClient]) -> None:
    ann, bob, vic = people["ann.lee"], people["bob"], people["vic"]
    ticket_id = _ticket(people["admin"], assignee_id=_user_id(bob))
    for client in (bob, vic, ann):
        assert client.put(f"/api/tickets/{ticket_id}/followers/me/").status_code == 204
    bob_before = len(_kinds(bob))
    ann.post(f"/api/tickets/{ticket_id}/comments/", json={"body": "Logs attached", "public": True})
    assert _kinds(vic) == ["replied"]
    assert _kinds(ann) == []  # never the person who wrote it
    assert len(_kinds(bob)) == bob_before + 1  # owner and follower: told once


def test_a_mention_in_a_note_notifies_and_makes_a_follower(people: dict[str, TestClient]) -> None:
    ann, bob, vic = people["ann.lee"], people["bob"], people["vic"]
    ticket_id = _ticket(people["admin"])
    assert vic.put(f"/api/tickets/{ticket_id}/followers/me/").status_code == 204
    note = {"body": "@ann.lee and @Bob, can you look? mail me at x@bob.com", "public": False}
    assert bob.post(f"/api/tickets/{ticket_id}/comments/", json=note).status_code == 201
    items = ann.get("/api/notifications/").json()
    assert [(item["kind"], item["ticket_id"]) for item in items] == [("mentioned", ticket_id)]
    assert items[0]["actor"].startswith("bob@example.com")
    assert _kinds(bob) == []  # mentioning oneself tells nobody
    assert _kinds(vic) == ["replied"]
    assert _followers(vic, ticket_id) == ["ann.lee@example.com", "vic@example.com"]
    # A public reply mentions nobody: the customer reads it.
    reply = {"body": "Thanks @vic", "public": True}
    assert bob.post(f"/api/tickets/{ticket_id}/comments/", json=reply).status_code == 201
    assert _kinds(vic) == ["replied", "replied"]
    assert _kinds(ann) == ["replied", "mentioned"]
