"""Offline classifier: hand-written cue rules, blended with the team's own model once it exists.

No network, no key, no file to download; deterministic for a given history. The rules are in
`rules.py` / `lexicon.py`, the team model in `learner.py`.
"""

from __future__ import annotations

import numpy as np

from ticket_app.enums import Priority
from ticket_app.triage.base import TriageSuggestion
from ticket_app.triage.learner import HistoryLearner
from ticket_app.triage.rules import CATEGORIES, PRIORITIES, RuleResult, score
from ticket_app.triage.signals import ENGLISH, TextSignals, read_signals

# At most this many cue labels per part are named in a reason.
REASON_CUES = 3
# Frustration raises the priority one step, but never to critical: critical is for impact, and
# strong feelings are not impact.
FRUSTRATION_CEILING = Priority.HIGH


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
    decided = f"; priority: {result.priority_rule}" if result.priority_rule else ""
    return f"{category_part}; urgency {result.urgency:+g}: {priority_part}{decided}"


def _frustration_step(priority_index: int, signals: TextSignals) -> tuple[int, str]:
    """The priority index raised one step for a frustrated customer, and the reason's note."""
    if not signals.frustrated:
        return priority_index, ""
    cues = ", ".join(signals.frustration_cues)
    ceiling = PRIORITIES.index(FRUSTRATION_CEILING)
    if priority_index >= ceiling:
        return priority_index, f" | frustrated customer ({cues})"
    return priority_index + 1, f" | frustrated customer ({cues}): priority raised one step"


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
        """Classify synchronously (CPU only, a few milliseconds); never raises for any text.

        The rules read English only. For a ticket in another language the team model decides
        both labels when it exists; without it the rules' labels stand (product names and
        loanwords still match) but both confidences are neutral (1 / number of labels), and
        the reason says so. A frustrated customer raises the priority one step (at most to
        high), also stated in the reason.
        """
        signals = read_signals(description, title)
        result = score(description, title)
        category_probs = list(result.category_probs)
        priority_probs = list(result.priority_probs)
        reason = ""
        snapshot = None
        foreign = signals.language not in (None, ENGLISH)
        if self._learner is not None:
            self._learner.request_refresh()
            snapshot = self._learner.snapshot
        if snapshot is not None:
            model_cat, model_pri = snapshot.model.predict_one(f"{title}\n{description}", result)
            wc, wp = snapshot.category_weight, snapshot.priority_weight
            if foreign:
                wc = wp = 1.0
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
        category_confidence = float(category_probs[category_index])
        priority_confidence = float(priority_probs[priority_index])
        if foreign and snapshot is None:
            category_confidence, priority_confidence = 1 / len(CATEGORIES), 1 / len(PRIORITIES)
            reason += (
                f" | rules read English only (language {signals.language}): neutral confidence"
            )
        priority_index, raised = _frustration_step(priority_index, signals)
        return TriageSuggestion(
            category=CATEGORIES[category_index],
            priority=PRIORITIES[priority_index],
            category_confidence=round(category_confidence, 3),
            priority_confidence=round(priority_confidence, 3),
            source="offline",
            reason=_rule_reason(result, category_index) + reason + raised,
            suggested_title=signals.suggested_title,
            language=signals.language,
            sentiment=signals.sentiment,
            sentiment_score=signals.sentiment_score,
            frustrated=signals.frustrated,
        )

    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        """Return the suggestion for this ticket (see `classify`)."""
        return self.classify(description, title)
