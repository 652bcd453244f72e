"""Issue 14's console logic: similar rows, the suggested title, triage marks, merge errors, and
the language and frustration filters of the list query."""

from __future__ import annotations

import pytest

from tests.ui.test_ticket_page_logic import _ticket as _base_ticket
from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import SimilarTicket, TicketRead
from ticket_app.services.errors import (
    ConflictError,
    DatabaseUnavailableError,
    PermissionDeniedError,
    TicketNotFoundError,
)
from ticket_app.triage.similarity import MERGE_MIN_SCORE
from ticket_app.ui.logic.tickets import ListQuery, list_query, ticket_row
from ticket_app.ui.logic.triage import (
    language_name,
    merge_error_message,
    offer_title,
    percent,
    reason_in_words,
    sentiment_text,
    similar_rows,
    suggestion_text,
    title_worth_suggesting,
    triage_fields,
)


def _ticket(**changes: object) -> TicketRead:
    return _base_ticket(**{"suggested_category": None, **changes})


def test_similar_rows_keep_order_and_show_scores_as_percentages() -> None:
    rows = similar_rows(
        [
            SimilarTicket(id=3, title="Webhooks stopped", status=Status.IN_PROGRESS, score=0.845),
            SimilarTicket(id=9, title="Orders not syncing", status=Status.OPEN, score=0.2),
        ]
    )
    assert rows == [
        {
            "id": "3",
            "title": "Webhooks stopped",
            "status": "in_progress",
            "status_label": "In progress",
            "score": "84%",
            "mergeable": "yes",
        },
        {
            "id": "9",
            "title": "Orders not syncing",
            "status": "open",
            "status_label": "Open",
            "score": "20%",
            "mergeable": "",
        },
    ]
    assert (percent(None), percent(1.0), percent(0.0)) == ("", "100%", "0%")


def test_merge_is_offered_only_from_the_evaluated_threshold() -> None:
    """Issue 25 item 14: "Merge into #N" was offered at 22%; below the threshold, related only."""
    rows = similar_rows(
        SimilarTicket(id=n, title="t", status=Status.OPEN, score=score)
        for n, score in ((1, 0.22), (2, MERGE_MIN_SCORE - 0.001), (3, MERGE_MIN_SCORE), (4, 0.9))
    )
    assert [row["mergeable"] for row in rows] == ["", "", "yes", "yes"]


@pytest.mark.parametrize(
    ("title", "from_ai", "suggested", "expected"),
    [
        ("", False, "Export button does nothing", ("Export button does nothing", True)),
        ("   ", False, " Export fails ", ("Export fails", True)),
        ("Old AI title", True, "New AI title", ("New AI title", True)),
        ("Old AI title", True, "", ("Old AI title", True)),
        ("Typed by me", False, "AI title", ("Typed by me", False)),
        ("", False, "", ("", False)),
    ],
)
def test_offer_title_fills_only_an_empty_or_suggested_title(
    title: str, from_ai: bool, suggested: str, expected: tuple[str, bool]
) -> None:
    choice = offer_title(title, from_ai, suggested)
    assert (choice.value, choice.from_suggestion) == expected


def test_suggestion_text_names_source_and_confidence_in_words() -> None:
    ticket = _ticket(
        suggested_category=Category.BILLING,
        suggested_priority=Priority.CRITICAL,
        suggested_category_confidence=0.914,
        suggested_priority_confidence=0.5,
        suggestion_source="offline",
    )
    assert suggestion_text(ticket) == (
        "Billing (high confidence) / Critical (medium confidence) · offline rules"
    )
    gemini = _ticket(suggested_category=Category.ACCOUNT, suggestion_source="gemini")
    assert suggestion_text(gemini) == "Account · Gemini"
    assert suggestion_text(_ticket()) == ""


def test_triage_fields_flatten_the_reading() -> None:
    fields = triage_fields(
        _ticket(
            language="de",
            sentiment="negative",
            sentiment_score=-0.599,
            frustrated=True,
            suggested_title="Rechnung doppelt",
            duplicate_of_id=4,
        )
    )
    assert fields == {
        "suggestion": "",
        "suggested_title": "Rechnung doppelt",
        "language": "German",
        "sentiment": "Negative",
        "frustrated": "true",
        "duplicate_of": "4",
    }
    plain = triage_fields(_ticket())
    assert (plain["language"], plain["sentiment"], plain["frustrated"]) == ("", "", "")
    assert plain["duplicate_of"] == ""


def test_language_and_sentiment_in_words() -> None:
    assert (language_name("en"), language_name("xx"), language_name(None)) == ("English", "xx", "")
    assert sentiment_text("positive", 0.5) == "Positive"
    assert sentiment_text("neutral", None) == "Neutral"
    assert sentiment_text(None, 0.3) == ""


def test_tone_in_words_without_the_score() -> None:
    """Issue 25, item 8: "Tone: Negative (-0.90)" showed a raw score."""
    assert sentiment_text("negative", -0.9) == "Very negative"
    assert sentiment_text("negative", -0.3) == "Negative"
    assert sentiment_text("positive", 0.75) == "Very positive"
    assert sentiment_text("neutral", 0.0) == "Neutral"


@pytest.mark.parametrize(
    ("title", "suggested", "shown"),
    [
        ("Printer on fire", "Printer on fire", False),
        ("Double charge - refund please", "Refund for double charge", False),
        ("printer", "Printer on fire in the office", False),
        ("Help!!", "Refund for a double charge", True),
        ("Question", "Cannot log in after password reset", True),
        ("", "Cannot log in after password reset", True),
        ("Help", "", False),
    ],
)
def test_suggested_title_only_where_it_helps(title: str, suggested: str, shown: bool) -> None:
    """Issue 25, item 8: "Suggested title" showed beside a title that said the same."""
    assert title_worth_suggesting(title, suggested) is shown
    fields = triage_fields(_ticket(title=title or "x", suggested_title=suggested or None))
    if title:
        assert fields["suggested_title"] == (suggested if shown else "")


def test_merge_error_messages_say_what_was_refused() -> None:
    conflict = ConflictError("into", "ticket 5 is itself a duplicate of #2: merge into that one")
    assert merge_error_message(conflict, 7, 5) == (
        "Not merged: ticket 5 is itself a duplicate of #2: merge into that one."
    )
    assert merge_error_message(TicketNotFoundError(5), 7, 5) == (
        "Not merged: ticket #5 no longer exists."
    )
    assert merge_error_message(TicketNotFoundError(7), 7, 5) == (
        "Not merged: ticket #7 no longer exists."
    )
    assert "role" in merge_error_message(PermissionDeniedError("tickets.edit"), 7, 5)
    assert "unavailable" in merge_error_message(DatabaseUnavailableError("down"), 7, 5)


def test_list_query_keeps_language_and_frustration_in_the_url() -> None:
    query = list_query({"language": "DE", "frustrated": "true", "status": "open"})
    assert (query.language, query.frustrated) == ("de", "true")
    assert query.url() == "/?status=open&language=de&frustrated=true"
    filters = query.filters()
    assert (filters.language, filters.frustrated) == ("de", True)
    assert query.describe() == "status: open · language: de · frustrated customers"
    assert query.changed(frustrated="").url() == "/?status=open&language=de"
    calm = query.changed(frustrated="false")
    assert calm.url() == "/?status=open&language=de&frustrated=false"
    assert calm.filters().frustrated is False
    assert calm.describe() == "status: open · language: de · customers not frustrated"


@pytest.mark.parametrize(
    "params", [{"language": "german"}, {"language": "d3"}, {"frustrated": "yes"}, {}]
)
def test_list_query_ignores_malformed_triage_filters(params: dict[str, str]) -> None:
    query = list_query(params)
    assert (query.language, query.frustrated) == ("", "")
    assert (query.filters().language, query.filters().frustrated) == (None, None)
    assert query == ListQuery()


def test_ticket_rows_carry_the_frustration_and_a_non_english_language() -> None:
    row = ticket_row(_ticket(frustrated=True, language="fr"))
    assert (row["frustrated"], row["language"]) == ("true", "FR")
    english = ticket_row(_ticket(language="en"))
    assert (english["frustrated"], english["language"]) == ("", "")
    assert ticket_row(_ticket())["language"] == ""


@pytest.mark.parametrize(
    ("reason", "priority", "words"),
    [
        (
            "technical: outage, not working, trouble; urgency +9.25: many users affected (+2.5), "
            "payments failing (+2.5), whole product down (+2); priority: many affected, broken now",
            "critical",
            "Mentions outage, not working and trouble → Technical. Many affected, broken now "
            "(many users affected, payments failing) → Critical.",
        ),
        (
            "account: password; urgency -1.5: how-to question (-1.5); "
            "priority: a question, nothing broken",
            "low",
            "Mentions password → Account. A question, nothing broken (how-to question) → Low.",
        ),
        (
            "technical: crash; urgency +0.75: failure (+0.75); priority: a problem or request"
            " | frustrated customer (repeat contact, threat to cancel): priority raised one step",
            "high",
            "Mentions crash → Technical. A problem or request (failure) → Medium. The customer "
            "sounds frustrated (repeat contact, threat to cancel), so one step higher: High.",
        ),
        (
            "general: no topic cues; urgency +0: no urgency cues"
            " | rules read English only (language de): neutral confidence",
            "medium",
            "No clear topic → General. Nothing urgent mentioned → Medium. Written in German; "
            "the rules read English only, so this is a guess.",
        ),
        (
            "billing: refund; urgency +2: wrong charge (+2) | team model on 812 tickets "
            "(weight 1.0 category, 0.0 priority)",
            "high",
            "Mentions refund → Billing. Wrong charge → High. Your team's past tickets were "
            "taken into account.",
        ),
        (
            "The customer cannot pay; this blocks revenue.",
            "high",
            "The customer cannot pay; this blocks revenue.",
        ),
    ],
)
def test_reason_in_words_reads_like_a_person(reason: str, priority: str, words: str) -> None:
    """Issue 25, item 12: "urgency +3.75: payments failing (+2.5), failure (+0.75)" read like
    debug output; a reason that is not the offline rules' (Gemini's) is shown as it is."""
    assert reason_in_words(reason, priority) == words
