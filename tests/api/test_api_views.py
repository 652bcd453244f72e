"""Saved views: own and shared, counts that follow the tickets, checked queries, who may delete."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL
from tests.support.tickets import make_ticket
from tests.support.workspace import error_fields, signed_in, staff_clients
from ticket_app.models import Role
from ticket_app.settings import get_settings


def save(client: TestClient, name: str, query: dict[str, str], shared: bool = False):
    return client.post("/api/views/", json={"name": name, "query": query, "shared": shared})


def views_of(client: TestClient) -> dict[str, dict]:
    response = client.get("/api/views/")
    assert response.status_code == 200, response.text
    return {view["name"]: view for view in response.json()}


def test_a_view_counts_for_whoever_opens_it(client: TestClient) -> None:
    with staff_clients(Role.AGENT, Role.AGENT) as [(ann, ann_client), (bob, bob_client)]:
        make_ticket(client, assignee_id=ann)
        make_ticket(client, assignee_id=ann, priority="critical")
        make_ticket(client, assignee_id=bob)
        query = {"assignee": "me", "sort": "-priority"}
        assert save(client, "By token", query, shared=True).status_code == 403  # a console act
        with signed_in(ADMIN_EMAIL) as admin:
            shared = save(admin, "Mine, urgent first", query, shared=True)
        assert shared.status_code == 201
        assert shared.json()["owner_name"] == "Test Admin" and shared.json()["shared"] is True
        assert shared.json()["count"] == 0  # the admin's own tickets, as the list would say
        assert views_of(ann_client)["Mine, urgent first"]["count"] == 2
        assert views_of(bob_client)["Mine, urgent first"]["count"] == 1
        assert views_of(client)["Mine, urgent first"]["count"] == 0
        opened = save(ann_client, "Open", {"status": "open"})
        assert opened.status_code == 201 and opened.json()["count"] == 3
        assert set(views_of(ann_client)) == {"Mine, urgent first", "Open"}
        assert set(views_of(bob_client)) == {"Mine, urgent first"}  # Ann's own stays hers
        make_ticket(client)
        assert views_of(ann_client)["Open"]["count"] == 4  # counts follow the tickets


def test_views_are_listed_by_name_with_their_query(client: TestClient) -> None:
    query = {"q": "refund", "status": "open", "assignee": "none", "sort": "created_at"}
    for name in ("Zeta", "Alpha"):
        assert save(client, name, query).status_code == 201
    listed = client.get("/api/views/").json()
    assert [view["name"] for view in listed] == ["Alpha", "Zeta"]
    assert listed[0]["query"] == query


def test_views_keep_the_language_and_frustration_filters(client: TestClient) -> None:
    german = make_ticket(
        client,
        title="Server nicht erreichbar",
        description="Unser Server ist seit heute Morgen nicht erreichbar, bitte helfen Sie uns.",
    )
    angry = make_ticket(
        client,
        title="Invoice wrong AGAIN",
        description="This is the third time I write about my invoice. Fix it or I will "
        "cancel my subscription.",
    )
    make_ticket(client)
    assert german["language"] == "de" and angry["frustrated"] is True
    with signed_in(ADMIN_EMAIL) as admin:
        for name, query in (
            ("German", {"language": "de"}),
            ("Angry", {"frustrated": "true"}),
            ("Calm", {"frustrated": "false"}),
        ):
            assert save(admin, name, query).status_code == 201
        views = views_of(admin)
        assert views["German"]["query"] == {"language": "de"}
        assert views["Angry"]["query"] == {"frustrated": "true"}
        assert views["Calm"]["query"] == {"frustrated": "false"}
        assert views["German"]["count"] == 1 and views["Angry"]["count"] == 1
        assert views["Calm"]["count"] == 2
        for query, field in (
            ({"language": "German"}, "query.language"),
            ({"language": "DE"}, "query.language"),
            ({"frustrated": "yes"}, "query.frustrated"),
        ):
            response = save(admin, "Bad", query)
            assert response.status_code == 422, query
            assert error_fields(response) == [field], response.json()


def test_only_admins_share_views(client: TestClient) -> None:
    with staff_clients(Role.AGENT, Role.VIEWER) as [(_, agent), (_, viewer)]:
        assert save(agent, "Team", {}, shared=True).status_code == 403
        assert save(viewer, "Mine", {"assignee": "me"}).status_code == 201
    with staff_clients(Role.ADMIN, scopes="tickets:read") as [(_, reader)]:
        assert save(reader, "Read token", {}).status_code == 201


def test_bad_views_are_refused_naming_the_field(client: TestClient) -> None:
    cases = [
        ({"colour": "red"}, "query.colour"),
        ({"status": "waiting"}, "query.status"),
        ({"sort": "priority"}, "query.sort"),
        ({"assignee": "bob"}, "query.assignee"),
        ({"created_since": "2026-01-01"}, "query.created_since"),
        ({"search": "x" * 201}, "query.search"),
    ]
    for query, field in cases:
        response = save(client, "Bad", query)
        assert response.status_code == 422, query
        assert error_fields(response) == [field], response.json()
    response = client.post("/api/views/", json={"name": " ", "query": {}})
    assert response.status_code == 422 and error_fields(response) == ["name"]
    assert save(client, "Twice", {}).status_code == 201
    duplicate = save(client, " Twice ", {"status": "open"})
    assert duplicate.status_code == 409 and error_fields(duplicate) == ["name"]


def test_owners_delete_their_views_admins_any_shared_one(client: TestClient) -> None:
    with staff_clients(Role.AGENT, Role.AGENT) as [(_, ann), (_, bob)]:
        own = save(ann, "Ann's", {}).json()["id"]
        with signed_in(ADMIN_EMAIL) as admin:
            team = save(admin, "Team", {}, shared=True).json()["id"]
        assert bob.delete(f"/api/views/{own}/").status_code == 404  # not visible to Bob
        assert bob.delete(f"/api/views/{team}/").status_code == 403
        assert ann.delete(f"/api/views/{own}/").status_code == 204
        assert ann.delete(f"/api/views/{own}/").status_code == 404
        assert client.delete(f"/api/views/{team}/").status_code == 204
        assert views_of(bob) == {}


def test_a_count_beyond_the_cap_is_flagged_as_an_estimate(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the list's `X-Total-Count`: exact up to the count cap, an estimate beyond it."""
    for n in range(4):
        make_ticket(client, title=f"Printer jam {n}")
    monkeypatch.setattr(get_settings(), "count_cap", 2)
    assert save(client, "Unowned", {"assignee": "none"}).json()["count_exact"] is False
    assert save(client, "Open", {"status": "open"}).json()["count_exact"] is True
    assert save(client, "Nothing", {"q": "toner"}).json()["count_exact"] is True
    listed = views_of(client)
    assert listed["Unowned"]["count"] >= 2 and listed["Unowned"]["count_exact"] is False
    assert (listed["Open"]["count"], listed["Open"]["count_exact"]) == (4, True)
    assert (listed["Nothing"]["count"], listed["Nothing"]["count_exact"]) == (0, True)
