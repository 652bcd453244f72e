"""Tags in the console's plain logic: the page's tag edits, the bulk bar's tag changes, rows,
the list URL's tag filter and the dashboard's tag counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import TagCount, TicketFilters, TicketRead, TicketStats, TriageOverrideStats
from ticket_app.ui.logic.stats import stats_view
from ticket_app.ui.logic.ticket_page import field_update, tags_added, tags_removed, ticket_fields
from ticket_app.ui.logic.tickets import list_query, ticket_row
from ticket_app.ui.state.bulk import bulk_changes, bulk_request

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _ticket(tags: list[str]) -> TicketRead:
    return TicketRead(
        id=7,
        title="Printer on fire",
        description="It smokes.",
        category=Category.TECHNICAL,
        priority=Priority.HIGH,
        status=Status.OPEN,
        suggested_category=None,
        suggested_priority=None,
        created_at=T0,
        updated_at=T0,
        tags=tags,
    )


def test_the_page_holds_tags_as_text_and_saves_the_whole_set() -> None:
    assert ticket_fields(_ticket(["billing", "vip"]), {})["tags"] == "billing, vip"
    assert ticket_fields(_ticket([]), {})["tags"] == ""
    assert tags_added("billing, vip", " Urgent ,vip,, ") == "billing, vip, Urgent"
    assert tags_removed("billing, vip", "billing") == "vip"
    assert field_update("tags", "billing, Urgent").tags == ["billing", "urgent"]
    assert field_update("tags", "").tags == []
    with pytest.raises(ValidationError):
        field_update("tags", "-spam")


def test_the_bulk_bar_sends_typed_tags() -> None:
    changes = bulk_changes({"status": "", "add_tag": "a, b", "remove_tag": " ", "assignee": ""})
    assert changes == {"add_tags": ["a", " b"]}
    request = bulk_request(changes, ids=["3"])
    assert request.changes.add_tags == ["a", "b"]
    assert bulk_changes({"remove_tag": "x"}) == {"remove_tags": ["x"]}
    matching = bulk_request(
        {"status": "closed"}, filters=TicketFilters(tag="billing"), confirm_count=2
    )
    assert matching.filters is not None and matching.filters.tag == "billing"


def test_rows_list_tags_and_the_url_keeps_the_tag_filter() -> None:
    assert ticket_row(_ticket(["billing", "vip"]))["tags"] == "billing, vip"
    query = list_query({"tag": "billing,-spam", "status": "open"})
    assert query.tag == "billing,-spam"
    assert query.url() == "/?status=open&tag=billing%2C-spam"
    assert query.filters().tag == "billing,-spam"
    assert "tag: billing,-spam" in query.describe()
    assert list_query({"tag": "bad\x01"}).tag == ""


def test_the_dashboard_lists_tag_counts_linking_to_the_list() -> None:
    stats = TicketStats(
        total_tickets=3,
        open_tickets=3,
        avg_tickets_per_day=1.0,
        priority_breakdown=dict.fromkeys(Priority, 0),
        category_breakdown=dict.fromkeys(Category, 0),
        tag_breakdown=[TagCount(tag="vip customer", count=1200)],
    )
    view = stats_view(stats, TriageOverrideStats(suggested=0, overridden=0, override_rate=0.0))
    assert view.tag_rows == [
        {"tag": "vip customer", "count": "1,200", "href": "/?tag=vip+customer"}
    ]
