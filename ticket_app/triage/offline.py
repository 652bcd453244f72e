"""Offline classifier: deterministic cue matching, no network and no key."""

from __future__ import annotations

import re

from ticket_app.models import Category, Priority
from ticket_app.triage.base import TriageSuggestion

_CATEGORY_CUES: dict[Category, tuple[str, ...]] = {
    Category.BILLING: ("invoice", "refund", "charge", "payment", "billing", "bill", "subscription fee", "price"),
    Category.ACCOUNT: ("account", "password", "login", "log in", "sign in", "profile", "username", "2fa"),
    Category.TECHNICAL: ("error", "bug", "crash", "not working", "broken", "api", "timeout", "outage", "slow"),
}
_PRIORITY_CUES: dict[Priority, tuple[str, ...]] = {
    Priority.CRITICAL: ("outage", "all users", "everyone", "data loss", "security breach", "production down"),
    Priority.HIGH: ("urgent", "asap", "cannot", "can't", "unable", "failing", "blocked"),
    Priority.LOW: ("how do i", "how to", "question", "feature request", "suggestion", "would be nice"),
}


def _matches(text: str, cues: tuple[str, ...]) -> list[str]:
    return [cue for cue in cues if re.search(rf"\b{re.escape(cue)}\b", text)]


class OfflineClassifier:
    """Suggests category and priority from cue phrases found in the text."""

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        """Return the category and priority with the most cue matches (general / medium if none)."""
        text = f"{title}\n{description}".lower()
        category, category_hits = Category.GENERAL, []
        for candidate, cues in _CATEGORY_CUES.items():
            hits = _matches(text, cues)
            if len(hits) > len(category_hits):
                category, category_hits = candidate, hits
        priority, priority_hits = Priority.MEDIUM, []
        for candidate, cues in _PRIORITY_CUES.items():
            hits = _matches(text, cues)
            if hits:
                priority, priority_hits = candidate, hits
                break
        cues = category_hits + priority_hits
        reason = f"cues: {', '.join(cues)}" if cues else "no cues found; defaults"
        return TriageSuggestion(
            category=category,
            priority=priority,
            category_confidence=0.7 if category_hits else 0.3,
            priority_confidence=0.7 if priority_hits else 0.4,
            source="offline",
            reason=reason,
        )
