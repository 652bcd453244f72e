"""Offline classifier: hand-written cue rules, blended with the team's own model once it exists.

No network, no key, no file to download; deterministic for a given history. The rules are in
`rules.py` / `lexicon.py`, the team model in `learner.py`.
"""

from __future__ import annotations

import numpy as np

from ticket_app.triage.base import TriageSuggestion
from ticket_app.triage.learner import HistoryLearner
from ticket_app.triage.rules import CATEGORIES, PRIORITIES, RuleResult, score

# At most this many cue labels per part are named in a reason.
REASON_CUES = 3


def _argmax(values: tuple[float, ...] | list[float]) -> int:
    return max(range(len(values)), key=lambda i: (values[i], -i))


def _rule_reason(result: RuleResult, category_index: int) -> str:
    category = CATEGORIES[category_index]
    cues = result.category_cues[category][:REASON_CUES]
    category_part = (
        f"{category.value}: {', '.join(cues)}" if cues else f"{category.value}: no topic cues"
    )
    urgency = sorted(result.urgency_cues, key=lambda item: -abs(item[1]))[:REASON_CUES]
    priority_part = (
        ", ".join(f"{label} ({weight:+g})" for label, weight in urgency)
        if urgency
        else "no urgency cues"
    )
    return f"{category_part}; urgency {result.urgency:+g}: {priority_part}"


class OfflineClassifier:
    """Suggests category and priority from cue rules, optionally blended with a team model.

    With a `learner` whose snapshot exists, the team model (which takes the rules' probabilities
    as features) decides each label it was found better at on cross-validated history; the
    weights `w` in `w * team_model + (1 - w) * rules` are 1 or 0 (see
    `learner.train_team_model`). Each call also asks the learner to retrain in the
    background when its model is stale; the call itself never waits for training.
    """

    def __init__(self, learner: HistoryLearner | None = None) -> None:
        self._learner = learner

    def classify(self, description: str, title: str = "") -> TriageSuggestion:
        """Classify synchronously (CPU only, about a millisecond); never raises for any text."""
        result = score(description, title)
        category_probs = list(result.category_probs)
        priority_probs = list(result.priority_probs)
        reason = ""
        snapshot = None
        if self._learner is not None:
            self._learner.request_refresh()
            snapshot = self._learner.snapshot
        if snapshot is not None:
            model_cat, model_pri = snapshot.model.predict_one(f"{title}\n{description}", result)
            wc, wp = snapshot.category_weight, snapshot.priority_weight
            if wc:
                category_probs = list(wc * model_cat + (1 - wc) * np.array(category_probs))
            if wp:
                priority_probs = list(wp * model_pri + (1 - wp) * np.array(priority_probs))
            reason = (
                f" | team model on {snapshot.rows} tickets "
                f"(weight {wc:.1f} category, {wp:.1f} priority)"
            )
        category_index = _argmax(category_probs)
        priority_index = _argmax(priority_probs)
        return TriageSuggestion(
            category=CATEGORIES[category_index],
            priority=PRIORITIES[priority_index],
            category_confidence=round(float(category_probs[category_index]), 3),
            priority_confidence=round(float(priority_probs[priority_index]), 3),
            source="offline",
            reason=_rule_reason(result, category_index) + reason,
        )

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        """Return the suggestion for this ticket (see `classify`)."""
        return self.classify(description, title)
