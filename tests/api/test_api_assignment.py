"""Assignment: `assignee_id` on create and PATCH, `assignee=me|none|<id>` on list, stats, export."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.api.workspace import all_pages, error_fields, staff_clients
from tests.conftest import SYSTEM
from tests.helpers import make_ticket
from ticket_app.models import Role
from ticket_app.services.identity import users


def test_assign_reassign_and_unassign_are_audited(client: TestClient) -> None:
    ticket = make_ticket(client)
    url = f"/api/tickets/{ticket['id']}/"
    assert ticket["assignee_id"] is None
    with staff_clients(Role.AGENT, Role.ADMIN) as [(agent_id, _), (admin_id, _)]:
        assert client.patch(url, json={"assignee_id": agent_id}).json()["assignee_id"] == agent_id
        assert client.patch(url, json={"assignee_id": admin_id}).json()["assignee_id"] == admin_id
        assert client.patch(url, json={"assignee_id": None}).json()["assignee_id"] is None
        changes = [
            (event["old_value"], event["new_value"])
            for event in client.get(f"{url}events/").json()
            if event["field"] == "assignee_id"
        ]
        assert changes == [
            (None, str(agent_id)),
            (str(agent_id), str(admin_id)),
            (str(admin_id), None),
        ]


def test_only_active_agents_and_admins_can_be_assigned(client: TestClient) -> None:
    ticket = make_ticket(client)
    url = f"/api/tickets/{ticket['id']}/"
    with staff_clients(Role.VIEWER, Role.AGENT) as [(viewer_id, _), (agent_id, _)]:
        users.set_active("agent1@example.com", False, actor=SYSTEM)
        for assignee in (viewer_id, agent_id, 9999, 0, "1", True, 1.5):
            response = client.patch(url, json={"assignee_id": assignee})
            assert response.status_code == 422, assignee
            assert error_fields(response) == ["assignee_id"]
            response = client.post(
                "/api/tickets/",
                json={"title": "t", "description": "d", "assignee_id": assignee},
            )
            assert response.status_code == 422 and error_fields(response) == ["assignee_id"]
    assert client.get(url).json()["assignee_id"] is None
    assert client.get("/api/tickets/").headers["X-Total-Count"] == "1"


def test_create_takes_an_assignee_and_a_requester(client: TestClient) -> None:
    with staff_clients(Role.AGENT) as [(agent_id, agent)]:
        created = make_ticket(
            agent,
            assignee_id=agent_id,
            requester_name="  Ann Lee ",
            requester_email="ann@example.org",
        )
    assert created["assignee_id"] == agent_id
    assert (created["requester_name"], created["requester_email"]) == ("Ann Lee", "ann@example.org")
    url = f"/api/tickets/{created['id']}/"
    cleared = client.patch(url, json={"requester_name": None, "requester_email": None}).json()
    assert cleared["requester_name"] is None and cleared["requester_email"] is None
    for bad in ({"requester_email": "ann"}, {"requester_name": "  "}, {"title": None}):
        response = client.patch(url, json=bad)
        assert response.status_code == 422 and error_fields(response) == list(bad), bad


def test_the_assignee_filter_on_list_stats_and_export(client: TestClient) -> None:
    with staff_clients(Role.AGENT, Role.AGENT) as [(ann, ann_client), (bob, _)]:
        mine = [make_ticket(client, assignee_id=ann)["id"] for _ in range(3)]
        bobs = make_ticket(client, assignee_id=bob, status="closed")["id"]
        nobody = [make_ticket(client)["id"] for _ in range(2)]

        def listed(who: TestClient, assignee: str) -> list[int]:
            return sorted(all_pages(who, "/api/tickets/", assignee=assignee, limit=2)[0])

        assert listed(ann_client, "me") == mine  # a token's "me" is its owner
        assert listed(client, str(ann)) == mine
        assert listed(client, "none") == nobody
        assert listed(client, str(bob)) == [bobs]
        assert listed(client, "me") == []
        assert listed(client, "4242") == []
        assert listed(client, "4047021100") == []  # beyond any id: no one

        stats = ann_client.get("/api/tickets/stats/", params={"assignee": "me"}).json()
        assert stats["total_tickets"] == 3 and stats["open_tickets"] == 3
        everyone = client.get("/api/tickets/stats/", params={"workload": "true"}).json()
        assert "open_by_assignee" not in client.get("/api/tickets/stats/").json()
        everyone = everyone["open_by_assignee"]
        assert everyone == [
            {"assignee_id": ann, "name": "agent0", "open": 3},
            {"assignee_id": None, "name": "Unassigned", "open": 2},
        ]
        export = client.get("/api/tickets/export/", params={"assignee": "none"}).text
        assert sorted(int(row["id"]) for row in csv.DictReader(io.StringIO(export))) == nobody


def test_bad_assignee_filters_are_a_422_naming_assignee(client: TestClient) -> None:
    for path in ("/api/tickets/", "/api/tickets/stats/", "/api/tickets/export/"):
        for value in ("bob", "ME", " me", "-1", "", "12345678901"):
            response = client.get(path, params={"assignee": value})
            assert response.status_code == 422, (path, value)
            assert error_fields(response) == ["assignee"]


def test_assigning_needs_the_right_to_edit(client: TestClient) -> None:
    ticket = make_ticket(client)
    with staff_clients(Role.VIEWER, Role.AGENT) as [(viewer_id, viewer), (agent_id, _)]:
        response = viewer.patch(f"/api/tickets/{ticket['id']}/", json={"assignee_id": agent_id})
        assert response.status_code == 403
        assert viewer.get("/api/tickets/", params={"assignee": "me"}).json() == []
    assert viewer_id != agent_id
