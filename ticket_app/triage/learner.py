"""Learning from the team's own history: a small text model trained at run time.

Tickets whose category and priority staff set or confirmed are the training rows. Nothing is
trained ahead of time and no model file is shipped: the model exists only in memory, is built
from this installation's tickets, and is rebuilt in a background thread when it is stale.

Rows come from the service layer through a plain callable (`LoadHistory`), so this package never
imports the database code; the service layer hands the callable in with `set_history_loader`.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from ticket_app.enums import Category, Priority
from ticket_app.triage import rules
from ticket_app.triage.rules import CATEGORIES, PRIORITIES, RuleResult

logger = logging.getLogger(__name__)

LoadHistory = Callable[[], Iterable[tuple[str, str, str]]]
"""Returns training rows `(text, category, priority)`; `text` is title and description joined by
a newline, the labels are `Category` / `Priority` values as set or confirmed by staff."""

MIN_HISTORY_ROWS = 200
# Seconds after which the model is retrained even if nothing was marked stale (picks up label
# changes made by other processes, e.g. another worker or the CLI's import).
REFRESH_SECONDS = 600.0
# Seconds that must pass between the starts of two trainings caused by `mark_stale`: however
# many labels staff edit, at most one retrain per this interval (a training takes seconds of
# CPU; retraining after every edit cost 28% of a core at one edit per second).
MIN_RETRAIN_SECONDS = 300.0
# Regularisation strengths tried by cross-validation on the history (LinearSVC's C).
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
CV_FOLDS = 5
# Scale of the rule features (log-probabilities, about -9..0) next to the L2-normalised TF-IDF
# vector. 0.1, 0.3 and 1.0 gave the same cross-validated accuracy within 0.01 in development;
# 0.3 trains fastest of the three.
RULE_FEATURE_SCALE = 0.3
# Softmax temperatures tried to turn decision values into confidences (chosen by log-loss on the
# cross-validated decision values of the history).
TEMPERATURE_GRID = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)
# Only the start of a ticket goes into the model, like the rules (bounds the prediction time).
MAX_MODEL_CHARS = rules.MAX_SCORED_CHARS
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def analyse(text: str) -> list[str]:
    """Lower-cased words of 2+ characters and their bigrams: the team model's terms."""
    words = _TOKEN.findall(text[:MAX_MODEL_CHARS].lower())
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def _vectoriser() -> TfidfVectorizer:
    """Word uni- and bi-grams seen in at least two tickets, sublinear term frequency.

    Character n-grams (char_wb 3-5) were tried next to the words: no better on the warm
    evaluation's training history in cross-validation, and several times the prediction time.
    """
    return TfidfVectorizer(analyzer=analyse, min_df=2, sublinear_tf=True)


def split_text(text: str) -> tuple[str, str]:
    """`(title, description)` of a history text (`title` newline `description`)."""
    title, newline, description = text.partition("\n")
    return (title, description) if newline else ("", title)


def _rule_features(results: Sequence[RuleResult], kind: str) -> np.ndarray:
    """Scaled log-probabilities the rules give each label: what the model stacks on."""
    rows = [r.category_probs if kind == "category" else r.priority_probs for r in results]
    return RULE_FEATURE_SCALE * np.log(np.asarray(rows, dtype=float) + 1e-4)


def _softmax_rows(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _svc(c: float) -> LinearSVC:
    return LinearSVC(C=c, class_weight="balanced", max_iter=5000)


class _LabelModel:
    """TF-IDF of the text plus the rules' log-probabilities, one linear SVM over a label order.

    The rule probabilities are features, not a fixed blend: the model learns per label how far
    to trust them on this team's tickets (e.g. that the rules over-predict "technical"). `C` is
    chosen by stratified cross-validation on the training rows only; decision values become
    confidences through a softmax whose temperature is fitted on the same cross-validation.
    Prediction for one ticket (`predict_one`) avoids scikit-learn's per-call overhead: it looks
    the terms up in the fitted vocabulary and takes one small dot product.
    """

    def __init__(self, labels: Sequence[str], kind: str) -> None:
        self._labels = list(labels)
        self._kind = kind
        self._constant: np.ndarray | None = None
        self._vocabulary: dict[str, int] = {}
        self._idf = np.zeros(0)
        self._coef_terms = np.zeros((0, 0))  # (terms, classes present)
        self._coef_rules = np.zeros((0, 0))  # (len(labels), classes present)
        self._intercept = np.zeros(0)
        self._columns: list[int] = []  # column of each class present in `self._labels`
        self._temperature = 1.0
        self.c = 0.0
        self.trained = False
        self.cv_accuracy: float | None = None
        self.rule_accuracy: float | None = None

    def fit(
        self, texts: Sequence[str], results: Sequence[RuleResult], targets: Sequence[str]
    ) -> None:
        self.trained = True
        present = sorted(set(targets))
        if len(present) < 2:
            constant = np.zeros(len(self._labels))
            constant[self._labels.index(present[0])] = 1.0
            self._constant = constant
            return
        self._constant = None
        y = np.asarray(targets)
        rule_x = _rule_features(results, self._kind)
        rule_pred = np.asarray([self._labels[i] for i in np.argmax(rule_x, axis=1)])
        self.rule_accuracy = float(np.mean(rule_pred == y))
        self.c, self.cv_accuracy, self._temperature = self._choose(texts, rule_x, y)
        vectoriser = _vectoriser()
        x = _stack(vectoriser.fit_transform(texts), rule_x)
        model = _fit_svc(self.c, x, y)
        n_terms = len(vectoriser.vocabulary_)
        coef = np.atleast_2d(model.coef_)
        intercept = np.atleast_1d(model.intercept_)
        if coef.shape[0] == 1:  # two classes: one decision function for the second class
            coef, intercept = np.vstack([-coef, coef]) / 2, np.array([-1, 1]) * intercept / 2
        self._vocabulary = dict(vectoriser.vocabulary_)
        self._idf = vectoriser.idf_.copy()
        self._coef_terms = np.ascontiguousarray(coef[:, :n_terms].T)
        self._coef_rules = np.ascontiguousarray(coef[:, n_terms:].T)
        self._intercept = intercept
        self._columns = [self._labels.index(label) for label in model.classes_]

    def _choose(
        self, texts: Sequence[str], rule_x: np.ndarray, y: np.ndarray
    ) -> tuple[float, float | None, float]:
        """(C, its cross-validated accuracy, softmax temperature) from folds of the history."""
        smallest = min(Counter(y.tolist()).values())
        folds = min(CV_FOLDS, smallest)
        if folds < 2:
            return 0.1, None, 0.5
        splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
        fold_data = []
        for train, test in splitter.split(rule_x, y):
            vectoriser = _vectoriser()
            x_train = _stack(vectoriser.fit_transform([texts[i] for i in train]), rule_x[train])
            x_test = _stack(vectoriser.transform([texts[i] for i in test]), rule_x[test])
            fold_data.append((train, test, x_train, x_test))
        best: tuple[float, float, np.ndarray] | None = None
        for c in C_GRID:
            decisions = np.zeros((len(y), len(set(y.tolist()))))
            predicted = np.empty(len(y), dtype=object)
            for train, test, x_train, x_test in fold_data:
                model = _fit_svc(c, x_train, y[train])
                values = model.decision_function(x_test)
                if values.ndim == 1:
                    values = np.column_stack([-values, values]) / 2
                columns = [sorted(set(y.tolist())).index(label) for label in model.classes_]
                decisions[np.ix_(test, columns)] = values
                predicted[test] = model.classes_[np.argmax(values, axis=1)]
            accuracy = float(np.mean(predicted == y))
            if best is None or accuracy > best[1]:
                best = (c, accuracy, decisions)
        assert best is not None
        c, accuracy, decisions = best
        gold = np.asarray([sorted(set(y.tolist())).index(label) for label in y])
        losses = [
            -float(np.mean(np.log(_softmax_rows(decisions / t)[np.arange(len(y)), gold] + 1e-12)))
            for t in TEMPERATURE_GRID
        ]
        return c, accuracy, TEMPERATURE_GRID[int(np.argmin(losses))]

    def predict_one(self, text: str, result: RuleResult) -> np.ndarray:
        """Probabilities over the label order for one ticket (fast path)."""
        if self._constant is not None:
            return self._constant
        if not self.trained:
            return np.full(len(self._labels), 1.0 / len(self._labels))
        counts = Counter(analyse(text))
        index, weight = [], []
        vocabulary, idf = self._vocabulary, self._idf
        for term, count in counts.items():
            column = vocabulary.get(term)
            if column is not None:
                index.append(column)
                weight.append((1.0 + math.log(count)) * idf[column])
        decision = self._intercept.copy()
        if index:
            values = np.asarray(weight)
            values /= math.sqrt(float(values @ values))
            decision += values @ self._coef_terms[index]
        decision += _rule_features([result], self._kind)[0] @ self._coef_rules
        exps = np.exp((decision - decision.max()) / self._temperature)
        out = np.zeros(len(self._labels))
        out[self._columns] = exps / exps.sum()
        return out


def _stack(text_x, rule_x: np.ndarray):
    return hstack([text_x, csr_matrix(rule_x)]).tocsr()


def _fit_svc(c: float, x, y: np.ndarray) -> LinearSVC:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _svc(c).fit(x, y)


def _score_history(texts: Sequence[str]) -> list[RuleResult]:
    return [rules.score(description, title) for title, description in map(split_text, texts)]


class TeamModel:
    """Category and priority classifiers trained on one team's tickets, stacked on the rules.

    `fit` takes parallel sequences of texts (`title` newline `description`) and labels
    (`Category` / `Priority` values); `predict_proba` returns two arrays of shape
    `(len(texts), 4)` whose columns follow `rules.CATEGORIES` and `rules.PRIORITIES`; labels
    absent from the history get probability 0. `predict_one` is the per-ticket fast path that
    reuses the rules' result the classifier already computed.
    """

    def __init__(self) -> None:
        self.category = _LabelModel([c.value for c in CATEGORIES], "category")
        self.priority = _LabelModel([p.value for p in PRIORITIES], "priority")

    def fit(
        self, texts: Sequence[str], categories: Sequence[str], priorities: Sequence[str]
    ) -> TeamModel:
        """Train both classifiers; returns `self`.

        Rows with an empty priority train the category model only; with no priority at all the
        priority model stays untrained (`trained` is False) and the rules keep deciding it.
        Raises `ValueError` if the sequences differ in length or are empty.
        """
        if not texts or not len(texts) == len(categories) == len(priorities):
            raise ValueError("texts, categories and priorities must be non-empty and equally long")
        results = _score_history(texts)
        self.category.fit(texts, results, categories)
        rated = [i for i, priority in enumerate(priorities) if priority]
        if rated:
            self.priority.fit(
                [texts[i] for i in rated],
                [results[i] for i in rated],
                [priorities[i] for i in rated],
            )
        return self

    def predict_one(self, text: str, result: RuleResult) -> tuple[np.ndarray, np.ndarray]:
        """Category and priority probabilities (each of length 4) for one ticket."""
        return self.category.predict_one(text, result), self.priority.predict_one(text, result)

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Category and priority probabilities, each of shape `(len(texts), 4)`."""
        pairs = [self.predict_one(t, r) for t, r in zip(texts, _score_history(texts), strict=True)]
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


@dataclass(frozen=True)
class TeamSnapshot:
    """A trained model and whether to trust it.

    `category_weight` / `priority_weight` are 1.0 when the stacked model's cross-validated
    accuracy on the history is at least the rules' accuracy on the same rows, else 0.0 (the
    suggestion then comes from the rules alone); `rows` is the number of history rows it was
    trained on.
    """

    model: TeamModel
    category_weight: float
    priority_weight: float
    rows: int


def _clean_rows(rows: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Keep rows with non-blank text and labels from the enums (others are logged and dropped).

    An empty priority (`""` or `None`) is allowed: such a row teaches the category only (e.g.
    imported tickets that never had a priority).
    """
    categories = {c.value for c in Category}
    priorities = {p.value for p in Priority}
    kept, dropped = [], 0
    for text, category, priority in rows:
        known_priority = not priority or priority in priorities
        if text and text.strip() and category in categories and known_priority:
            kept.append((text, str(category), str(priority or "")))
        else:
            dropped += 1
    if dropped:
        logger.info(
            "Team model: ignored %d history rows with blank text or unknown labels", dropped
        )
    return kept


def _trust(model: _LabelModel) -> float:
    if not model.trained:
        return 0.0
    if model.cv_accuracy is None or model.rule_accuracy is None:
        return 1.0  # constant or too few rows per label to cross-validate: the history decides
    return 1.0 if model.cv_accuracy >= model.rule_accuracy else 0.0


def train_team_model(
    rows: Iterable[tuple[str, str, str]], min_rows: int = MIN_HISTORY_ROWS
) -> TeamSnapshot | None:
    """Train a team model on `(text, category, priority)` rows; `None` if fewer than `min_rows`.

    Each label model stacks the rules' probabilities next to TF-IDF features; its `C` and
    softmax temperature are chosen by cross-validation on these rows, then it is trained on all
    of them. A label model is used only if its cross-validated accuracy is at least the rules'
    accuracy on the same rows; otherwise the rules keep deciding that label.
    """
    data = _clean_rows(rows)
    if len(data) < min_rows:
        return None
    texts = [text for text, _, _ in data]
    model = TeamModel().fit(
        texts, [category for _, category, _ in data], [priority for _, _, priority in data]
    )
    return TeamSnapshot(model, _trust(model.category), _trust(model.priority), len(data))


class HistoryLearner:
    """Keeps a `TeamSnapshot` trained on the rows `load_history` returns, fresh in the background.

    `snapshot` is the current model or `None` (no loader, too little history, or not trained
    yet). `request_refresh()` never blocks: it starts a background training thread, when none is
    running, if the model was never trained (or the loader changed), if it was marked stale and
    at least `min_retrain_seconds` have passed since the last training started, or if
    `refresh_seconds` have passed since then in any case. So a burst of label edits costs one
    retrain per `min_retrain_seconds`, not one per edit. `clock` returns seconds (monotonic);
    both intervals are in seconds. A loader or training error is logged and the previous
    snapshot is kept.
    """

    def __init__(
        self,
        load_history: LoadHistory | None = None,
        *,
        min_rows: int = MIN_HISTORY_ROWS,
        refresh_seconds: float = REFRESH_SECONDS,
        min_retrain_seconds: float = MIN_RETRAIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load_history = load_history
        self._min_rows = min_rows
        self._refresh_seconds = refresh_seconds
        self._min_retrain_seconds = min_retrain_seconds
        self._clock = clock
        self._snapshot: TeamSnapshot | None = None
        # When (clock seconds) the last training started; None: never, or the loader changed.
        self._trained_at: float | None = None
        # Labels changed since the last training started.
        self._stale = False
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    @property
    def snapshot(self) -> TeamSnapshot | None:
        """The model currently in use, or `None`."""
        return self._snapshot

    @property
    def stale(self) -> bool:
        """Whether labels changed since the last training started (a retrain is pending)."""
        return self._stale

    def set_loader(self, load_history: LoadHistory) -> None:
        """Use `load_history` from now on and retrain at the next request, without waiting."""
        with self._lock:
            self._load_history = load_history
            self._trained_at = None

    def mark_stale(self) -> None:
        """Note that staff changed labels; cheap, call it on every edit.

        The retrain happens at the first request at least `min_retrain_seconds` after the last
        training started (at once if that is long enough ago).
        """
        with self._lock:
            self._stale = True

    def _due(self, now: float) -> bool:
        """Whether a training should start at clock time `now` (seconds); lock held."""
        if self._trained_at is None:
            return True
        elapsed = now - self._trained_at
        if self._stale and elapsed >= self._min_retrain_seconds:
            return True
        return elapsed >= self._refresh_seconds

    def _start(self, now: float) -> None:
        """Record that a training starts at `now` and reads every change made so far."""
        self._trained_at = now
        self._stale = False

    def refresh(self) -> TeamSnapshot | None:
        """Load the history and retrain now, in the calling thread; returns the new snapshot.

        Not throttled (the throttle is `request_refresh`'s), but it counts as the latest
        training for the throttle.
        """
        with self._lock:
            loader = self._load_history
            started = self._clock()
            self._start(started)
        return self._train(loader, started)

    def _train(self, loader: LoadHistory | None, started: float) -> TeamSnapshot | None:
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
        """Start a background retrain if one is due (see the class).

        Returns the started thread, or `None` when none was due, one is running, or there is no
        loader.
        """
        with self._lock:
            now = self._clock()
            busy = self._worker is not None and self._worker.is_alive()
            if self._load_history is None or busy or not self._due(now):
                return None
            self._start(now)
            self._worker = threading.Thread(
                target=self._train,
                args=(self._load_history, now),
                name="triage-team-model",
                daemon=True,
            )
            self._worker.start()
            return self._worker

    def wait_for_training(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds (None: no limit) for a background training to end.

        Returns True when no training is running afterwards. For orderly shutdown, and for
        measurements that must not share the CPU with a training started earlier.
        """
        with self._lock:
            worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return worker is None or not worker.is_alive()
