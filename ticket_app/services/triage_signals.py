"""What a new ticket stores of its triage: suggestion source, confidences, title and signals.

Kept apart from `services.tickets` so the ticket service only asks for the column values.
"""

from __future__ import annotations

from typing import Any

from ticket_app.models import SUGGESTED_TITLE_MAX_LENGTH
from ticket_app.triage import TriageSuggestion
from ticket_app.triage.signals import read_signals


def signal_columns(
    title: str, description: str, suggestion: TriageSuggestion | None
) -> dict[str, Any]:
    """Ticket column values for the triage signals of a ticket being created.

    From `suggestion` when there is one; otherwise the offline signals are read from the text
    (language, sentiment, frustration: about a millisecond, no network) and the suggestion
    columns stay empty. Keys are `Ticket` attribute names.
    """
    if suggestion is None:
        signals = read_signals(description, title, with_title=False)
        return {
            "language": signals.language,
            "sentiment": signals.sentiment,
            "sentiment_score": signals.sentiment_score,
            "frustrated": signals.frustrated,
        }
    return {
        "suggestion_source": suggestion.source,
        "suggested_category_confidence": suggestion.category_confidence,
        "suggested_priority_confidence": suggestion.priority_confidence,
        "suggested_title": suggestion.suggested_title[:SUGGESTED_TITLE_MAX_LENGTH] or None,
        "language": suggestion.language,
        "sentiment": suggestion.sentiment,
        "sentiment_score": suggestion.sentiment_score,
        "frustrated": suggestion.frustrated,
    }
