"""Service levels through HTTP: policies and calendars read by anyone who reads tickets, written
by an admin's session, audited, refused with a 422 naming the field; tickets carry their due
times."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL
from tests.support.tickets import make_ticket
from tests.support.workspace import error_fields, signed_in, staff_clients
from ticket_app.models import Role
from ticket_app.services import sla_check

OFFICE = {
    "name": "Berlin office",
    "time_zone": "Europe/Berlin",
    "weekly_hours": {
        day: [["09:00", "12:30"], ["13:30", "17:00"]]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
    },
    "holiday_country": "DE",
    "holiday_subdivision": "BY",
    "closed_dates": ["2026-12-24"],
}


def policies(client: TestClient) -> dict[tuple[str, str | None], dict]:
    response = client.get("/api/sla/policies/")
    assert response.status_code == 200, response.text
    return {(policy["priority"], policy["category"]): policy for policy in response.json()}


def test_anyone_who_reads_tickets_sees_the_default_policies_and_calendar(db) -> None:
    with staff_clients(Role.VIEWER) as [(_, viewer)]:
        found = policies(viewer)
        calendars = viewer.get("/api/sla/calendars/").json()
    assert [key for key in found] == [
        ("critical", None),
        ("high", None),
        ("medium", None),
        ("low", None),
    ]
    assert found[("critical", None)]["first_response_minutes"] == 60
    assert [calendar["name"] for calendar in calendars] == ["24/7"]
    assert calendars[0]["weekly_hours"]["sunday"] == [["00:00", "24:00"]]


def test_ticket_objects_carry_their_due_times(client: TestClient) -> None:
    ticket = make_ticket(client, priority="critical")

    created = datetime.fromisoformat(ticket["created_at"])
    assert datetime.fromisoformat(ticket["first_response_due_at"]) == created + timedelta(hours=1)
    assert ticket["sla_due_at"] == ticket["first_response_due_at"]
    assert ticket["resolution_due_at"].endswith("+00:00")
    assert ticket["sla_policy_id"] == policies(client)[("critical", None)]["id"]
    assert ticket["sla_breached_at"] is None and ticket["sla_paused"] is False


def test_an_admin_edits_adds_and_removes_policies(client: TestClient) -> None:
    high = policies(client)[("high", None)]
    body = {
        "name": "High",
        "calendar_id": high["calendar_id"],
        "first_response_minutes": 120,
        "next_response_minutes": None,
        "resolution_minutes": 960,
    }
    with signed_in(ADMIN_EMAIL) as admin:
        changed = admin.put(f"/api/sla/policies/{high['id']}/", json=body)
        assert changed.status_code == 200, changed.text
        assert changed.json()["next_response_minutes"] is None
        added = admin.post(
            "/api/sla/policies/", json={**body, "name": "High billing", "priority": "high",
                                        "category": "billing"}
        )  # fmt: skip
        assert added.status_code == 201, added.text
        again = admin.post(
            "/api/sla/policies/", json={**body, "name": "Other", "priority": "high",
                                        "category": "billing"}
        )  # fmt: skip
        assert again.status_code == 409 and error_fields(again) == ["category"]
        default_gone = admin.delete(f"/api/sla/policies/{high['id']}/")
        assert default_gone.status_code == 409
        assert admin.delete(f"/api/sla/policies/{added.json()['id']}/").status_code == 204
    assert policies(client)[("high", None)]["first_response_minutes"] == 120
    assert ("high", "billing") not in policies(client)
    token_put = client.put(f"/api/sla/policies/{high['id']}/", json=body)
    assert token_put.status_code == 403  # a token never changes a service level


def test_edits_still_being_applied_are_listed_until_the_check_has_reached_every_ticket(
    client: TestClient,
) -> None:
    ticket = make_ticket(client, priority="high")
    high = policies(client)[("high", None)]
    assert client.get("/api/sla/rechecks/").json() == []
    body = {"name": high["name"], "calendar_id": high["calendar_id"], "first_response_minutes": 30}
    with signed_in(ADMIN_EMAIL) as admin:
        assert admin.put(f"/api/sla/policies/{high['id']}/", json=body).status_code == 200

    [pending] = client.get("/api/sla/rechecks/").json()
    assert pending["reason"] == f"policy {high['id']} changed"
    assert (pending["priority"], pending["category"], pending["calendar_id"]) == (
        "high",
        None,
        None,
    )
    assert pending["after_id"] == 0 and pending["requested_at"].endswith("+00:00")
    unchanged = client.get(f"/api/tickets/{ticket['id']}/").json()
    assert unchanged["first_response_due_at"] == ticket["first_response_due_at"]

    sla_check.check_due()

    assert client.get("/api/sla/rechecks/").json() == []
    moved = client.get(f"/api/tickets/{ticket['id']}/").json()
    created = datetime.fromisoformat(ticket["created_at"])
    assert datetime.fromisoformat(moved["first_response_due_at"]) == created + timedelta(minutes=30)


def test_policy_targets_are_checked(db, client: TestClient) -> None:
    high = policies(client)[("high", None)]
    with signed_in(ADMIN_EMAIL) as admin:
        zero = admin.put(
            f"/api/sla/policies/{high['id']}/",
            json={"name": "High", "calendar_id": high["calendar_id"], "first_response_minutes": 0},
        )
        no_calendar = admin.put(
            f"/api/sla/policies/{high['id']}/", json={"name": "High", "calendar_id": 999}
        )
    assert zero.status_code == 422 and error_fields(zero) == ["first_response_minutes"]
    assert no_calendar.status_code == 422 and error_fields(no_calendar) == ["calendar_id"]


def test_an_admin_adds_and_changes_a_calendar(client: TestClient) -> None:
    with signed_in(ADMIN_EMAIL) as admin:
        added = admin.post("/api/sla/calendars/", json=OFFICE)
        assert added.status_code == 201, added.text
        calendar = added.json()
        assert calendar["weekly_hours"]["monday"] == [["09:00", "12:30"], ["13:30", "17:00"]]
        assert calendar["weekly_hours"]["sunday"] == []
        assert calendar["closed_dates"] == ["2026-12-24"]
        taken = admin.post("/api/sla/calendars/", json=OFFICE)
        assert taken.status_code == 409 and error_fields(taken) == ["name"]
        moved = admin.put(
            f"/api/sla/calendars/{calendar['id']}/", json={**OFFICE, "time_zone": "Europe/Paris"}
        )
        assert moved.status_code == 200 and moved.json()["time_zone"] == "Europe/Paris"
        missing = admin.put("/api/sla/calendars/999/", json=OFFICE)
        assert missing.status_code == 404


def test_an_invalid_calendar_is_a_422_naming_the_field(client: TestClient) -> None:
    cases = {
        "time_zone": {**OFFICE, "time_zone": "Mars/Olympus"},
        "weekly_hours.monday": {
            **OFFICE,
            "weekly_hours": {"monday": [["09:00", "13:00"], ["12:00", "17:00"]]},
        },
        "holiday_country": {**OFFICE, "holiday_country": "XX", "holiday_subdivision": None},
        "holiday_subdivision": {**OFFICE, "holiday_subdivision": "ZZ"},
    }
    with signed_in(ADMIN_EMAIL) as admin:
        for field, body in cases.items():
            response = admin.post("/api/sla/calendars/", json=body)
            assert response.status_code == 422, (field, response.text)
            assert error_fields(response) == [field], response.text
        closed = admin.post("/api/sla/calendars/", json={**OFFICE, "weekly_hours": {}})
        assert closed.status_code == 422 and error_fields(closed) == ["weekly_hours"]
