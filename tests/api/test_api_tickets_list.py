"""GET /api/tickets/: ordering, filters, search and keyset pagination on both dialects."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.tickets import make_ticket, set_created_at


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [ticket["id"] for ticket in response.json()]


def next_link(response) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


def test_empty_list_is_an_empty_array(client: TestClient) -> None:
    response = client.get("/api/tickets/")
    assert response.json() == []
    assert response.headers["x-total-count"] == "0"
    assert "link" not in response.headers


def test_newest_first_with_ties_broken_by_id(client: TestClient, db: Engine) -> None:
    tickets = [make_ticket(client, title=f"t{i}") for i in range(4)]
    same_moment = datetime(2026, 1, 1, tzinfo=UTC)
    for ticket in tickets[:3]:
        set_created_at(db, ticket["id"], same_moment)
    set_created_at(db, tickets[3]["id"], same_moment - timedelta(days=1))
    newest_first = [tickets[2]["id"], tickets[1]["id"], tickets[0]["id"], tickets[3]["id"]]
    assert ids(client.get("/api/tickets/")) == newest_first


@pytest.fixture
def catalogue(client: TestClient) -> dict[str, int]:
    """Tickets covering each filter value; returns title -> id."""
    rows = [
        ("Card declined", "Payment fails at checkout", "billing", "high", "open"),
        ("Invoice copy", "Need a PDF of last invoice", "billing", "low", "closed"),
        ("App crash", "Crash on start after update", "technical", "critical", "open"),
        ("Slow sync", "Sync takes hours", "technical", "medium", "in_progress"),
        ("Reset password", "Reset mail never arrives", "account", "high", "resolved"),
        ("Opening hours", "When is support open?", "general", "low", "open"),
    ]
    result = {}
    for title, description, category, priority, status in rows:
        ticket = make_ticket(
            client,
            title=title,
            description=description,
            category=category,
            priority=priority,
            status=status,
        )
        result[title] = ticket["id"]
    return result


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=billing", {"Card declined", "Invoice copy"}),
        ("category=technical", {"App crash", "Slow sync"}),
        ("category=account", {"Reset password"}),
        ("category=general", {"Opening hours"}),
        ("priority=low", {"Invoice copy", "Opening hours"}),
        ("priority=high", {"Card declined", "Reset password"}),
        ("priority=critical", {"App crash"}),
        ("priority=medium", {"Slow sync"}),
        ("status=open", {"Card declined", "App crash", "Opening hours"}),
        ("status=in_progress", {"Slow sync"}),
        ("status=resolved", {"Reset password"}),
        ("status=closed", {"Invoice copy"}),
        ("search=crash", {"App crash"}),
        ("category=billing&priority=high", {"Card declined"}),
        ("category=billing&status=open&priority=low", set()),
        ("status=open&search=support", {"Opening hours"}),
        ("category=technical&priority=medium&status=in_progress&search=SYNC", {"Slow sync"}),
        (
            "search=",
            {
                "Card declined",
                "Invoice copy",
                "App crash",
                "Slow sync",
                "Reset password",
                "Opening hours",
            },
        ),
    ],
)
def test_filters_alone_and_combined(
    client: TestClient, catalogue: dict[str, int], query: str, expected: set[str]
) -> None:
    response = client.get(f"/api/tickets/?{query}")
    assert set(ids(response)) == {catalogue[title] for title in expected}
    assert response.headers["x-total-count"] == str(len(expected))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=sales", "category"),
        ("priority=urgent", "priority"),
        ("status=done", "status"),
        ("status=OPEN", "status"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("cursor=garbage", "cursor"),
        (f"search={'x' * 201}", "search"),
    ],
)
def test_bad_query_values_are_422_not_an_empty_list(
    client: TestClient, query: str, field: str
) -> None:
    response = client.get(f"/api/tickets/?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


SEARCH_ROWS = [
    ("Discount 100% off", "Coupon says 100% but charged full price"),
    ("Field user_name empty", "The user_name field is blank after save"),
    ("Path C:\\temp", "Backslash path C:\\temp fails"),
    ("Ünïcödé ÉCOLE", "Straße names break the address form"),
    ("Plain ticket", "Nothing special here"),
    ("Login", "Cannot LOGIN with my email"),
]


@pytest.mark.parametrize(
    ("term", "expected_titles"),
    [
        ("%", {"Discount 100% off"}),
        ("100%", {"Discount 100% off"}),
        ("_", {"Field user_name empty"}),
        ("a_e", set()),
        ("user_name", {"Field user_name empty"}),
        ("\\", {"Path C:\\temp"}),
        ("C:\\temp", {"Path C:\\temp"}),
        ("école", {"Ünïcödé ÉCOLE"}),
        ("ÜNÏCÖDÉ", {"Ünïcödé ÉCOLE"}),
        ("straße", {"Ünïcödé ÉCOLE"}),
        ("login", {"Login"}),
        ("LoGiN", {"Login"}),
        ("  login  ", {"Login"}),
        ("nothing special", {"Plain ticket"}),
        ("zzz-no-match", set()),
    ],
)
def test_search_is_case_insensitive_with_literal_wildcards(
    client: TestClient, term: str, expected_titles: set[str]
) -> None:
    titles = {}
    for title, description in SEARCH_ROWS:
        titles[make_ticket(client, title=title, description=description)["id"]] = title
    response = client.get("/api/tickets/", params={"search": term})
    assert {titles[i] for i in ids(response)} == expected_titles


def test_limit_defaults_to_50_and_goes_up_to_200(client: TestClient, db: Engine) -> None:
    from tests.conftest import SYSTEM
    from ticket_app.schemas import TicketCreate
    from ticket_app.services.tickets import create_ticket

    for i in range(210):
        create_ticket(
            TicketCreate(title=f"t{i}", description="d", category="general", priority="low"),
            actor=SYSTEM,
        )
    default = client.get("/api/tickets/")
    assert len(default.json()) == 50
    assert default.headers["x-total-count"] == "210"
    assert len(client.get("/api/tickets/?limit=200").json()) == 200
    assert len(client.get("/api/tickets/?limit=7").json()) == 7


def test_pages_have_no_duplicates_or_gaps_while_tickets_arrive(client: TestClient) -> None:
    originals = [
        make_ticket(client, title=f"orig {i}", category="billing")["id"] for i in range(23)
    ]
    seen: list[int] = []
    url = "/api/tickets/?category=billing&limit=5"
    counter = itertools.count()
    while url:
        response = client.get(url)
        seen.extend(ids(response))
        # New tickets arrive between page requests, matching the filter and not.
        make_ticket(client, title=f"new {next(counter)}", category="billing")
        make_ticket(client, title="other", category="account")
        url = next_link(response)
        if url:
            assert "limit=5" in url and "category=billing" in url
    assert seen == sorted(originals, reverse=True)
    assert len(seen) == len(set(seen))


def test_cursor_pages_follow_the_ordering_across_equal_timestamps(
    client: TestClient, db: Engine
) -> None:
    tickets = [make_ticket(client, title=f"t{i}")["id"] for i in range(7)]
    moment = datetime(2025, 6, 1, 12, tzinfo=UTC)
    for ticket_id in tickets:
        set_created_at(db, ticket_id, moment)
    collected: list[int] = []
    url: str | None = "/api/tickets/?limit=3"
    while url:
        response = client.get(url)
        collected.extend(ids(response))
        url = next_link(response)
    assert collected == sorted(tickets, reverse=True)


def test_export_streams_the_filtered_view_as_csv(
    client: TestClient, catalogue: dict[str, int]
) -> None:
    response = client.get("/api/tickets/export/?category=billing&search=invoice")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("id,title,description,category,priority,status")
    assert len(lines) == 2 and "Invoice copy" in lines[1]
    assert client.get("/api/tickets/export?priority=urgent").status_code == 422
