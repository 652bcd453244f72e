"""The plain functions behind the console's handlers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import (
    AssigneeLoad,
    TicketCreate,
    TicketFilters,
    TicketStats,
    TriageOverrideStats,
)
from ticket_app.services.stats import DayFlow
from ticket_app.triage import TriageSuggestion
from ticket_app.ui.components.common import STATUS_COLORS, STATUSES
from ticket_app.ui.logic.form import (
    apply_suggestion,
    is_fresh,
    suggestion_badge,
    validation_messages,
)
from ticket_app.ui.logic.stats import duration_text, stats_view
from ticket_app.ui.logic.tickets import (
    ListQuery,
    count_text,
    label_of_value,
    list_query,
    list_summary,
    merge_first_page,
    preview,
    relative_time,
    select_range,
)
from ticket_app.ui.state.access import sign_in_message

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def _row(ticket_id: int, minutes_ago: int, priority: str = "low") -> dict[str, str]:
    created = NOW - timedelta(minutes=minutes_ago)
    return {
        "id": str(ticket_id),
        "created_iso": created.isoformat(),
        "title": f"t{ticket_id}",
        "priority": priority,
    }


def test_list_query_round_trips_through_the_url() -> None:
    query = ListQuery(
        category="billing",
        priority="high",
        status="open",
        q=" a&b ",
        assignee="me",
        sort="-priority",
    )
    url = query.url()
    assert url == "/?category=billing&priority=high&status=open&q=a%26b&assignee=me&sort=-priority"
    params = dict(pair.split("=") for pair in url[2:].split("&"))
    params["q"] = "a&b"
    assert list_query(params) == ListQuery(
        category="billing", priority="high", status="open", q="a&b", assignee="me", sort="-priority"
    )
    assert query.filters("7") == TicketFilters(
        category=Category.BILLING,
        priority=Priority.HIGH,
        status=Status.OPEN,
        search="a&b",
        assignee="7",
    )


def test_unknown_or_all_params_mean_no_filter_and_the_default_sort() -> None:
    params = {
        "category": "nope",
        "priority": "all",
        "status": "",
        "q": "   ",
        "assignee": "someone",
        "sort": "title",
    }
    assert list_query(params) == ListQuery()
    assert ListQuery().url() == "/"
    assert ListQuery().filters() == TicketFilters()
    assert list_query({"assignee": "NONE"}).assignee == "none"
    assert list_query({"assignee": "12"}).changed(assignee="all").url() == "/"


def test_describe_says_what_the_filters_are() -> None:
    assert ListQuery(sort="status").describe() == "All tickets"
    assert ListQuery(status="in_progress", assignee="me").describe() == (
        "status: in progress · assignee: me"
    )
    assert ListQuery(assignee="3", q="vpn").describe({"3": "Ana Diaz"}) == (
        'assignee: Ana Diaz · search: "vpn"'
    )
    assert ListQuery(assignee="none").describe() == "unassigned"


def test_shift_click_selects_the_range_from_the_anchor() -> None:
    ids = ["9", "8", "7", "6", "5"]
    assert select_range(ids, [], "", "7", checked=True) == ["7"]
    assert select_range(ids, ["9"], "9", "6", checked=True) == ["9", "8", "7", "6"]
    assert select_range(ids, ["9", "8", "7", "6"], "5", "8", checked=False) == ["9"]
    assert select_range(ids, ["9"], "gone", "5", checked=True) == ["9", "5"]


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=10), "just now"),
        (timedelta(minutes=5), "5 min ago"),
        (timedelta(hours=3, minutes=59), "3 h ago"),
        (timedelta(days=2), "2 d ago"),
        (timedelta(days=400), "1 y ago"),
        (timedelta(seconds=-30), "just now"),
    ],
)
def test_relative_time(delta: timedelta, expected: str) -> None:
    assert relative_time(NOW - delta, NOW) == expected


def test_preview_flattens_and_truncates() -> None:
    assert preview("line one\n\nline   two", 50) == "line one line two"
    cut = preview("x" * 200, 20)
    assert len(cut) == 20
    assert cut.endswith("…")


def test_merge_keeps_pages_loaded_with_load_more() -> None:
    current = [_row(i, 10 - i) for i in range(10, 0, -1)]  # ids 10..1, newest first
    fresh = [_row(11, -1), _row(10, 0), _row(9, 1)]  # a new ticket arrived
    rows, cursor = merge_first_page(current, "old-cursor", fresh, "fresh-cursor")
    assert [r["id"] for r in rows] == ["11", "10", "9", *[str(i) for i in range(8, 0, -1)]]
    assert cursor == "old-cursor"


def test_merge_uses_the_fresh_page_alone_when_it_covers_every_row_shown() -> None:
    current = [_row(3, 1), _row(2, 2)]
    fresh = [_row(4, 0), _row(3, 1), _row(2, 2)]
    assert merge_first_page(current, "c1", fresh, "c2") == (fresh, "c2")
    assert merge_first_page(current, "c1", fresh, None) == (fresh, None)


def test_merge_never_drops_a_row_pushed_off_the_first_page() -> None:
    current = [_row(3, 1), _row(2, 2)]
    fresh = [_row(4, 0), _row(3, 1)]
    rows, cursor = merge_first_page(current, "after-2", fresh, "after-3")
    assert [r["id"] for r in rows] == ["4", "3", "2"]
    assert cursor == "after-2"


def test_pending_is_offered_filtered_labelled_and_coloured() -> None:
    assert STATUSES == ["open", "in_progress", "pending", "resolved", "closed"]
    assert set(STATUS_COLORS) == set(STATUSES)
    assert STATUS_COLORS["pending"] not in {c for s, c in STATUS_COLORS.items() if s != "pending"}
    assert label_of_value("pending") == "Pending"
    query = list_query({"status": "pending"})
    assert query.filters() == TicketFilters(status=Status.PENDING)
    assert query.url() == "/?status=pending"
    assert query.describe() == "status: pending"


def test_merge_by_status_keeps_pending_between_in_progress_and_resolved() -> None:
    def row(ticket_id: int, status: str) -> dict[str, str]:
        return {**_row(ticket_id, ticket_id), "status": status}

    current = [row(1, "open"), row(2, "in_progress"), row(3, "pending"), row(4, "resolved")]
    fresh = [row(1, "open"), row(2, "in_progress")]
    rows, _ = merge_first_page(current, "after-4", fresh, "after-2", "status")
    assert [r["status"] for r in rows] == ["open", "in_progress", "pending", "resolved"]


def test_merge_follows_the_sort_of_the_list() -> None:
    current = [_row(1, 5, "critical"), _row(2, 1, "high"), _row(3, 2, "low")]
    fresh = [_row(4, 0, "critical"), _row(1, 5, "critical")]
    rows, cursor = merge_first_page(current, "after-3", fresh, "after-1", "-priority")
    assert [r["id"] for r in rows] == ["4", "1", "2", "3"]
    assert cursor == "after-3"


def test_a_hand_picked_value_beats_the_suggestion() -> None:
    assert apply_suggestion("low", touched=True, suggested="critical").value == "low"
    choice = apply_suggestion("", touched=False, suggested="critical")
    assert (choice.value, choice.from_suggestion) == ("critical", True)


def test_freshness_compares_the_text() -> None:
    assert is_fresh("printer broken ", "printer broken")
    assert not is_fresh("printer broken", "printer broken, also on fire")
    assert not is_fresh("", "")


def test_badge_says_confidence_in_words() -> None:
    """Issue 25, item 12: "offline · 100%" sounded overconfident."""
    suggestion = TriageSuggestion(
        Category.BILLING, Priority.LOW, 1.0, 0.5, "offline", "billing: refund"
    )
    assert suggestion_badge(suggestion, "category") == "AI suggestion · high confidence"
    assert suggestion_badge(suggestion, "priority") == "AI suggestion · medium confidence"
    low = TriageSuggestion(Category.GENERAL, Priority.MEDIUM, 0.25, 0.499, "offline", "")
    assert suggestion_badge(low, "category") == "AI suggestion · low confidence"
    assert suggestion_badge(low, "priority") == "AI suggestion · low confidence"


def test_validation_messages_name_the_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        TicketCreate(title="x" * 201, description="   ")
    messages = validation_messages(caught.value)
    assert set(messages) == {"title", "description"}
    assert messages["description"] == "Must not be blank"


def test_stats_view_formats_the_aggregates() -> None:
    stats = TicketStats(
        total_tickets=10,
        open_tickets=4,
        avg_tickets_per_day=3.333,
        priority_breakdown={p: 1 for p in Priority},
        category_breakdown={c: 2 for c in Category},
    )
    view = stats_view(stats, TriageOverrideStats(suggested=8, overridden=2, override_rate=0.25))
    assert view.median_first_reply == "—" and view.assignee_rows == []
    assert (view.total, view.open, view.avg_per_day) == (10, 4, "3.33")
    assert view.priority_rows[0] == {"name": "Low", "count": 1, "label": "1", "legend": "Low 1"}
    assert view.override_rate == "25%"
    assert view.override_text == "2 of 8 AI suggestions changed"
    assert view.priority_summary == "Tickets by priority: Low 1, Medium 1, High 1, Critical 1"


def test_dashboard_labels_are_capitalised_and_days_read_as_dates() -> None:
    """Issue 25 item 15: one casing for the charts' labels; the trend's days and totals."""
    stats = TicketStats(
        total_tickets=3,
        open_tickets=3,
        avg_tickets_per_day=1.0,
        priority_breakdown={p: 1 for p in Priority},
        category_breakdown={c: 1 for c in Category},
        status_breakdown={s: 0 for s in Status},
    )
    flows = [
        DayFlow(date(2026, 11, 30), created=2, resolved=0),
        DayFlow(date(2026, 12, 1), created=1, resolved=1_200),
    ]
    view = stats_view(stats, TriageOverrideStats(suggested=0, overridden=0, override_rate=0), flows)
    assert [row["name"] for row in view.priority_rows] == ["Low", "Medium", "High", "Critical"]
    assert view.category_rows[0]["legend"] == "Billing 1"
    assert view.flow_rows == [
        {"day": "30 Nov", "created": 2, "resolved": 0},
        {"day": "1 Dec", "created": 1, "resolved": 1200},
    ]
    assert view.flow_summary == "Last 2 days: 3 created, 1,200 resolved"


def test_stats_view_writes_large_numbers_for_the_reader() -> None:
    stats = TicketStats(
        total_tickets=1_000_000,
        open_tickets=400_794,
        avg_tickets_per_day=2732.24,
        priority_breakdown={p: 250_000 for p in Priority},
        category_breakdown={c: 250_000 for c in Category},
    )
    view = stats_view(
        stats, TriageOverrideStats(suggested=600_000, overridden=12_345, override_rate=0.02)
    )
    assert (view.total_text, view.open_text, view.avg_per_day) == (
        "1,000,000",
        "400,794",
        "2,732.24",
    )
    assert view.priority_rows[-1]["label"] == "250,000"
    assert "Billing 250,000" in view.category_summary
    assert view.override_text == "12,345 of 600,000 AI suggestions changed"


def test_summary_and_durations_read_like_the_console() -> None:
    stats = TicketStats(
        total_tickets=1_204,
        open_tickets=42,
        avg_tickets_per_day=1.0,
        priority_breakdown={Priority.CRITICAL: 7},
        category_breakdown={},
        open_by_assignee=[AssigneeLoad(assignee_id=None, name="Unassigned", open=3)],
        median_first_reply_seconds=5400,
    )
    assert list_summary(stats) == "1,204 tickets · 42 open · 7 critical"
    view = stats_view(stats, TriageOverrideStats(suggested=0, overridden=0, override_rate=0))
    assert view.assignee_rows == [{"key": "none", "name": "Unassigned", "open": "3"}]
    assert view.median_first_reply == "1.5 h"
    assert [duration_text(s) for s in (None, 30, 600, 200_000)] == ["—", "30 s", "10 min", "2.3 d"]


@pytest.mark.parametrize(
    ("total", "exact", "expected"),
    [
        (0, True, "0"),
        (1_204, True, "1,204"),
        (10_000, True, "10,000"),
        (250_000, True, "250,000"),
        (10_000, False, "10,000+"),  # counted to the cap, more exist, estimate was lower
        (10_040, False, "10,000+"),  # an estimate that rounds to the cap says no more
        (57_813, False, "about 58,000"),
        (123_456, False, "about 120,000"),
        (1_049_999, False, "about 1,000,000"),
    ],
)
def test_count_text_tells_exact_totals_from_capped_and_estimated_ones(
    total: int, exact: bool, expected: str
) -> None:
    assert count_text(total, exact, cap=10_000) == expected


def test_count_text_follows_the_configured_cap() -> None:
    assert count_text(500, False, cap=500) == "500+"
    assert count_text(7, False, cap=5) == "about 7"


def test_the_sign_in_page_names_the_wait_in_words() -> None:
    assert sign_in_message({"error": "locked", "retry": "1"})[0].endswith("in a second.")
    assert sign_in_message({"error": "locked", "retry": "42"})[0].endswith("in 42 seconds.")
    assert sign_in_message({"error": "locked", "retry": "soon"})[0].endswith("in a minute.")
