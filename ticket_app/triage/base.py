"""The classifier interface every triage engine implements, and the suggestion it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ticket_app.enums import Category, Priority
from ticket_app.triage.signals import Sentiment

SuggestionSource = Literal["gemini", "offline"]


@dataclass(frozen=True)
class TriageSuggestion:
    """A suggested category and priority for one ticket, and what else was read from it.

    Confidences are probabilities in [0, 1]; `source` names the engine that produced the
    suggestion and `reason` is a short human-readable explanation (the cues it used).
    `suggested_title` is a summary of at most 80 characters (empty if none could be made);
    `language` an ISO 639-1 code or `None` (undecided); `sentiment_score` in [-1, 1];
    `frustrated` marks repeat contact, threats to cancel or shouting.
    """

    category: Category
    priority: Priority
    category_confidence: float
    priority_confidence: float
    source: SuggestionSource
    reason: str
    suggested_title: str = ""
    language: str | None = None
    sentiment: Sentiment = "neutral"
    sentiment_score: float = 0.0
    frustrated: bool = False


class TicketClassifier(Protocol):
    """Anything that can suggest a category and priority for a ticket text.

    Implementations must always return values from the enums and must not raise for any input
    text: failures of outside services are handled inside (by falling back).
    """

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        """Suggest a category and priority for a ticket with this description (and title)."""
        ...
