"""The classifier interface every triage engine implements, and the suggestion it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ticket_app.models import Category, Priority

SuggestionSource = Literal["gemini", "offline"]


@dataclass(frozen=True)
class TriageSuggestion:
    """A suggested category and priority for one ticket.

    Confidences are probabilities in [0, 1]; `source` names the engine that produced the
    suggestion and `reason` is a short human-readable explanation (the cues it used).
    """

    category: Category
    priority: Priority
    category_confidence: float
    priority_confidence: float
    source: SuggestionSource
    reason: str


class TicketClassifier(Protocol):
    """Anything that can suggest a category and priority for a ticket text.

    Implementations must always return values from the enums and must not raise for any input
    text: failures of outside services are handled inside (by falling back).
    """

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        """Suggest a category and priority for a ticket with this description (and title)."""
        ...
