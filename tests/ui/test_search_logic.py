"""The console's search box logic: prefix for the word being typed, ticket numbers, marks."""

from __future__ import annotations

from datetime import UTC, datetime

from ticket_app.schemas import TicketRead
from ticket_app.ui.logic.tickets import console_search, search_marks, ticket_number_search


def test_the_last_word_is_searched_as_a_prefix() -> None:
    assert console_search("payment fail") == "payment fail*"
    assert console_search("  refu ") == "refu*"
    assert console_search('"log in"') == '"log in"'
    assert console_search("status:open") == "status:open"
    assert console_search("123") == "123"
    assert console_search("a") == "a"


def test_only_a_hash_number_opens_a_ticket() -> None:
    assert ticket_number_search("#12") == "12"
    assert ticket_number_search("12") == ""
    assert ticket_number_search("#12 refund") == ""


def _ticket(title: str, description: str) -> TicketRead:
    now = datetime.now(UTC)
    return TicketRead.model_validate(
        {
            "id": 7,
            "title": title,
            "description": description,
            "category": "billing",
            "priority": "high",
            "status": "open",
            "suggested_category": None,
            "suggested_priority": None,
            "created_at": now,
            "updated_at": now,
        }
    )


def test_marks_cut_title_and_snippet_into_marked_pieces() -> None:
    marks = search_marks(_ticket("Payments are failing", "Card payment failed."), "payment fai")
    assert marks["title"] == [["Payments", "1"], [" are ", ""], ["failing", "1"]]
    assert ["failed", "1"] in marks["snippet"]
    assert "".join(text for text, _ in marks["snippet"]) == "Card payment failed."
