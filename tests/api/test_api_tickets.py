"""REST API for creating, reading and updating tickets, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from tests.support.tickets import make_ticket
from ticket_app.triage import TriageSuggestion


def test_create_returns_201_with_the_stored_ticket(client: TestClient) -> None:
    response = client.post(
        "/api/tickets/",
        json={
            "title": "  Refund not received  ",
            "description": "I was promised a refund two weeks ago.",
            "category": "billing",
            "priority": "medium",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Refund not received"
    assert body["category"] == "billing"
    assert body["priority"] == "medium"
    assert body["status"] == "open"
    assert body["suggested_category"] is None
    assert response.headers["location"] == f"/api/tickets/{body['id']}/"
    created = datetime.fromisoformat(body["created_at"])
    assert body["created_at"].endswith("+00:00")
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    assert client.get(f"/api/tickets/{body['id']}/").json() == body


def test_create_without_category_and_priority_uses_the_classifier(client: TestClient) -> None:
    response = client.post(
        "/api/tickets/",
        json={
            "title": "Charged twice",
            "description": "My invoice shows a double charge on my card.",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["category"] == "billing"
    assert body["suggested_category"] == body["category"]
    assert body["suggested_priority"] == body["priority"]


def test_create_keeps_given_values_and_records_the_suggestion(client: TestClient) -> None:
    body = make_ticket(
        client,
        title="Charged twice",
        description="My invoice shows a double charge on my card.",
        category="general",
        priority=None,
    )
    assert body["category"] == "general"
    assert body["suggested_category"] in {"billing", "technical", "account", "general"}


def test_create_survives_a_failing_classifier(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BrokenClassifier:
        async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
            raise RuntimeError("classifier exploded")

    monkeypatch.setattr("ticket_app.services.tickets.get_classifier", BrokenClassifier)
    response = client.post("/api/tickets/", json={"title": "Help", "description": "Something odd."})
    assert response.status_code == 201
    body = response.json()
    assert (body["category"], body["priority"]) == ("general", "medium")
    assert body["suggested_category"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"description": "no title"}, "title"),
        ({"title": "no description"}, "description"),
        ({"title": "", "description": "x"}, "title"),
        ({"title": " \t ", "description": "x"}, "title"),
        ({"title": "x" * 201, "description": "x"}, "title"),
        ({"title": "ok", "description": "   "}, "description"),
        ({"title": "ok", "description": "x", "category": "sales"}, "category"),
        ({"title": "ok", "description": "x", "priority": "urgent"}, "priority"),
        ({"title": "ok", "description": "x", "status": "waiting"}, "status"),
        ({"title": "ok", "description": "x", "colour": "red"}, "colour"),
        ({"title": 5, "description": "x"}, "title"),
    ],
)
def test_create_rejects_invalid_input_naming_the_field(
    client: TestClient, payload: dict, field: str
) -> None:
    response = client.post("/api/tickets/", json=payload)
    assert response.status_code == 422
    body = response.json()
    assert field in {error["field"] for error in body["errors"]}
    assert any(error["loc"][-1] == field for error in body["detail"])
    assert client.get("/api/tickets/").json() == []


def test_title_of_200_characters_is_accepted(client: TestClient) -> None:
    assert make_ticket(client, title="ü" * 200)["title"] == "ü" * 200


def test_malformed_json_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/api/tickets/", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_oversized_body_is_a_413_and_writes_nothing(client: TestClient) -> None:
    huge = {"title": "big", "description": "x" * 1_100_000}
    response = client.post("/api/tickets/", json=huge)
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"
    assert client.get("/api/tickets/").json() == []


def test_overlong_description_is_a_422(client: TestClient) -> None:
    response = client.post("/api/tickets/", json={"title": "long", "description": "x" * 20_001})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "description"


def test_get_unknown_ticket_is_a_404_with_json(client: TestClient) -> None:
    response = client.get("/api/tickets/4242/")
    assert response.status_code == 404
    assert response.json()["detail"] == "Ticket 4242 not found"


def test_non_numeric_id_is_no_such_path(client: TestClient) -> None:
    response = client.get("/api/tickets/abc/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "path"


def test_patch_changes_only_the_given_fields(client: TestClient) -> None:
    ticket = make_ticket(client)
    response = client.patch(f"/api/tickets/{ticket['id']}/", json={"status": "in_progress"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "in_progress"
    assert {k: v for k, v in body.items() if k not in {"status", "updated_at"}} == {
        k: v for k, v in ticket.items() if k not in {"status", "updated_at"}
    }
    assert body["updated_at"] >= ticket["updated_at"]
    assert client.get(f"/api/tickets/{ticket['id']}").json()["status"] == "in_progress"


def test_patch_every_editable_field(client: TestClient) -> None:
    ticket = make_ticket(client)
    changes = {
        "title": "New title",
        "description": "New description",
        "category": "account",
        "priority": "critical",
        "status": "closed",
    }
    body = client.patch(f"/api/tickets/{ticket['id']}", json=changes).json()
    assert {key: body[key] for key in changes} == changes


def test_the_patch_answer_and_etag_are_the_stored_ticket(client: TestClient) -> None:
    """The answer is built from the updated row without reading it back: nothing may be stale."""
    ticket = make_ticket(client, priority="low")
    changes = {
        "title": "Printer on fire",
        "priority": "critical",
        "status": "pending",
        "requester_email": "ada@example.org",
        "tags": ["printer"],
    }
    response = client.patch(f"/api/tickets/{ticket['id']}/", json=changes)
    stored = client.get(f"/api/tickets/{ticket['id']}/")

    assert response.status_code == 200
    assert response.json() == stored.json()
    assert response.headers["ETag"] == stored.headers["ETag"]
    assert response.json()["sla_policy_id"] != ticket["sla_policy_id"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "done"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"category": None}, "category"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": " "}, "description"),
        ({"id": 99}, "id"),
    ],
)
def test_patch_rejects_invalid_values_and_changes_nothing(
    client: TestClient, changes: dict, field: str
) -> None:
    ticket = make_ticket(client)
    response = client.patch(f"/api/tickets/{ticket['id']}/", json=changes)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert client.get(f"/api/tickets/{ticket['id']}/").json() == ticket


def test_patch_unknown_ticket_is_a_404(client: TestClient) -> None:
    response = client.patch("/api/tickets/999/", json={"status": "closed"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "id"


def test_empty_patch_is_a_no_op(client: TestClient) -> None:
    ticket = make_ticket(client)
    assert client.patch(f"/api/tickets/{ticket['id']}/", json={}).json() == ticket


def test_database_outage_is_a_503_not_a_500(client: TestClient) -> None:
    from ticket_app.services.database import use_database

    use_database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    response = client.post(
        "/api/tickets/",
        json={"title": "t", "description": "d", "category": "general", "priority": "low"},
    )
    assert response.status_code == 503
    assert response.json()["errors"][0]["type"] == "database_unavailable"
    assert client.get("/api/tickets/").status_code == 503
    assert client.get("/api/tickets/stats/").status_code == 503


@pytest.mark.parametrize(
    "path", ["/api/tickets", "/api/tickets/", "/api/tickets/stats", "/api/tickets/stats/"]
)
def test_paths_answer_with_and_without_trailing_slash(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 200
