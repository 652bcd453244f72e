"""Triage engine: suggests a ticket's category and priority.

`get_classifier()` returns the engine chosen by settings; callers only see `TicketClassifier`.
The service layer hands in the team's labelled history with `set_history_loader` (this package
never imports the database code).
"""

from __future__ import annotations

from functools import lru_cache

from ticket_app.settings import get_settings
from ticket_app.triage.base import SuggestionSource, TicketClassifier, TriageSuggestion
from ticket_app.triage.gemini import GeminiClassifier
from ticket_app.triage.learner import HistoryLearner, LoadHistory
from ticket_app.triage.offline import OfflineClassifier

__all__ = [
    "LoadHistory",
    "SuggestionSource",
    "TicketClassifier",
    "TriageSuggestion",
    "get_classifier",
    "get_history_learner",
    "set_history_loader",
]


@lru_cache(maxsize=1)
def get_history_learner() -> HistoryLearner:
    """Return the process-wide learner that trains the team model (no loader until one is set)."""
    return HistoryLearner()


def set_history_loader(load_history: LoadHistory) -> None:
    """Give the offline classifier access to staff-labelled tickets.

    Training starts in the background at the next suggestion and is refreshed every
    `learner.REFRESH_SECONDS`; see `LoadHistory` for the rows expected.
    """
    get_history_learner().set_loader(load_history)


@lru_cache(maxsize=1)
def get_classifier() -> TicketClassifier:
    """Return the process-wide classifier configured by settings.

    With a Gemini key: Gemini, falling back to the offline classifier on any failure. Without:
    the offline classifier (rules, plus the team model once enough history exists).
    """
    offline = OfflineClassifier(get_history_learner())
    settings = get_settings()
    if settings.gemini_api_key is None or not settings.gemini_api_key.get_secret_value():
        return offline
    return GeminiClassifier.from_settings(settings, offline)
