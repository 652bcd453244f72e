"""Triage engine: suggests a ticket's category and priority.

`get_classifier()` returns the engine chosen by settings; callers only see `TicketClassifier`.
"""

from __future__ import annotations

from functools import lru_cache

from ticket_app.triage.base import SuggestionSource, TicketClassifier, TriageSuggestion
from ticket_app.triage.offline import OfflineClassifier

__all__ = ["SuggestionSource", "TicketClassifier", "TriageSuggestion", "get_classifier"]


@lru_cache(maxsize=1)
def get_classifier() -> TicketClassifier:
    """Return the process-wide classifier configured by settings."""
    return OfflineClassifier()
