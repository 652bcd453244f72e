"""Comments on a ticket: replies and notes through the API, their effects and their limits."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.tickets import make_ticket
from tests.support.workspace import all_pages, error_fields, staff_clients, ticket_at
from ticket_app.models import Role
from ticket_app.services.comments import ticket_timeline
from ticket_app.settings import get_settings


def comment(client: TestClient, ticket_id: int, body: str, public: bool = True):
    return client.post(f"/api/tickets/{ticket_id}/comments/", json={"body": body, "public": public})


def test_a_comment_is_stored_as_written_and_answered_as_the_issue_says(
    client: TestClient,
) -> None:
    ticket = make_ticket(client)
    body = "  Hello <b>Ann</b>,\n\nplease try &amp; restart.\n  -- Support  "
    response = comment(client, ticket["id"], body)
    assert response.status_code == 201
    created = response.json()
    assert {"id", "ticket_id", "author", "body", "public", "created_at"} <= set(created)
    assert created["body"] == body and created["public"] is True
    assert (
        created["ticket_id"] == ticket["id"]
        and created["author"] == "admin@example.com (token tests)"
    )
    assert created["author_name"] == "Test Admin" and created["channel"] == "api"
    listed = client.get(f"/api/tickets/{ticket['id']}/comments/").json()
    assert listed == [created]


def test_a_comment_moves_updated_at_and_is_audited(client: TestClient, db: Engine) -> None:
    ticket = ticket_at(client, db, 0)
    note = comment(client, ticket["id"], "Internal: customer is VIP", public=False).json()
    after = client.get(f"/api/tickets/{ticket['id']}/").json()
    assert after["updated_at"] == note["created_at"] > ticket["updated_at"].isoformat()
    events = client.get(f"/api/tickets/{ticket['id']}/events/").json()
    assert events[-1]["kind"] == "commented" and events[-1]["field"] == "internal"
    assert events[-1]["new_value"] == str(note["id"])


def test_the_first_public_reply_is_timed_and_notes_do_not_count(
    client: TestClient, db: Engine
) -> None:
    ticket = ticket_at(client, db, 0)
    url = f"/api/tickets/{ticket['id']}/"
    comment(client, ticket["id"], "note", public=False)
    assert client.get(url).json()["first_public_reply_at"] is None
    first = comment(client, ticket["id"], "reply").json()
    comment(client, ticket["id"], "second reply")
    assert client.get(url).json()["first_public_reply_at"] == first["created_at"]


STATS = "/api/tickets/stats/"
WORKLOAD = {"workload": "true"}


def test_stats_give_the_median_time_to_first_reply(client: TestClient, db: Engine) -> None:
    assert client.get(STATS, params=WORKLOAD).json()["median_first_reply_seconds"] is None
    replied = [
        ticket_at(client, db, minutes, category="billing", requester_email="ann@example.com")
        for minutes in (0, 10, 30)
    ]
    ticket_at(client, db, 40, category="billing")  # never answered: not in the median
    for ticket in replied:
        comment(client, ticket["id"], "On it")
    waits = []
    for ticket in replied:
        stored = client.get(f"/api/tickets/{ticket['id']}/").json()
        reply = datetime.fromisoformat(stored["first_public_reply_at"])
        waits.append((reply - datetime.fromisoformat(stored["created_at"])).total_seconds())
    stats = client.get(STATS, params=WORKLOAD).json()
    assert stats["median_first_reply_seconds"] == pytest.approx(sorted(waits)[1], abs=0.01)
    other = client.get(STATS, params={**WORKLOAD, "category": "technical"}).json()
    assert other["median_first_reply_seconds"] is None


def test_the_median_first_reply_counts_only_replies_that_reached_someone(
    client: TestClient, db: Engine
) -> None:
    """Issue 25, item 10: a reply on a ticket without a requester address reaches nobody, yet
    it counted towards "median first reply"."""
    nobody = ticket_at(client, db, 0, category="billing")
    comment(client, nobody["id"], "On it")
    assert client.get(f"/api/tickets/{nobody['id']}/").json()["first_public_reply_at"]
    assert client.get(STATS, params=WORKLOAD).json()["median_first_reply_seconds"] is None

    someone = ticket_at(client, db, 5, category="billing", requester_email="ann@example.com")
    comment(client, someone["id"], "On it")
    stored = client.get(f"/api/tickets/{someone['id']}/").json()
    wait = datetime.fromisoformat(stored["first_public_reply_at"]) - someone["created_at"]
    median = client.get(STATS, params=WORKLOAD).json()["median_first_reply_seconds"]
    assert median == pytest.approx(wait.total_seconds(), abs=0.01)


def test_comments_are_listed_oldest_first_in_pages(client: TestClient) -> None:
    ticket = make_ticket(client)
    ids = [comment(client, ticket["id"], f"#{n}", public=n % 2 == 0).json()["id"] for n in range(5)]
    url = f"/api/tickets/{ticket['id']}/comments/"
    listed, totals = all_pages(client, url, limit=2)
    assert listed == ids and set(totals) == {5}
    assert client.get(url, params={"cursor": "bogus"}).status_code == 422


def test_bad_bodies_are_a_422_naming_the_field(client: TestClient) -> None:
    ticket = make_ticket(client)
    limit = get_settings().max_description_chars
    for body in ("", "   \n", "\u200b", "a\x00b", "x" * (limit + 1)):
        response = comment(client, ticket["id"], body)
        assert response.status_code == 422 and error_fields(response) == ["body"], body
    assert comment(client, ticket["id"], "x" * limit).status_code == 201
    response = client.post(f"/api/tickets/{ticket['id']}/comments/", json={"body": "hi"})
    assert response.status_code == 422 and error_fields(response) == ["public"]
    response = client.post(
        f"/api/tickets/{ticket['id']}/comments/", json={"body": "hi", "public": "yes"}
    )
    assert response.status_code == 422 and error_fields(response) == ["public"]
    assert len(client.get(f"/api/tickets/{ticket['id']}/comments/").json()) == 1


def test_unknown_tickets_are_a_404(client: TestClient) -> None:
    assert comment(client, 4242, "hello").status_code == 404
    assert client.get("/api/tickets/4242/comments/").status_code == 404


def test_viewers_and_read_tokens_cannot_comment_agents_can(client: TestClient) -> None:
    ticket = make_ticket(client)
    with staff_clients(Role.VIEWER, Role.AGENT) as [(_, viewer), (_, agent)]:
        assert comment(viewer, ticket["id"], "me too").status_code == 403
        assert viewer.get(f"/api/tickets/{ticket['id']}/comments/").status_code == 200
        reply = comment(agent, ticket["id"], "Fixed")
        assert reply.status_code == 201 and reply.json()["author_name"] == "agent1"
    with staff_clients(Role.ADMIN, scopes="tickets:read") as [(_, reader)]:
        assert comment(reader, ticket["id"], "hello").status_code == 403


def test_the_timeline_interleaves_events_and_comments(client: TestClient) -> None:
    ticket = make_ticket(client)
    note = comment(client, ticket["id"], "Checking the logs", public=False).json()
    client.patch(f"/api/tickets/{ticket['id']}/", json={"status": "resolved"})
    reply = comment(client, ticket["id"], "Fixed, sorry!").json()
    timeline = ticket_timeline(ticket["id"])
    assert [
        (entry.kind, entry.event.kind if entry.event else entry.comment.id) for entry in timeline
    ] == [
        ("event", "created"),
        ("comment", note["id"]),
        ("event", "changed"),
        ("comment", reply["id"]),
    ]
    assert timeline[1].actor == "admin@example.com (token tests)"
    assert timeline[1].comment.public is False and timeline[3].comment.public is True
