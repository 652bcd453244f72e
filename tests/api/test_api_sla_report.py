"""GET /api/sla/report/: the report over the list's filters, its shape and its refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.tickets import make_ticket


def compliance(body: dict, target: str, priority: str | None) -> dict:
    (row,) = [
        row for row in body["compliance"] if row["target"] == target and row["priority"] == priority
    ]
    return row


def test_the_report_counts_replies_and_follows_the_list_filters(client: TestClient) -> None:
    answered = make_ticket(client, priority="critical")["id"]
    make_ticket(client, priority="critical")
    make_ticket(client, priority="low")
    reply = {"body": "On it.", "public": True}
    assert client.post(f"/api/tickets/{answered}/comments/", json=reply).status_code == 201

    body = client.get("/api/sla/report/", params={"priority": "critical"}).json()

    assert set(body) == {
        "as_of",
        "compliance",
        "first_response_time",
        "resolution_time",
        "breaches_by_assignee",
    }
    assert body["as_of"].endswith("+00:00")
    assert compliance(body, "first_response", None) == {
        "target": "first_response",
        "priority": None,
        "met": 1,
        "breached": 0,
        "on_time": 1,
        "met_percent": 100.0,
    }
    assert compliance(body, "first_response", "low")["on_time"] == 0
    assert compliance(body, "resolution", "critical")["on_time"] == 2
    assert body["first_response_time"]["tickets"] == 1
    assert body["first_response_time"]["median_hours"] < 0.1  # the seconds the test took
    assert body["resolution_time"] == {"tickets": 0, "median_hours": None, "p90_hours": None}
    assert body["breaches_by_assignee"] == []
    everything = client.get("/api/sla/report/").json()
    assert compliance(everything, "first_response", None)["on_time"] == 2


def test_a_filter_the_list_refuses_is_refused_here_too(client: TestClient) -> None:
    response = client.get("/api/sla/report/", params={"priority": "urgent"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "priority"
    unknown = client.get("/api/sla/report/", params={"colour": "red"})
    assert unknown.status_code == 422
