"""The team model: trained on staff-labelled history, blended with the rules, in the background."""

from __future__ import annotations

import threading
import time

import pytest

from ticket_app.models import Category
from ticket_app.triage.learner import HistoryLearner, TeamModel, train_team_model
from ticket_app.triage.offline import OfflineClassifier

# A team whose product words mean nothing to the rules: "zorblet" tickets go to billing,
# "quandle" tickets to account, "flimmer" tickets to technical, "parvo" tickets to general.
TEAM_WORDS = {
    "zorblet": "billing",
    "quandle": "account",
    "flimmer": "technical",
    "parvo": "general",
}
FILLERS = ["please look at my", "question about the", "something odd with my", "hello, my"]


def history(rows_per_word: int = 60) -> list[tuple[str, str, str]]:
    rows = []
    for word, category in TEAM_WORDS.items():
        for i in range(rows_per_word):
            text = f"Ticket {i}\n{FILLERS[i % len(FILLERS)]} {word} number {i}"
            rows.append((text, category, "high" if i % 3 == 0 else "medium"))
    return rows


def test_no_model_below_the_minimum_history() -> None:
    assert train_team_model(history(10), min_rows=200) is None


def test_bad_rows_are_ignored() -> None:
    bad = [("", "billing", "low"), ("text", "sales", "low"), ("t", "billing", "?")]
    rows = [*history(60), *bad]
    snapshot = train_team_model(rows)
    assert snapshot is not None
    assert snapshot.rows == 240


def test_team_model_probabilities_follow_the_enum_order() -> None:
    rows = history(60)
    model = TeamModel().fit([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    categories, priorities = model.predict_proba(["a zorblet again", "my quandle"])
    assert categories.shape == (2, 4) and priorities.shape == (2, 4)
    assert abs(categories.sum(axis=1) - 1).max() < 1e-9
    assert priorities[:, 0].max() == 0.0  # "low" never occurs in this history
    assert priorities[:, 3].max() == 0.0  # nor "critical"


def test_classifier_blends_in_the_team_model_after_enough_history() -> None:
    learner = HistoryLearner(history)
    classifier = OfflineClassifier(learner)
    cold = classifier.classify("something odd with my zorblet")
    assert cold.category == Category.GENERAL  # rules alone: no cue, default
    assert learner.refresh() is not None
    warm = classifier.classify("something odd with my zorblet")
    assert warm.category == Category.BILLING
    assert "team model on 240 tickets" in warm.reason
    assert 0.0 <= warm.category_confidence <= 1.0
    assert warm == classifier.classify("something odd with my zorblet")  # deterministic


@pytest.mark.usefixtures("offline_models_loaded")
def test_training_runs_in_the_background_without_blocking_requests() -> None:
    release = threading.Event()

    def slow_history() -> list[tuple[str, str, str]]:
        release.wait(5)
        return history()

    learner = HistoryLearner(slow_history)
    classifier = OfflineClassifier(learner)
    started = time.monotonic()
    suggestion = classifier.classify("something odd with my quandle")
    assert time.monotonic() - started < 0.5
    assert "team model" not in suggestion.reason
    worker = learner.request_refresh()
    assert worker is None  # one training at a time, already running
    release.set()
    deadline = time.monotonic() + 10
    while learner.snapshot is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert classifier.classify("something odd with my quandle").category == Category.ACCOUNT


def test_loader_errors_keep_the_previous_model() -> None:
    calls = {"n": 0}

    def flaky() -> list[tuple[str, str, str]]:
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("database unavailable")
        return history()

    learner = HistoryLearner(flaky)
    first = learner.refresh()
    assert first is not None
    assert learner.refresh() is first


def test_fast_prediction_matches_the_fitted_linear_model() -> None:
    from sklearn.svm import LinearSVC

    from ticket_app.triage import learner as learner_module
    from ticket_app.triage.rules import score

    rows = history(60)
    texts = [r[0] for r in rows]
    model = TeamModel().fit(texts, [r[1] for r in rows], [r[2] for r in rows])
    label_model = model.category
    # Rebuild the same pipeline with scikit-learn and compare decision values via probabilities.
    vectoriser = learner_module._vectoriser()
    results = [score(d, t) for t, d in map(learner_module.split_text, texts)]
    x = learner_module._stack(
        vectoriser.fit_transform(texts), learner_module._rule_features(results, "category")
    )
    reference = LinearSVC(C=label_model.c, class_weight="balanced", max_iter=5000).fit(
        x, [r[1] for r in rows]
    )
    probe = ["Ticket 7\nsomething odd with my zorblet flimmer", "hello, my parvo parvo"]
    probe_results = [score(d, t) for t, d in map(learner_module.split_text, probe)]
    px = learner_module._stack(
        vectoriser.transform(probe), learner_module._rule_features(probe_results, "category")
    )
    expected = reference.classes_[reference.decision_function(px).argmax(axis=1)]
    fast = [label_model.predict_one(t, r) for t, r in zip(probe, probe_results, strict=True)]
    labels = [c.value for c in Category]
    assert [labels[int(p.argmax())] for p in fast] == list(expected)
    for p in fast:
        assert abs(p.sum() - 1) < 1e-9


def test_rows_without_priority_teach_the_category_only() -> None:
    rows = [(text, category, "") for text, category, _ in history(60)]
    snapshot = train_team_model(rows)
    assert snapshot is not None and snapshot.rows == 240
    assert snapshot.priority_weight == 0.0  # the rules keep deciding the priority
    assert snapshot.model.category.trained and not snapshot.model.priority.trained
    classifier = OfflineClassifier(HistoryLearner(lambda: rows))
    classifier._learner.refresh()
    assert classifier.classify("something odd with my zorblet").category == Category.BILLING


def test_team_model_is_not_used_where_the_rules_do_better() -> None:
    # Labels that contradict the text: the rules (right by construction here) beat any model.
    texts = [
        "Refund my invoice payment",
        "I forgot my password and cannot log in",
        "The server crashes with an error",
        "Where is my parcel delivery",
    ]
    labels = ["billing", "account", "technical", "general"]
    rows = [
        (f"Ticket {i}\n{texts[i % 4]} {i}", labels[i % 4] if i % 5 else labels[(i + 1) % 4], "low")
        for i in range(240)
    ]
    snapshot = train_team_model(rows)
    assert snapshot is not None
    model = snapshot.model.category
    assert model.rule_accuracy is not None and model.cv_accuracy is not None
    assert snapshot.category_weight == (1.0 if model.cv_accuracy >= model.rule_accuracy else 0.0)


class FakeClock:
    """A monotonic clock (seconds) that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingLoader:
    """A history loader that counts how often a training read the history."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list[tuple[str, str, str]]:
        self.calls += 1
        return history(1)  # below the minimum: training is cheap and yields no model


def throttled(loader: CountingLoader, clock: FakeClock) -> HistoryLearner:
    return HistoryLearner(loader, refresh_seconds=600, min_retrain_seconds=300, clock=clock)


def request(learner: HistoryLearner) -> bool:
    """Ask for a refresh as a classify call does; True if a training ran (waited for)."""
    worker = learner.request_refresh()
    if worker is None:
        return False
    worker.join(5)
    assert not worker.is_alive()
    return True


def test_first_request_trains_then_no_retrain_without_edits_until_the_refresh_interval() -> None:
    clock, loader = FakeClock(), CountingLoader()
    learner = throttled(loader, clock)
    assert request(learner)
    clock.now += 599
    assert not request(learner)
    clock.now += 1
    assert request(learner)
    assert loader.calls == 2


def test_label_edits_retrain_at_most_once_per_minimum_interval() -> None:
    clock, loader = FakeClock(), CountingLoader()
    learner = throttled(loader, clock)
    assert request(learner)
    # An edit, then a classify, every second for just under five minutes: no retrain.
    for _ in range(299):
        clock.now += 1
        learner.mark_stale()
        assert not request(learner)
    assert learner.stale
    clock.now += 1  # 300 s after the last training started
    assert request(learner)
    assert not learner.stale
    assert not request(learner)
    assert loader.calls == 2


def test_a_long_burst_of_edits_costs_one_retrain_per_interval() -> None:
    clock, loader = FakeClock(), CountingLoader()
    learner = throttled(loader, clock)
    trainings = 0
    for _ in range(3600):  # one edit and one classify per second for an hour
        learner.mark_stale()
        trainings += request(learner)
        clock.now += 1
    assert trainings == 3600 // 300
    assert loader.calls == trainings


def test_a_stale_mark_long_after_the_last_training_retrains_at_once() -> None:
    clock, loader = FakeClock(), CountingLoader()
    learner = throttled(loader, clock)
    assert request(learner)
    clock.now += 400
    assert not request(learner)  # not stale, refresh interval not reached
    learner.mark_stale()
    assert request(learner)


def test_an_edit_during_training_is_not_lost() -> None:
    clock = FakeClock()
    release, reading = threading.Event(), threading.Event()
    calls = {"n": 0}

    def slow_history() -> list[tuple[str, str, str]]:
        calls["n"] += 1
        reading.set()
        release.wait(5)
        return history(1)

    learner = HistoryLearner(slow_history, min_retrain_seconds=300, clock=clock)
    worker = learner.request_refresh()
    assert worker is not None and reading.wait(5)
    learner.mark_stale()  # after the running training read the history
    release.set()
    worker.join(5)
    assert learner.stale
    clock.now += 299
    assert not request(learner)
    clock.now += 1
    assert request(learner)
    assert calls["n"] == 2


def test_a_new_loader_trains_at_the_next_request_without_waiting() -> None:
    clock, first, second = FakeClock(), CountingLoader(), CountingLoader()
    learner = throttled(first, clock)
    assert request(learner)
    learner.set_loader(second)
    assert request(learner)
    assert (first.calls, second.calls) == (1, 1)


def test_default_intervals_throttle_to_five_minutes() -> None:
    from ticket_app.triage import learner as learner_module

    assert learner_module.MIN_RETRAIN_SECONDS == 300
    assert learner_module.MIN_RETRAIN_SECONDS <= learner_module.REFRESH_SECONDS
    clock, loader = FakeClock(), CountingLoader()
    learner = HistoryLearner(loader, clock=clock)
    assert request(learner)
    learner.mark_stale()
    clock.now += learner_module.MIN_RETRAIN_SECONDS - 1
    assert not request(learner)
    clock.now += 1
    assert request(learner)


def test_wait_for_training_returns_once_the_background_training_ends() -> None:
    release = threading.Event()

    def slow_history() -> list[tuple[str, str, str]]:
        release.wait(5)
        return history()

    learner = HistoryLearner(slow_history)
    assert learner.wait_for_training(timeout=0)  # nothing started yet
    assert learner.request_refresh() is not None
    assert not learner.wait_for_training(timeout=0.05)  # still waiting for its rows
    release.set()
    assert learner.wait_for_training(timeout=30)
    assert learner.snapshot is not None
