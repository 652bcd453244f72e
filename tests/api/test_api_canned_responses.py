"""Canned responses through the API: own and shared, who may do what, validation, rendering."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL
from tests.support.auth import add_ticket
from tests.support.workspace import all_pages, error_fields, signed_in, staff_clients
from ticket_app.models import Role, TicketEvent

FIELDS = {"id", "title", "body", "shared", "owner_id", "uses"}


def create(client: TestClient, title: str, body: str = "Hello", **more: object):
    return client.post("/api/canned-responses/", json={"title": title, "body": body, **more})


def titles(client: TestClient) -> list[str]:
    response = client.get("/api/canned-responses/")
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()]


def test_agents_keep_their_own_and_everyone_sees_the_shared_ones(client: TestClient) -> None:
    with staff_clients(Role.AGENT, Role.AGENT, Role.VIEWER) as [
        (ann_id, ann),
        (_, bob),
        (_, vic),
    ]:
        made = create(ann, " Refund policy ", "Refunds take 5 days.")
        assert made.status_code == 201, made.text
        assert set(made.json()) == FIELDS
        assert made.json()["title"] == "Refund policy" and made.json()["owner_id"] == ann_id
        assert made.json()["shared"] is False and made.json()["uses"] == 0
        assert create(ann, "Apology").status_code == 201
        with signed_in(ADMIN_EMAIL) as admin:
            team = create(admin, "Greeting", "Hi {{requester.name}}", shared=True)
            assert team.status_code == 201 and team.json()["shared"] is True
        assert titles(ann) == ["Apology", "Greeting", "Refund policy"]
        assert titles(bob) == ["Greeting"]  # Ann's own stay hers
        assert titles(vic) == ["Greeting"]
        assert titles(client) == ["Greeting"]


def test_who_may_create_edit_and_delete(client: TestClient) -> None:
    with staff_clients(Role.AGENT, Role.AGENT, Role.VIEWER) as [(_, ann), (_, bob), (_, vic)]:
        assert create(vic, "Mine").status_code == 403
        assert create(ann, "Team", shared=True).status_code == 403
        assert create(client, "By token", shared=True).status_code == 403  # a console act
        own = create(ann, "Own").json()["id"]
        own_url = f"/api/canned-responses/{own}/"
        with signed_in(ADMIN_EMAIL) as admin:
            team = create(admin, "Team", shared=True).json()["id"]
            url = f"/api/canned-responses/{team}/"
            changed = admin.patch(url, json={"title": "Team hello"})
            assert changed.status_code == 200 and changed.json()["title"] == "Team hello"
            # An admin cannot see another person's personal response either.
            assert admin.patch(own_url, json={"title": "x"}).status_code == 404
        assert bob.patch(own_url, json={"title": "Mine now"}).status_code == 404
        assert bob.delete(own_url).status_code == 404
        assert bob.patch(url, json={"title": "Hijacked"}).status_code == 403
        assert bob.delete(url).status_code == 403
        assert ann.patch(own_url, json={"shared": True}).status_code == 403
        assert vic.patch(url, json={"title": "x"}).status_code == 403
        assert vic.delete(url).status_code == 403
        edited = ann.patch(own_url, json={"body": "New body", "title": "Own one"})
        assert edited.status_code == 200 and edited.json()["body"] == "New body"
        assert ann.delete(own_url).status_code == 204
        assert ann.delete(own_url).status_code == 404
        with signed_in(ADMIN_EMAIL) as admin:
            assert admin.delete(url).status_code == 204
        assert titles(ann) == []


def test_anonymous_callers_are_refused(anonymous_client: TestClient) -> None:
    assert anonymous_client.get("/api/canned-responses/").status_code == 401
    assert anonymous_client.post("/api/canned-responses/", json={}).status_code == 401
    assert anonymous_client.patch("/api/canned-responses/1/", json={}).status_code == 401
    assert anonymous_client.delete("/api/canned-responses/1/").status_code == 401
    render = anonymous_client.post("/api/canned-responses/1/render/", json={"ticket_id": 1})
    assert render.status_code == 401


def test_bad_input_is_a_422_naming_the_field(client: TestClient) -> None:
    cases = [
        ({"title": "", "body": "x"}, "title"),
        ({"title": "   ", "body": "x"}, "title"),
        ({"title": "x" * 121, "body": "x"}, "title"),
        ({"title": "ok", "body": ""}, "body"),
        ({"title": "ok", "body": "x" * 10_001}, "body"),
        ({"title": "ok", "body": "a\x00b"}, "body"),
        ({"title": "ok", "body": "x", "shared": "yes"}, "shared"),
        ({"title": "ok", "body": "x", "colour": "red"}, "colour"),
    ]
    for payload, field in cases:
        response = client.post("/api/canned-responses/", json=payload)
        assert response.status_code == 422, payload
        assert error_fields(response) == [field], response.json()
    assert create(client, "x" * 120, "y" * 10_000).status_code == 201
    made = create(client, "Fine").json()["id"]
    for payload, field in [({"title": None}, "title"), ({"body": " "}, "body")]:
        response = client.patch(f"/api/canned-responses/{made}/", json=payload)
        assert response.status_code == 422 and error_fields(response) == [field]
    assert client.patch(f"/api/canned-responses/{made}/", json={}).status_code == 422
    render = client.post(f"/api/canned-responses/{made}/render/", json={"ticket_id": 999999})
    assert render.status_code == 422 and error_fields(render) == ["ticket_id"]


def test_render_fills_the_placeholders_and_counts_uses(client: TestClient) -> None:
    body = (
        "Hi {{requester.name}} <{{ requester.email }}>, about #{{ticket.id}} "
        "({{ticket.title}}): {{agent.name}}. {{ticket.secret}} {{requester.name"
    )
    made = create(client, "Reply", body).json()["id"]
    ticket = add_ticket(
        "VPN {{agent.name}}", requester_name="Casey Doe", requester_email="casey@example.org"
    )
    url = f"/api/canned-responses/{made}/render/"
    response = client.post(url, json={"ticket_id": ticket})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "body": f"Hi Casey Doe <casey@example.org>, about #{ticket} (VPN {{{{agent.name}}}}): "
        "Test Admin. {{ticket.secret}} {{requester.name"
    }
    anonymous = add_ticket("No requester")
    filled = client.post(url, json={"ticket_id": anonymous}).json()["body"]
    assert filled.startswith("Hi there <>, about")
    [item] = client.get("/api/canned-responses/").json()
    assert item["uses"] == 2


def test_viewers_cannot_render_and_others_personal_ones_are_404(client: TestClient) -> None:
    ticket = {"ticket_id": add_ticket()}
    with staff_clients(Role.AGENT, Role.VIEWER) as [(_, ann), (_, vic)]:
        own = create(client, "Admin's own").json()["id"]
        assert ann.post(f"/api/canned-responses/{own}/render/", json=ticket).status_code == 404
        assert vic.post(f"/api/canned-responses/{own}/render/", json=ticket).status_code == 403
        with signed_in(ADMIN_EMAIL) as admin:
            team = create(admin, "Team", "{{agent.name}}", shared=True).json()["id"]
        shared = ann.post(f"/api/canned-responses/{team}/render/", json=ticket)
        assert shared.status_code == 200 and shared.json()["body"] == "agent0"  # Ann's name


def test_the_list_pages_by_title(client: TestClient) -> None:
    for title in ["b", "a", "c", "a", "d"]:
        assert create(client, title).status_code == 201
    ids, totals = all_pages(client, "/api/canned-responses/", limit=2)
    listed = client.get("/api/canned-responses/").json()
    assert ids == [item["id"] for item in listed] and len(ids) == 5
    assert [item["title"] for item in listed] == ["a", "a", "b", "c", "d"]
    assert totals == [5, 5, 5]
    bad = client.get("/api/canned-responses/", params={"cursor": "nope"})
    assert bad.status_code == 422 and error_fields(bad) == ["cursor"]


def test_every_change_writes_an_audit_event_with_its_actor(client: TestClient, db: Engine) -> None:
    made = create(client, "Audit me").json()["id"]
    client.patch(f"/api/canned-responses/{made}/", json={"title": "Audited", "body": "Hello"})
    client.delete(f"/api/canned-responses/{made}/")
    with db.connect() as connection:
        rows = connection.execute(
            sa.select(TicketEvent.kind, TicketEvent.field, TicketEvent.actor_label)
            .where(TicketEvent.kind.like("canned_response_%"))
            .order_by(TicketEvent.id)
        ).all()
    assert [(kind, field) for kind, field, _ in rows] == [
        ("canned_response_created", f"canned {made}"),
        ("canned_response_changed", f"canned {made}.title"),
        ("canned_response_deleted", f"canned {made}"),
    ]
    assert all(label.startswith(ADMIN_EMAIL) for _, _, label in rows)
