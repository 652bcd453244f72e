"""GET /api/tickets/stats/: aggregate arithmetic, zero-filled breakdowns and filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.tickets import make_ticket, set_created_at
from ticket_app.schemas import TicketFilters
from ticket_app.services.stats import ticket_stats

KEYS = {
    "total_tickets",
    "open_tickets",
    "avg_tickets_per_day",
    "status_breakdown",
    "priority_breakdown",
    "category_breakdown",
    "tag_breakdown",
}
WORKLOAD_KEYS = {"open_by_assignee", "median_first_reply_seconds"}


def test_empty_database_gives_zero_filled_stats(client: TestClient) -> None:
    body = client.get("/api/tickets/stats/").json()
    assert body == {
        "total_tickets": 0,
        "open_tickets": 0,
        "avg_tickets_per_day": 0.0,
        "status_breakdown": {
            "open": 0,
            "in_progress": 0,
            "pending": 0,
            "resolved": 0,
            "closed": 0,
        },
        "priority_breakdown": {"low": 0, "medium": 0, "high": 0, "critical": 0},
        "category_breakdown": {"billing": 0, "technical": 0, "account": 0, "general": 0},
        "tag_breakdown": [],
    }
    workload = client.get("/api/tickets/stats/", params={"workload": "true"}).json()
    assert workload == {**body, "open_by_assignee": [], "median_first_reply_seconds": None}


def test_workload_keys_are_absent_unless_asked_for(client: TestClient) -> None:
    make_ticket(client)
    assert set(client.get("/api/tickets/stats/").json()) == KEYS
    asked = client.get("/api/tickets/stats/", params={"workload": "true"}).json()
    assert set(asked) == KEYS | WORKLOAD_KEYS
    assert asked["open_by_assignee"] == [{"assignee_id": None, "name": "Unassigned", "open": 1}]


def test_counts_and_breakdowns(client: TestClient) -> None:
    spec = [
        ("billing", "high", "open"),
        ("billing", "low", "closed"),
        ("technical", "critical", "open"),
        ("technical", "high", "in_progress"),
        ("account", "high", "resolved"),
    ]
    for category, priority, status in spec:
        make_ticket(client, category=category, priority=priority, status=status)
    body = client.get("/api/tickets/stats/").json()
    assert set(body) == KEYS
    assert body["total_tickets"] == 5
    assert body["open_tickets"] == 2
    assert body["priority_breakdown"] == {"low": 1, "medium": 0, "high": 3, "critical": 1}
    assert body["category_breakdown"] == {"billing": 2, "technical": 2, "account": 1, "general": 0}
    assert sum(body["priority_breakdown"].values()) == body["total_tickets"]
    assert sum(body["category_breakdown"].values()) == body["total_tickets"]
    assert body["avg_tickets_per_day"] == 5.0


@pytest.mark.parametrize(
    "query",
    [
        "",
        "category=billing",
        "priority=high",
        "status=open",
        "search=fire",
        "category=technical&status=open",
    ],
)
def test_filtered_stats_agree_with_the_filtered_list(client: TestClient, query: str) -> None:
    for i, (category, priority, status) in enumerate(
        [
            ("billing", "high", "open"),
            ("technical", "high", "open"),
            ("technical", "low", "closed"),
            ("general", "critical", "open"),
            ("account", "medium", "resolved"),
        ]
    ):
        make_ticket(
            client,
            title=f"ticket {i}",
            description="fire" if i % 2 else "water",
            category=category,
            priority=priority,
            status=status,
        )
    stats = client.get(f"/api/tickets/stats/?{query}").json()
    listed = client.get(f"/api/tickets/?{query}&limit=200")
    assert stats["total_tickets"] == int(listed.headers["x-total-count"]) == len(listed.json())
    open_listed = client.get(f"/api/tickets/?{query}&status=open&limit=200").json()
    if "status=" not in query:
        assert stats["open_tickets"] == len(open_listed)
    assert sum(stats["priority_breakdown"].values()) == stats["total_tickets"]
    assert sum(stats["category_breakdown"].values()) == stats["total_tickets"]


@pytest.mark.parametrize("extra", ["", "&search=logs"])
def test_pending_tickets_are_counted_per_status_and_not_as_open(
    client: TestClient, extra: str
) -> None:
    """Enum-only filters read the count tables, a search the table: both name `pending`."""
    for status in ("open", "pending", "pending", "closed"):
        make_ticket(client, description="Waiting for the logs", status=status)
    body = client.get(f"/api/tickets/stats/?{extra}").json()
    assert body["status_breakdown"] == {
        "open": 1,
        "in_progress": 0,
        "pending": 2,
        "resolved": 0,
        "closed": 1,
    }
    assert body["open_tickets"] == 1 and body["total_tickets"] == 4
    pending = client.get(f"/api/tickets/stats/?status=pending{extra}").json()
    assert pending["total_tickets"] == 2 and pending["open_tickets"] == 0
    assert pending["status_breakdown"]["pending"] == 2


def test_stats_reject_unknown_filter_values(client: TestClient) -> None:
    response = client.get("/api/tickets/stats/?priority=urgent")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "priority"


def test_average_per_day_counts_every_day_from_the_first_ticket_through_today(
    client: TestClient, db: Engine
) -> None:
    today = date(2026, 3, 10)
    first = make_ticket(client, title="Leak", description="Water under the desk.")
    set_created_at(db, first["id"], datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    for _ in range(4):
        ticket = make_ticket(client)
        set_created_at(db, ticket["id"], datetime(2026, 3, 9, 8, tzinfo=UTC))
    # 5 tickets over 1 March .. 10 March inclusive = 10 days.
    assert ticket_stats(today=today).avg_tickets_per_day == 0.5
    # Filters narrow the window too: only the four from 9 March -> 2 days.
    assert ticket_stats(TicketFilters(search="printer"), today=today).avg_tickets_per_day == 2.0


def test_average_per_day_is_per_utc_calendar_day(client: TestClient, db: Engine) -> None:
    ticket = make_ticket(client)
    # 23:30 on 1 March in New York is already 2 March in UTC.
    new_york = timezone(timedelta(hours=-5))
    set_created_at(db, ticket["id"], datetime(2026, 3, 1, 23, 30, tzinfo=new_york))
    for _ in range(2):
        make_ticket(client)
    stats = ticket_stats(today=date(2026, 3, 4))
    assert stats.total_tickets == 3
    assert stats.avg_tickets_per_day == 1.0  # 2, 3 and 4 March
