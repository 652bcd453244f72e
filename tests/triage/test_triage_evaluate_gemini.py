"""`evaluate --classifier gemini`: the configured model scored on the reference tickets, with
answers that fell back to the offline classifier counted, against a fake at the SDK boundary."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from google.genai import errors, types

from ticket_app.settings import get_settings
from ticket_app.triage import evaluate
from ticket_app.triage.evaluate import classifier_report, main
from ticket_app.triage.evaluate_common import DEVELOPMENT_DIR, load_reference
from ticket_app.triage.gemini import GeminiClassifier
from ticket_app.triage.offline import OfflineClassifier

TITLE_AND_DESCRIPTION = re.compile(
    r"^Title: (?P<title>.*?)\nDescription:\n(?P<description>.*)\n</ticket-", re.S | re.M
)


class GoldModels:
    """Answers each ticket with its reference labels, except every `fail_every`-th call (400)."""

    def __init__(self, fail_every: int) -> None:
        tickets = [*load_reference(), *load_reference(DEVELOPMENT_DIR)]
        self.labels = {(e.title.strip(), e.description.strip()): e for e in tickets}
        self.fail_every = fail_every
        self.calls = 0

    async def generate_content(self, *, contents: str, **_: Any) -> types.GenerateContentResponse:
        self.calls += 1
        if self.calls % self.fail_every == 0:
            raise errors.APIError(400, {"error": {"code": 400, "message": "fake", "status": "X"}})
        found = TITLE_AND_DESCRIPTION.search(contents)
        assert found is not None
        gold = self.labels[(found["title"], found["description"])]
        body = {
            "category": gold.category,
            "priority": gold.priority,
            "category_confidence": 0.9,
            "priority_confidence": 0.8,
            "reason": "the fake knows",
            "suggested_title": gold.title[:80],
            "language": "en",
            "sentiment": "neutral",
            "sentiment_score": 0.0,
            "frustrated": False,
        }
        part = types.Part(text=json.dumps(body))
        return types.GenerateContentResponse(
            candidates=[types.Candidate(content=types.Content(role="model", parts=[part]))]
        )


def test_report_counts_fallbacks_and_scores_the_gemini_answers_alone() -> None:
    models = GoldModels(fail_every=10)
    client = SimpleNamespace(aio=SimpleNamespace(models=models))
    classifier = GeminiClassifier(client, OfflineClassifier(), timeout_seconds=5.0)

    lines = classifier_report(classifier, "Gemini (fake)", concurrency=8)

    held = lines.index(
        next(line for line in lines if "held-out half" in line and line.startswith("=="))
    )
    assert lines[held].startswith("== Gemini (fake): reference tickets, held-out half (398 ")
    answered = dict(part.split("=") for part in lines[held + 1].split(":")[1].split())
    assert int(answered["gemini"]) + int(answered["offline"]) == 398
    assert 30 <= int(answered["offline"]) <= 50
    block = lines[held : lines.index("", held)]
    assert "  category on the Gemini answers alone: 1.000" in block
    assert "  priority on the Gemini answers alone: 1.000" in block
    accuracy = [float(re.search(r"accuracy=(\S+)", line)[1]) for line in block if "n=398" in line]
    assert len(accuracy) == 2 and all(0.9 < value < 1.0 for value in accuracy)
    assert models.calls == 1600


def test_gemini_evaluation_needs_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(get_settings(), "gemini_api_key", None)
    assert main(["--classifier", "gemini"]) == 2
    assert "GEMINI_API_KEY" in capsys.readouterr().err


def test_gemini_evaluation_uses_the_configured_classifier(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    get_settings.cache_clear()
    models = GoldModels(fail_every=10_000)
    built: list[Any] = []

    def from_settings(settings: Any, fallback: Any) -> GeminiClassifier:
        built.append(settings.gemini_model)
        client = SimpleNamespace(aio=SimpleNamespace(models=models))
        return GeminiClassifier(client, fallback, timeout_seconds=5.0)

    monkeypatch.setattr(evaluate.GeminiClassifier, "from_settings", staticmethod(from_settings))
    try:
        assert main(["--classifier", "gemini"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert built == ["gemini-2.5-flash"]
    assert out.count("answered by: gemini=") == 3
    assert "accuracy=1.000" in out
