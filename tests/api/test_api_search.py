"""Full-text search through `GET /api/tickets/?search=` on SQLite and PostgreSQL (issue 23)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.tickets import make_ticket


def _ids(client: TestClient, search: str, **params: Any) -> list[int]:
    response = client.get("/api/tickets/", params={"search": search, **params})
    assert response.status_code == 200, response.text
    return [ticket["id"] for ticket in response.json()]


def _comment(client: TestClient, ticket_id: int, body: str, *, public: bool) -> None:
    response = client.post(
        f"/api/tickets/{ticket_id}/comments/", json={"body": body, "public": public}
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def desk(client: TestClient) -> dict[str, int]:
    """A handful of tickets with conversations and requesters; name -> id."""
    tickets = {
        "payments": make_ticket(
            client,
            title="Payments are failing at checkout",
            description="Every card payment failed since this morning.",
            requester_name="Jane Doe",
            requester_email="jane.doe@example.com",
        ),
        "login": make_ticket(
            client,
            title="Can't log in",
            description="The sign-in page rejects my password.",
            category="account",
        ),
        "strasse": make_ticket(
            client,
            title="Adresse ändern",
            description="Bitte ändern Sie meine Lieferadresse auf Hauptstraße 5.",
            category="general",
            priority="low",
        ),
        "invoice": make_ticket(
            client,
            title="Invoice shows the wrong amount",
            description="The March invoice charges me twice.",
            category="billing",
            priority="medium",
        ),
        "refund": make_ticket(
            client,
            title="Refund for a duplicate invoice",
            description="Please refund the second charge.",
            category="billing",
            priority="medium",
        ),
    }
    ids = {name: ticket["id"] for name, ticket in tickets.items()}
    _comment(client, ids["invoice"], "Checked with Stripe: the charge is real.", public=False)
    return ids


def test_words_match_other_forms_of_each_word(client: TestClient, desk: dict[str, int]) -> None:
    assert _ids(client, "payment failing") == [desk["payments"]]
    assert _ids(client, "payments fail") == [desk["payments"]]


def test_contraction_and_compound_spellings_match(client: TestClient, desk: dict[str, int]) -> None:
    assert _ids(client, "cant login") == [desk["login"]]
    assert _ids(client, "can't log in") == [desk["login"]]


def test_requester_name_and_address_are_searched(client: TestClient, desk: dict[str, int]) -> None:
    assert _ids(client, "Jane Doe") == [desk["payments"]]
    assert _ids(client, "jane.doe@example.com") == [desk["payments"]]
    assert _ids(client, "requester:jane") == [desk["payments"]]
    assert _ids(client, "requester:payments") == []


def test_internal_note_words_are_searched(client: TestClient, desk: dict[str, int]) -> None:
    assert _ids(client, "stripe") == [desk["invoice"]]


def test_case_and_accents_fold_including_sharp_s(client: TestClient, desk: dict[str, int]) -> None:
    assert _ids(client, "HAUPTSTRASSE") == [desk["strasse"]]
    assert _ids(client, "adresse andern") == [desk["strasse"]]


def test_phrase_exclusion_and_or(client: TestClient, desk: dict[str, int]) -> None:
    assert set(_ids(client, "invoice")) == {desk["invoice"], desk["refund"]}
    assert _ids(client, "invoice -refund") == [desk["invoice"]]
    assert _ids(client, '"duplicate invoice"') == [desk["refund"]]
    assert _ids(client, '"invoice duplicate"') == []
    assert set(_ids(client, "stripe OR checkout")) == {desk["invoice"], desk["payments"]}


def test_field_prefixes_set_list_filters(client: TestClient, desk: dict[str, int]) -> None:
    assert _ids(client, "title:refund") == [desk["refund"]]
    assert set(_ids(client, "category:billing")) == {desk["invoice"], desk["refund"]}
    assert _ids(client, "status:open priority:low") == [desk["strasse"]]
    response = client.get("/api/tickets/", params={"search": "status:nonsense"})
    assert response.status_code == 422
    assert "search" in response.text


def test_ticket_number_finds_that_ticket(client: TestClient, desk: dict[str, int]) -> None:
    assert _ids(client, f"#{desk['refund']}") == [desk["refund"]]
    assert desk["refund"] in _ids(client, str(desk["refund"]))
    assert _ids(client, "#999999") == []


def test_prefix_matches_a_word_being_typed(client: TestClient, desk: dict[str, int]) -> None:
    assert set(_ids(client, "invo*")) == {desk["invoice"], desk["refund"]}


def test_plain_search_still_finds_substrings(client: TestClient, desk: dict[str, int]) -> None:
    """Existing clients searched substrings of the title and description; those still match."""
    assert _ids(client, "heckou") == [desk["payments"]]


def test_relevance_ranks_title_matches_first_and_pages(client: TestClient) -> None:
    body = make_ticket(client, title="Question", description="What about my refund status?")
    title = make_ticket(client, title="Refund not received", description="Still waiting.")
    noise = [
        make_ticket(client, title=f"Refund {n}", description="refund refund") for n in range(3)
    ]
    ranked = _ids(client, "refund", sort="relevance")
    assert ranked.index(title["id"]) < ranked.index(body["id"])
    assert set(ranked) == {body["id"], title["id"], *(t["id"] for t in noise)}

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"search": "refund", "sort": "relevance", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/api/tickets/", params=params)
        assert response.status_code == 200, response.text
        seen.extend(ticket["id"] for ticket in response.json())
        link = response.headers.get("Link")
        if not link:
            break
        cursor = link.split("cursor=")[1].split(">")[0].split("&")[0]
    assert seen == ranked


def test_typos_fall_back_to_close_matches_when_sorted_by_relevance(
    client: TestClient, desk: dict[str, int]
) -> None:
    assert _ids(client, "pasword") == []
    response = client.get("/api/tickets/", params={"search": "pasword", "sort": "relevance"})
    assert response.status_code == 200
    assert response.json()[0]["id"] == desk["login"]
    assert response.headers["X-Search-Mode"] == "close-matches"
    exact = client.get("/api/tickets/", params={"search": "password", "sort": "relevance"})
    assert "X-Search-Mode" not in exact.headers


def test_search_follows_edits_and_new_comments(client: TestClient, desk: dict[str, int]) -> None:
    client.patch(f"/api/tickets/{desk['refund']}/", json={"title": "Chargeback dispute"})
    assert _ids(client, "chargeback") == [desk["refund"]]
    assert desk["refund"] not in _ids(client, "title:refund")
    _comment(client, desk["login"], "Reset via the okta portal", public=True)
    assert _ids(client, "okta") == [desk["login"]]


def test_stats_and_bulk_count_accept_the_same_syntax(
    client: TestClient, desk: dict[str, int]
) -> None:
    stats = client.get("/api/tickets/stats/", params={"search": "invoice -refund"})
    assert stats.status_code == 200
    assert stats.json()["total_tickets"] == 1


def test_bulk_by_filter_and_export_accept_the_same_syntax(
    client: TestClient, desk: dict[str, int]
) -> None:
    response = client.post(
        "/api/tickets/bulk/",
        json={"filters": {"search": "invoice -refund"}, "changes": {"priority": "critical"}},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"updated": 1}
    assert client.get(f"/api/tickets/{desk['invoice']}/").json()["priority"] == "critical"
    assert client.get(f"/api/tickets/{desk['refund']}/").json()["priority"] == "medium"
    exported = client.get("/api/tickets/export/", params={"search": '"duplicate invoice"'})
    assert exported.status_code == 200
    assert "Refund for a duplicate invoice" in exported.text
    assert "Invoice shows the wrong amount" not in exported.text


def test_a_saved_view_keeps_search_syntax(client: TestClient, desk: dict[str, int]) -> None:
    response = client.post(
        "/api/views/", json={"name": "Stripe notes", "query": {"search": "stripe OR checkout"}}
    )
    assert response.status_code == 201, response.text
    assert set(_ids(client, response.json()["query"]["search"])) == {
        desk["invoice"],
        desk["payments"],
    }


def test_export_sorted_by_relevance_lists_best_matches_first(
    client: TestClient, desk: dict[str, int]
) -> None:
    exported = client.get("/api/tickets/export/", params={"search": "invoice", "sort": "relevance"})
    assert exported.status_code == 200, exported.text
    lines = exported.text.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith(f"{desk['invoice']},") or lines[1].startswith(f"{desk['refund']},")
