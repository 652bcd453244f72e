"""Learning from the team's own history: a small text model trained at run time.

Tickets whose category and priority staff set or confirmed are the training rows. Nothing is
trained ahead of time and no model file is shipped: the model exists only in memory, is built
from this installation's tickets, and is rebuilt in a background thread when it is stale.

Rows come from the service layer through a plain callable (`LoadHistory`), so this package never
imports the database code; the service layer hands the callable in with `set_history_loader`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from ticket_app.models import Category, Priority
from ticket_app.triage import rules
from ticket_app.triage.rules import CATEGORIES, PRIORITIES

logger = logging.getLogger(__name__)

LoadHistory = Callable[[], Iterable[tuple[str, str, str]]]
"""Returns training rows `(text, category, priority)`; `text` is title and description joined by
a newline, the labels are `Category` / `Priority` values as set or confirmed by staff."""

MIN_HISTORY_ROWS = 200
REFRESH_SECONDS = 600.0
# Share of the history held out (by a hash of the text) to choose the blend weights.
VALIDATION_SHARE = 0.2
BLEND_GRID = tuple(round(step / 10, 1) for step in range(11))


def _vectoriser() -> TfidfVectorizer:
    """Word uni- and bi-grams seen in at least two tickets, sublinear term frequency.

    Character n-grams were tried: about the same accuracy on the warm evaluation, but 1.7x the
    prediction time, which would push a suggestion past the 5 ms offline budget.
    """
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)


class _LabelModel:
    """One TF-IDF + logistic-regression classifier over a fixed label order."""

    def __init__(self, labels: Sequence[str]) -> None:
        self._labels = list(labels)
        self._pipeline: Pipeline | None = None
        self._constant: np.ndarray | None = None

    def fit(self, texts: Sequence[str], targets: Sequence[str]) -> None:
        present = sorted(set(targets))
        if len(present) < 2:
            constant = np.zeros(len(self._labels))
            constant[self._labels.index(present[0])] = 1.0
            self._constant, self._pipeline = constant, None
            return
        pipeline = Pipeline(
            [("features", _vectoriser()), ("model", LogisticRegression(C=4.0, max_iter=2000))]
        )
        pipeline.fit(list(texts), list(targets))
        self._pipeline, self._constant = pipeline, None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self._constant is not None:
            return np.tile(self._constant, (len(texts), 1))
        assert self._pipeline is not None, "fit() first"
        raw = self._pipeline.predict_proba(list(texts))
        out = np.zeros((len(texts), len(self._labels)))
        for column, label in enumerate(self._pipeline.classes_):
            out[:, self._labels.index(label)] = raw[:, column]
        return out


class TeamModel:
    """Category and priority classifiers trained on one team's tickets.

    `fit` takes parallel sequences of texts and labels (`Category` / `Priority` values);
    `predict_proba` returns two arrays of shape `(len(texts), 4)` whose columns follow
    `rules.CATEGORIES` and `rules.PRIORITIES`; labels absent from the history get probability 0.
    """

    def __init__(self) -> None:
        self._category = _LabelModel([c.value for c in CATEGORIES])
        self._priority = _LabelModel([p.value for p in PRIORITIES])

    def fit(
        self, texts: Sequence[str], categories: Sequence[str], priorities: Sequence[str]
    ) -> TeamModel:
        """Train both classifiers; returns `self`.

        Raises `ValueError` if the sequences differ in length or are empty.
        """
        if not texts or not len(texts) == len(categories) == len(priorities):
            raise ValueError("texts, categories and priorities must be non-empty and equally long")
        self._category.fit(texts, categories)
        self._priority.fit(texts, priorities)
        return self

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Category and priority probabilities, each of shape `(len(texts), 4)`."""
        return self._category.predict_proba(texts), self._priority.predict_proba(texts)


@dataclass(frozen=True)
class TeamSnapshot:
    """A trained model and how much to trust it.

    `category_weight` / `priority_weight` are the blend weights in [0, 1] given to the model's
    probabilities (the rules get the rest); `rows` is the number of history rows it was trained on.
    """

    model: TeamModel
    category_weight: float
    priority_weight: float
    rows: int


def _is_validation(text: str) -> bool:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return digest[0] < 256 * VALIDATION_SHARE


def _best_weight(model_probs: np.ndarray, rule_probs: np.ndarray, gold: np.ndarray) -> float:
    """Return the blend weight from `BLEND_GRID` with the highest accuracy.

    Ties go to the smaller weight: trust the explainable rules unless the model is measurably
    better.
    """
    scores = [
        float(np.mean(np.argmax(w * model_probs + (1 - w) * rule_probs, axis=1) == gold))
        for w in BLEND_GRID
    ]
    return BLEND_GRID[int(np.argmax(scores))]


def _clean_rows(rows: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Keep rows with non-blank text and labels from the enums (others are logged and dropped)."""
    categories = {c.value for c in Category}
    priorities = {p.value for p in Priority}
    kept, dropped = [], 0
    for text, category, priority in rows:
        if text and text.strip() and category in categories and priority in priorities:
            kept.append((text, str(category), str(priority)))
        else:
            dropped += 1
    if dropped:
        logger.info(
            "Team model: ignored %d history rows with blank text or unknown labels", dropped
        )
    return kept


def train_team_model(
    rows: Iterable[tuple[str, str, str]], min_rows: int = MIN_HISTORY_ROWS
) -> TeamSnapshot | None:
    """Train a team model on `(text, category, priority)` rows; `None` if fewer than `min_rows`.

    The blend weights are chosen on a held-out fifth of the rows (by text hash): the model is
    trained on the other rows, the weight in {0, 0.1, ..., 1} that maximises accuracy of
    `w * model + (1 - w) * rules` is kept, then the model is retrained on all rows. So the team
    model only takes over as far as it beats the hand-written rules on this team's own tickets.
    """
    data = _clean_rows(rows)
    if len(data) < min_rows:
        return None
    texts = [text for text, _, _ in data]
    categories = [category for _, category, _ in data]
    priorities = [priority for _, _, priority in data]
    held = [_is_validation(text) for text in texts]
    train_idx = [i for i, h in enumerate(held) if not h]
    valid_idx = [i for i, h in enumerate(held) if h]
    category_weight = priority_weight = 0.5
    if train_idx and valid_idx:
        probe = TeamModel().fit(
            [texts[i] for i in train_idx],
            [categories[i] for i in train_idx],
            [priorities[i] for i in train_idx],
        )
        valid_texts = [texts[i] for i in valid_idx]
        model_cat, model_pri = probe.predict_proba(valid_texts)
        scored = [rules.score(text) for text in valid_texts]
        rule_cat = np.array([result.category_probs for result in scored])
        rule_pri = np.array([result.priority_probs for result in scored])
        gold_cat = np.array([[c.value for c in CATEGORIES].index(categories[i]) for i in valid_idx])
        gold_pri = np.array([[p.value for p in PRIORITIES].index(priorities[i]) for i in valid_idx])
        category_weight = _best_weight(model_cat, rule_cat, gold_cat)
        priority_weight = _best_weight(model_pri, rule_pri, gold_pri)
    model = TeamModel().fit(texts, categories, priorities)
    return TeamSnapshot(model, category_weight, priority_weight, len(data))


class HistoryLearner:
    """Keeps a `TeamSnapshot` trained on the rows `load_history` returns, fresh in the background.

    `snapshot` is the current model or `None` (no loader, too little history, or not trained
    yet). `request_refresh()` starts a background training thread when the snapshot is older than
    `refresh_seconds` (or was never built) and no training is running; it never blocks. A loader
    or training error is logged and the previous snapshot is kept.
    """

    def __init__(
        self,
        load_history: LoadHistory | None = None,
        *,
        min_rows: int = MIN_HISTORY_ROWS,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load_history = load_history
        self._min_rows = min_rows
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._snapshot: TeamSnapshot | None = None
        self._refreshed_at: float | None = None
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    @property
    def snapshot(self) -> TeamSnapshot | None:
        """The model currently in use, or `None`."""
        return self._snapshot

    def set_loader(self, load_history: LoadHistory) -> None:
        """Use `load_history` from now on and retrain at the next request."""
        with self._lock:
            self._load_history = load_history
            self._refreshed_at = None

    def mark_stale(self) -> None:
        """Retrain at the next request (e.g. after staff corrected many tickets)."""
        with self._lock:
            self._refreshed_at = None

    def refresh(self) -> TeamSnapshot | None:
        """Load the history and retrain now, in the calling thread; returns the new snapshot."""
        with self._lock:
            loader = self._load_history
            started = self._refreshed_at = self._clock()
        if loader is None:
            return None
        try:
            snapshot = train_team_model(loader(), self._min_rows)
        except Exception:
            logger.exception("Team model: training failed; keeping the previous model")
            return self._snapshot
        self._snapshot = snapshot
        if snapshot is not None:
            logger.info(
                "Team model trained on %d tickets in %.1f s (weights: category %.1f, "
                "priority %.1f)",
                snapshot.rows,
                self._clock() - started,
                snapshot.category_weight,
                snapshot.priority_weight,
            )
        return snapshot

    def request_refresh(self) -> threading.Thread | None:
        """Start a background retrain if due; returns the started thread (or `None`)."""
        with self._lock:
            now = self._clock()
            due = self._refreshed_at is None or now - self._refreshed_at >= self._refresh_seconds
            busy = self._worker is not None and self._worker.is_alive()
            if self._load_history is None or not due or busy:
                return None
            self._refreshed_at = now
            self._worker = threading.Thread(
                target=self.refresh, name="triage-team-model", daemon=True
            )
            self._worker.start()
            return self._worker
