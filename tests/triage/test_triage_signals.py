"""Offline triage signals (issue 14): impact-aware priority, title, sentiment, frustration,
language, and text similarity."""

from __future__ import annotations

import pytest

from ticket_app.models import Category, Priority
from ticket_app.triage.offline import OfflineClassifier
from ticket_app.triage.signals import extractive_title, read_signals, read_signals_of_many
from ticket_app.triage.similarity import query_words, rank, rarest_terms

classify = OfflineClassifier().classify


@pytest.mark.parametrize(
    ("title", "description", "category", "priority"),
    [
        (
            "API returns 500 on every request",
            "Since about an hour every request to your REST API fails with HTTP 500. Our "
            "integration is completely down and no data is coming through.",
            Category.TECHNICAL,
            Priority.HIGH,
        ),
        (
            "Webhooks stopped after maintenance",
            "Since your maintenance window last night the order webhook has stopped "
            "delivering. Our orders no longer sync to the warehouse system.",
            Category.TECHNICAL,
            Priority.HIGH,
        ),
        (
            "Unknown admin account in our workspace",
            "There is an admin account in our workspace that none of us created. The audit "
            "log shows it exported customer data yesterday. We may have a breach.",
            Category.TECHNICAL,
            Priority.CRITICAL,
        ),
        (
            "Opening hours over the holidays",
            "What are your opening hours over the Christmas holidays? Will the support line "
            "be open on 24 December?",
            Category.GENERAL,
            Priority.LOW,
        ),
    ],
)
def test_issue_examples_read_impact(
    title: str, description: str, category: Category, priority: Priority
) -> None:
    suggestion = classify(description, title)
    assert (suggestion.category, suggestion.priority) == (category, priority), suggestion.reason


def test_frustration_raises_priority_one_step_and_says_so() -> None:
    calm = classify("My invoice shows the wrong VAT number.")
    angry = classify(
        "This is the third time I write: my invoice shows the wrong VAT number. "
        "I will cancel my subscription."
    )
    assert calm.frustrated is False and angry.frustrated is True
    assert list(Priority).index(angry.priority) == list(Priority).index(calm.priority) + 1
    assert "priority raised one step" in angry.reason and "repeat contact" in angry.reason


def test_frustration_never_makes_a_ticket_critical() -> None:
    suggestion = classify("I CANNOT LOG IN AND THIS IS THE THIRD TIME I WRITE, FIX IT NOW")
    assert suggestion.frustrated and suggestion.priority == Priority.HIGH
    assert "all caps" in suggestion.reason


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("Thanks a lot, the new dashboard is great and works perfectly!", "positive"),
        ("This is terrible, your app crashed and I lost all my work. Awful.", "negative"),
        ("Please send me the invoice for order 1234.", "neutral"),
    ],
)
def test_sentiment_labels(text: str, sentiment: str) -> None:
    signals = read_signals(text)
    assert signals.sentiment == sentiment
    assert -1 <= signals.sentiment_score <= 1


def test_language_is_detected_and_non_english_gets_neutral_confidence() -> None:
    german = classify("Unser Server ist seit heute Morgen nicht erreichbar, bitte dringend helfen.")
    assert german.language == "de"
    assert (german.category_confidence, german.priority_confidence) == (0.25, 0.25)
    assert "rules read English only (language de)" in german.reason
    assert read_signals("ok").language is None
    assert classify("My invoice is wrong, please correct the amount.").language == "en"


def test_a_batch_reads_each_ticket_as_one_at_a_time_does() -> None:
    tickets = [
        ("Refund", "I was charged twice for my subscription this month, please refund one."),
        ("", "ok"),
        ("Drucker", "Mein Drucker druckt seit dem Update nicht mehr. Das ist schon wieder so!"),
        ("Facture", "Bonjour, je n'ai pas reçu ma facture du mois dernier. " * 4),
        ("WHY IS THIS STILL BROKEN", "I HAVE WRITTEN THREE TIMES AND NOBODY HAS REPLIED " * 6),
        ("500 error", "12345 67890"),
        ("Cuenta", "No puedo acceder a mi cuenta desde ayer, la contraseña no funciona."),
    ]
    one_at_a_time = [
        read_signals(description, title, with_title=False) for title, description in tickets
    ]

    batch = read_signals_of_many(tickets)

    assert batch == one_at_a_time
    assert [signals.language for signals in batch] == ["en", None, "de", "fr", "en", None, "es"]


def test_extractive_title_skips_greetings_and_stays_short() -> None:
    description = (
        "Hello support team,\n\nI hope you are well. Since the update to version 6.2 the "
        "desktop app crashes every time I open a project with more than 500 layers, which "
        "makes it impossible for our whole design team to work on the spring catalogue.\n"
        "Thanks, Maria"
    )
    title = extractive_title(description)
    assert 0 < len(title) <= 80
    assert title.startswith("Since the update to version 6.2 the desktop app crashes")
    assert description.replace("\n", " ").find(title[1:]) > 0
    assert not title.endswith((" the", " a", ","))
    assert extractive_title("...") == ""


def test_similarity_ranks_the_paraphrase_first() -> None:
    candidates = [
        (1, "Refund for my cancelled order has not arrived after two weeks"),
        (2, "Order webhook stopped delivering events after your maintenance"),
        (3, "How do I export my contacts to CSV?"),
    ]
    matches = rank("Webhook events for orders not delivered since the maintenance", candidates)
    assert matches[0].ticket_id == 2 and 0 < matches[0].score <= 1


def test_rarest_terms_leave_out_common_ones_and_prefer_long_words_on_ties() -> None:
    counts = {"password": 600_000, "webhook": 40, "err01234": 3, "sync": 40, "shopify": 40}
    assert rarest_terms(counts, limit=3, max_documents=5000) == ["err01234", "shopify", "webhook"]
    assert rarest_terms({"password": 600_000, "login": 9000}, limit=8, max_documents=5000) == []


def test_query_words_keep_one_inflection_of_each_word() -> None:
    # Two inflections of one word are one lexeme in PostgreSQL's index: as a query pair they
    # would match every ticket containing that word alone.
    words = query_words("Cancelled, cancelling: charged twice, charges for the subscription")
    assert words == ["subscription", "cancelling", "charged", "twice"]
