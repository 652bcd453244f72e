"""Ticket tags through the API: create, replace, filter, bulk, stats, autocomplete, permissions."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL
from tests.support.auth import actor_of, add_token, add_user, bearer
from ticket_app.api.app import create_api
from ticket_app.schemas import BulkRequest
from ticket_app.services.bulk import bulk_update, undo_bulk


@pytest.fixture
def people(db: Engine, admin_token: str) -> dict[str, TestClient]:
    """API clients acting as the admin, an agent (Ann) and a viewer (Vic)."""
    clients = {"admin": TestClient(create_api(), headers=bearer(admin_token))}
    for name, role in (("ann", "agent"), ("vic", "viewer")):
        add_user(role, f"{name}@example.com")
        clients[name] = TestClient(create_api(), headers=bearer(add_token(f"{name}@example.com")))
    return clients


def _ticket(client: TestClient, title: str = "VPN drops", **fields: object) -> dict:
    payload = {"title": title, "description": "Every hour.", "category": "technical"}
    response = client.post("/api/tickets/", json={"priority": "high", **payload, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def _ids(client: TestClient, **params: str) -> list[int]:
    response = client.get("/api/tickets/", params=params)
    assert response.status_code == 200, response.text
    return sorted(item["id"] for item in response.json())


def _fields(response: Response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_tags_are_normalised_on_create_and_read_everywhere(client: TestClient) -> None:
    created = _ticket(client, tags=["  Billing ", "billing", "VIP   customer", "refund"])
    assert created["tags"] == ["billing", "refund", "vip customer"]
    ticket_id = created["id"]
    assert client.get(f"/api/tickets/{ticket_id}/").json()["tags"] == created["tags"]
    [listed] = [item for item in client.get("/api/tickets/").json() if item["id"] == ticket_id]
    assert listed["tags"] == created["tags"]
    assert _ticket(client, "No tags")["tags"] == []


def test_patch_replaces_the_set_and_null_or_absent_leaves_it(client: TestClient) -> None:
    ticket_id = _ticket(client, tags=["a", "b"])["id"]
    response = client.patch(f"/api/tickets/{ticket_id}/", json={"tags": ["B", "c"]})
    assert response.status_code == 200 and response.json()["tags"] == ["b", "c"]
    assert client.patch(f"/api/tickets/{ticket_id}/", json={"tags": None}).json()["tags"] == [
        "b",
        "c",
    ]
    assert client.patch(f"/api/tickets/{ticket_id}/", json={"status": "pending"}).json()[
        "tags"
    ] == ["b", "c"]
    assert client.patch(f"/api/tickets/{ticket_id}/", json={"tags": []}).json()["tags"] == []


def test_each_tag_change_is_one_audit_event_with_the_actor(client: TestClient) -> None:
    ticket_id = _ticket(client, tags=["b", "a"])["id"]
    before = client.get(f"/api/tickets/{ticket_id}/").json()["updated_at"]
    client.patch(f"/api/tickets/{ticket_id}/", json={"tags": ["a", "c"]})
    client.patch(f"/api/tickets/{ticket_id}/", json={"tags": ["c", "a"]})  # same set: no event
    events = client.get(f"/api/tickets/{ticket_id}/events/").json()
    tags = [(e["old_value"], e["new_value"]) for e in events if e["field"] == "tags"]
    assert tags == [(None, "a, b"), ("a, b", "a, c")]
    assert all(e["actor"].startswith("admin@example.com") for e in events if e["field"] == "tags")
    assert client.get(f"/api/tickets/{ticket_id}/").json()["updated_at"] > before


@pytest.mark.parametrize(
    "tags",
    [
        ["   "],
        [""],
        ["a,b"],
        ["-spam"],
        ["x" * 51],
        [f"t{n}" for n in range(21)],
        "billing",
        [1],
        ["nul\x00"],
        ["bell\x07"],
        ["\u200b-x"],
        [" " * 50 + "x"],
    ],
)
def test_bad_tags_are_a_422_naming_tags(client: TestClient, tags: object) -> None:
    created = client.post("/api/tickets/", json={"title": "t", "description": "d", "tags": tags})
    assert created.status_code == 422 and _fields(created)[0].startswith("tags")
    ticket_id = _ticket(client)["id"]
    patched = client.patch(f"/api/tickets/{ticket_id}/", json={"tags": tags})
    assert patched.status_code == 422 and _fields(patched)[0].startswith("tags")


def test_twenty_tags_fit_and_a_tag_of_fifty_characters(client: TestClient) -> None:
    tags = [f"t{n:02}" for n in range(19)] + ["x" * 50]
    assert _ticket(client, tags=tags)["tags"] == sorted(tags)


def test_the_tag_filter_keeps_and_excludes_and_combines(client: TestClient) -> None:
    billing = _ticket(client, "Invoice", tags=["billing"])["id"]
    both = _ticket(client, "Refund", tags=["billing", "spam"])["id"]
    spam = _ticket(client, "Win", tags=["spam"], category="general")["id"]
    plain = _ticket(client, "Plain")["id"]
    assert _ids(client, tag="billing") == [billing, both]
    assert _ids(client, tag=" BILLING ") == [billing, both]
    assert _ids(client, tag="-spam") == [billing, plain]
    assert _ids(client, tag="billing,-spam") == [billing]
    assert _ids(client, tag="spam", category="general") == [spam]
    assert _ids(client, tag="spam", q="Refund") == [both]
    assert _ids(client, tag="nobody") == []
    response = client.get("/api/tickets/", params={"tag": "billing", "limit": 1})
    assert response.headers["X-Total-Count"] == "2" and 'rel="next"' in response.headers["Link"]
    # Blank is no filter, blank parts are skipped, a name no tag can have matches nothing.
    assert _ids(client, tag=" ") == [billing, both, spam, plain]
    assert _ids(client, tag="billing,,") == [billing, both]
    assert _ids(client, tag="x" * 51) == _ids(client, tag="billing,-billing") == []
    everything = [billing, both, spam, plain]
    assert _ids(client, tag="-" + "x" * 51) == _ids(client, tag="--spam") == everything
    for bad in (",".join("abcdefghijk"), "a\x01", "x" * 521):
        refused = client.get("/api/tickets/", params={"tag": bad})
        assert refused.status_code == 422 and _fields(refused) == ["tag"], bad


def test_stats_and_export_take_the_tag_filter(client: TestClient) -> None:
    _ticket(client, "Invoice", tags=["billing", "vip"])
    _ticket(client, "Refund", tags=["billing"], status="closed")
    _ticket(client, "Plain")
    stats = client.get("/api/tickets/stats/", params={"tag": "billing"}).json()
    assert stats["total_tickets"] == 2 and stats["open_tickets"] == 1
    assert stats["tag_breakdown"] == [{"tag": "billing", "count": 2}, {"tag": "vip", "count": 1}]
    everything = client.get("/api/tickets/stats/").json()
    assert everything["total_tickets"] == 3 and everything["tag_breakdown"][0]["count"] == 2
    closed = client.get("/api/tickets/stats/", params={"status": "closed"}).json()
    assert closed["tag_breakdown"] == [{"tag": "billing", "count": 1}]
    exported = client.get("/api/tickets/export/", params={"tag": "vip"})
    assert exported.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(exported.text)))
    assert len(rows) == 1 and rows[0][header.index("tags")] == "billing, vip"


def test_bulk_adds_and_removes_tags_with_events_and_the_undo_data(client: TestClient) -> None:
    first = _ticket(client, tags=["old"])["id"]
    second = _ticket(client, "Other")["id"]
    response = client.post(
        "/api/tickets/bulk/",
        json={"ids": [first, second], "changes": {"add_tags": ["New", "urgent"]}},
    )
    assert response.json() == {"updated": 2}
    assert _ids(client, tag="urgent") == [first, second]
    assert client.get(f"/api/tickets/{first}/").json()["tags"] == ["new", "old", "urgent"]
    again = client.post(
        "/api/tickets/bulk/", json={"ids": [first, second], "changes": {"add_tags": ["new"]}}
    )
    assert again.json() == {"updated": 0}
    removed = client.post(
        "/api/tickets/bulk/",
        json={"filters": {"tag": "old"}, "changes": {"remove_tags": ["old"], "priority": "low"}},
    )
    assert removed.json() == {"updated": 1}
    assert client.get(f"/api/tickets/{first}/").json()["tags"] == ["new", "urgent"]
    events = client.get(f"/api/tickets/{first}/events/").json()
    tags = [(e["old_value"], e["new_value"]) for e in events if e["field"] == "tags"]
    assert tags == [(None, "old"), ("old", "new, old, urgent"), ("new, old, urgent", "new, urgent")]
    assert [e["field"] for e in events].count("priority") == 1


def test_bulk_tag_changes_are_checked(client: TestClient) -> None:
    crowded = _ticket(client, tags=[f"t{n}" for n in range(19)])["id"]
    for changes, field in (
        ({"add_tags": []}, "changes.add_tags"),
        ({"add_tags": None}, "changes.add_tags"),
        ({"remove_tags": ["a,b"]}, "changes.remove_tags.0"),
        ({"add_tags": ["x", "y"]}, "changes.add_tags"),
    ):
        response = client.post("/api/tickets/bulk/", json={"ids": [crowded], "changes": changes})
        assert response.status_code == 422 and _fields(response)[0] == field, changes
    # A tag both added and removed ends up removed; adding while removing as many leaves room.
    both = client.post(
        "/api/tickets/bulk/",
        json={"ids": [crowded], "changes": {"add_tags": ["t0", "z"], "remove_tags": ["t0"]}},
    )
    assert both.json() == {"updated": 1}
    assert "t0" not in client.get(f"/api/tickets/{crowded}/").json()["tags"]
    swap = client.post(
        "/api/tickets/bulk/",
        json={"ids": [crowded], "changes": {"add_tags": ["x", "y"], "remove_tags": ["t0", "t1"]}},
    )
    assert swap.json() == {"updated": 1}
    refused = client.post(
        "/api/tickets/bulk/", json={"filters": {"tag": "a\x02"}, "changes": {"status": "open"}}
    )
    assert refused.status_code == 422 and _fields(refused)[0] == "filters.tag"


def test_autocomplete_lists_tags_most_used_first(client: TestClient) -> None:
    _ticket(client, tags=["billing", "bug"])
    _ticket(client, tags=["billing", "beta"])
    _ticket(client, tags=["Bug", "vip"])
    assert client.get("/api/tags/").json()[:2] == [
        {"tag": "billing", "count": 2},
        {"tag": "bug", "count": 2},
    ]
    assert [t["tag"] for t in client.get("/api/tags/", params={"prefix": " B"}).json()] == [
        "billing",
        "bug",
        "beta",
    ]
    assert client.get("/api/tags/", params={"prefix": "bi"}).json() == [
        {"tag": "billing", "count": 2}
    ]
    for nothing in ("%", "_", "a,b", "-b", "b\x01"):
        assert client.get("/api/tags/", params={"prefix": nothing}).json() == [], nothing
    too_long = client.get("/api/tags/", params={"prefix": "x" * 51})
    assert too_long.status_code == 422 and _fields(too_long) == ["prefix"]
    many = [f"t{n:02}" for n in range(20)]
    _ticket(client, tags=many)
    assert len(client.get("/api/tags/").json()) == 20


def test_saved_views_keep_the_tag_filter(client: TestClient) -> None:
    response = client.post(
        "/api/views/", json={"name": "Billing", "query": {"tag": "billing,-spam"}}
    )
    assert response.status_code == 201, response.text
    bad = client.post("/api/views/", json={"name": "Bad", "query": {"tag": "a\x03"}})
    assert bad.status_code == 422


def test_every_role_reads_tags_only_staff_who_edit_change_them(
    people: dict[str, TestClient], anonymous_client: TestClient
) -> None:
    admin, ann, vic = people["admin"], people["ann"], people["vic"]
    ticket_id = _ticket(ann, tags=["mine"])["id"]
    for reader in (admin, ann, vic):
        assert reader.get(f"/api/tickets/{ticket_id}/").json()["tags"] == ["mine"]
        assert reader.get("/api/tags/").status_code == 200
        assert reader.get("/api/tickets/", params={"tag": "mine"}).status_code == 200
    assert admin.patch(f"/api/tickets/{ticket_id}/", json={"tags": ["a"]}).status_code == 200
    assert vic.patch(f"/api/tickets/{ticket_id}/", json={"tags": ["b"]}).status_code == 403
    bulk = {"ids": [ticket_id], "changes": {"add_tags": ["b"]}}
    assert vic.post("/api/tickets/bulk/", json=bulk).status_code == 403
    assert ann.post("/api/tickets/bulk/", json=bulk).json() == {"updated": 1}
    assert admin.get(f"/api/tickets/{ticket_id}/").json()["tags"] == ["a", "b"]
    assert anonymous_client.get("/api/tags/").status_code == 401
    assert anonymous_client.get("/api/tickets/", params={"tag": "a"}).status_code == 401
    assert (
        anonymous_client.patch(f"/api/tickets/{ticket_id}/", json={"tags": []}).status_code == 401
    )


def test_a_read_only_token_lists_tags_but_cannot_tag(db: Engine, admin_token: str) -> None:
    add_user("agent", "tok@example.com")
    reader = TestClient(
        create_api(), headers=bearer(add_token("tok@example.com", scopes="tickets:read"))
    )
    writer = TestClient(create_api(), headers=bearer(admin_token))
    ticket_id = _ticket(writer)["id"]
    assert reader.get("/api/tags/").status_code == 200
    assert reader.patch(f"/api/tickets/{ticket_id}/", json={"tags": ["a"]}).status_code == 403


def test_undo_puts_back_the_tags_a_bulk_change_replaced(client: TestClient) -> None:
    first = _ticket(client, tags=["keep", "drop"])["id"]
    second = _ticket(client, "Other")["id"]
    actor = actor_of(ADMIN_EMAIL)
    request = BulkRequest.model_validate(
        {"ids": [first, second], "changes": {"add_tags": ["new"], "remove_tags": ["drop"]}}
    )
    outcome = bulk_update(request, actor=actor)
    assert outcome.previous == {first: {"tags": ["drop", "keep"]}, second: {"tags": []}}
    assert undo_bulk(outcome.previous, actor=actor) == 2
    assert client.get(f"/api/tickets/{first}/").json()["tags"] == ["drop", "keep"]
    assert client.get(f"/api/tickets/{second}/").json()["tags"] == []
