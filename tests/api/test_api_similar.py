"""Similar tickets, merging duplicates, triage signals on tickets and their filters (issue 14),
through the HTTP API as an admin's token, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.tickets import make_ticket
from ticket_app.models import Ticket, TicketComment

WEBHOOK = (
    "Since your maintenance last night the order webhook stopped delivering events, so our "
    "Shopify orders no longer sync to the warehouse system."
)
WEBHOOK_AGAIN = (
    "Order webhook events are not delivered any more after the maintenance window; orders "
    "from Shopify do not sync to our warehouse."
)
UNRELATED = "How do I change the e-mail address for invoices on my billing profile?"


@pytest.fixture
def api(client: TestClient, db: Engine) -> TestClient:
    """The admin's client on a database without comments left by earlier tests."""
    with db.begin() as connection:
        connection.execute(sa.delete(TicketComment))
    return client


def ticket(api: TestClient, description: str, **fields: Any) -> dict[str, Any]:
    return make_ticket(api, title=fields.pop("title", description[:60]), description=description)


def test_similar_lists_the_matching_open_ticket_with_a_score(api: TestClient) -> None:
    first = ticket(api, WEBHOOK)
    ticket(api, UNRELATED)
    second = ticket(api, WEBHOOK_AGAIN)
    response = api.get(f"/api/tickets/{second['id']}/similar/")
    assert response.status_code == 200
    similar = response.json()
    assert [item["id"] for item in similar] == [first["id"]]
    assert 0.2 <= similar[0]["score"] <= 1 and similar[0]["status"] == "open"
    assert api.get(f"/api/tickets/{second['id']}/similar").status_code == 200
    assert api.get("/api/tickets/999999/similar/").status_code == 404


def test_classify_answers_similar_tickets_and_the_new_fields(api: TestClient) -> None:
    first = ticket(api, WEBHOOK)
    response = api.post(
        "/api/tickets/classify/", json={"description": WEBHOOK_AGAIN, "title": "Webhooks"}
    )
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["similar"]] == [first["id"]]
    assert 0 < len(body["suggested_title"]) <= 80
    assert body["language"] == "en"
    assert body["sentiment"] in {"negative", "neutral", "positive"}
    assert -1 <= body["sentiment_score"] <= 1
    assert body["frustrated"] is False
    blank = api.post("/api/tickets/classify/", json={"description": "x", "title": " "})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "title"


def test_merge_closes_links_audits_and_notes_the_requester(api: TestClient, db: Engine) -> None:
    kept = ticket(api, WEBHOOK)
    duplicate = ticket(api, WEBHOOK_AGAIN)
    with db.begin() as connection:
        connection.execute(
            sa.update(Ticket)
            .where(Ticket.id == duplicate["id"])
            .values(requester_name="Ada Shop", requester_email="ada@shop.example")
        )
    response = api.post(f"/api/tickets/{duplicate['id']}/merge/", json={"into": kept["id"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["merged"]["status"] == "closed"
    assert body["merged"]["duplicate_of_id"] == kept["id"]
    assert body["kept"]["id"] == kept["id"] and body["duplicate_ids"] == [duplicate["id"]]
    assert api.get(f"/api/tickets/{kept['id']}/duplicates/").json() == [duplicate["id"]]
    assert api.get(f"/api/tickets/{duplicate['id']}/").json()["duplicate_of_id"] == kept["id"]
    merged_events = [
        (event["ticket_id"], event["field"], event["new_value"])
        for ticket_id in (duplicate["id"], kept["id"])
        for event in api.get(f"/api/tickets/{ticket_id}/events/").json()
        if event["kind"] == "merged"
    ]
    assert merged_events == [
        (duplicate["id"], "duplicate_of_id", str(kept["id"])),
        (kept["id"], "duplicates", str(duplicate["id"])),
    ]
    with db.connect() as connection:
        notes = connection.execute(
            sa.select(TicketComment.body, TicketComment.public).where(
                TicketComment.ticket_id == kept["id"]
            )
        ).all()
    assert len(notes) == 1 and notes[0].public is False
    assert f"#{duplicate['id']}" in notes[0].body and "Ada Shop <ada@shop.example>" in notes[0].body
    # A merged ticket is no longer offered as similar.
    assert api.get(f"/api/tickets/{kept['id']}/similar/").json() == []


def test_merge_note_of_a_ticket_without_a_requester_reads_plainly(
    api: TestClient, db: Engine
) -> None:
    """Issue 25, item 19: it read "Its requester, the requester (no name or e-mail on record),
    now follows this conversation"."""
    kept = ticket(api, WEBHOOK)
    duplicate = ticket(api, WEBHOOK_AGAIN)
    response = api.post(f"/api/tickets/{duplicate['id']}/merge/", json={"into": kept["id"]})
    assert response.status_code == 200, response.text
    with db.connect() as connection:
        (body,) = connection.execute(
            sa.select(TicketComment.body).where(TicketComment.ticket_id == kept["id"])
        ).scalars()
    assert body.endswith(
        "into this ticket as a duplicate. "
        "It had no requester on record, so nobody new follows this conversation."
    )
    assert "the requester (no name" not in body


@pytest.mark.parametrize(
    ("into", "status", "field"),
    [
        ("self", 409, "into"),
        (999_999, 404, "into"),
        (0, 422, "into"),
        ("x", 422, "into"),
        (True, 422, "into"),
        ("1", 422, "into"),
        (1.5, 422, "into"),
    ],
)
def test_merge_refuses_bad_targets_naming_into(
    api: TestClient, into: Any, status: int, field: str
) -> None:
    source = ticket(api, WEBHOOK)
    target = source["id"] if into == "self" else into
    response = api.post(f"/api/tickets/{source['id']}/merge/", json={"into": target})
    assert response.status_code == status
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert api.get(f"/api/tickets/{source['id']}/").json()["status"] == "open"


def test_merge_twice_is_a_conflict_and_a_duplicate_is_no_target(api: TestClient) -> None:
    kept, duplicate, third = (ticket(api, text) for text in (WEBHOOK, WEBHOOK_AGAIN, UNRELATED))
    assert api.post(f"/api/tickets/{duplicate['id']}/merge/", json={"into": kept["id"]}).is_success
    again = api.post(f"/api/tickets/{duplicate['id']}/merge/", json={"into": third["id"]})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "into"
    chained = api.post(f"/api/tickets/{third['id']}/merge/", json={"into": duplicate["id"]})
    assert chained.status_code == 409 and chained.json()["errors"][0]["field"] == "into"
    assert api.post("/api/tickets/999999/merge/", json={"into": kept["id"]}).status_code == 404


def test_created_tickets_store_signals_and_filter_by_them(api: TestClient) -> None:
    angry = api.post(
        "/api/tickets/",
        json={
            "title": "Invoice wrong AGAIN",
            "description": "This is the third time I write about my invoice. Fix it or I will "
            "cancel my subscription.",
        },
    ).json()
    german = make_ticket(
        api,
        title="Server nicht erreichbar",
        description="Unser Server ist seit heute Morgen nicht erreichbar, bitte helfen Sie uns.",
    )
    assert angry["frustrated"] is True and angry["language"] == "en"
    assert angry["suggestion_source"] == "offline"
    assert 0 <= angry["suggested_category_confidence"] <= 1
    assert angry["suggested_title"] and angry["sentiment"] == "negative"
    # Labels given by the submitter: no suggestion stored, the text signals still are.
    assert german["suggestion_source"] is None and german["language"] == "de"
    assert [t["id"] for t in api.get("/api/tickets/?frustrated=true").json()] == [angry["id"]]
    assert [t["id"] for t in api.get("/api/tickets/?language=de").json()] == [german["id"]]
    bad = api.get("/api/tickets/?language=German")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "language"
