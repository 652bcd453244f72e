"""Through the REST API: a hanging Gemini never holds a request past the budget + 0.5 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from ticket_app.triage import get_history_learner
from ticket_app.triage.gemini import GeminiClassifier
from ticket_app.triage.offline import OfflineClassifier

BUDGET_SECONDS = 1.0


class HangingModels:
    """`client.aio.models` of an SDK whose calls never answer."""

    def __init__(self) -> None:
        self.calls = 0

    async def generate_content(self, **_: Any) -> Any:
        self.calls += 1
        await asyncio.sleep(3600)


@pytest.fixture
def hanging_gemini(monkeypatch: pytest.MonkeyPatch) -> HangingModels:
    # A team-model training that earlier tests started in the background would compete for
    # the CPU and the GIL; the budget is about Gemini hanging, so measure without it.
    assert get_history_learner().wait_for_training(timeout=60)
    models = HangingModels()
    client = SimpleNamespace(aio=SimpleNamespace(models=models))
    classifier = GeminiClassifier(client, OfflineClassifier(), timeout_seconds=BUDGET_SECONDS)
    monkeypatch.setattr("ticket_app.api.tickets.get_classifier", lambda: classifier)
    monkeypatch.setattr("ticket_app.services.tickets.get_classifier", lambda: classifier)
    return models


def _fastest_of(attempts: int, send: Callable[[], Response]) -> tuple[float, Response]:
    """The shortest wall time of up to `attempts` requests (stopping at the first in budget).

    A hung Gemini call would make every attempt slow; a busy CI machine (two cores shared with
    other test servers) only some of them, so the best attempt measures the code, not the load.
    """
    best: tuple[float, Response] | None = None
    for _ in range(attempts):
        started = time.monotonic()
        response = send()
        elapsed = time.monotonic() - started
        if best is None or elapsed < best[0]:
            best = (elapsed, response)
        if elapsed < BUDGET_SECONDS + 0.5:
            break
    assert best is not None
    return best


def test_classify_answers_from_the_fallback_within_the_budget(
    client: TestClient, hanging_gemini: HangingModels
) -> None:
    elapsed, response = _fastest_of(
        3,
        lambda: client.post(
            "/api/tickets/classify/",
            json={"description": "Our whole team cannot log in since 9am."},
        ),
    )
    assert response.status_code == 200
    assert response.json()["source"] == "offline"
    assert elapsed < BUDGET_SECONDS + 0.5
    assert hanging_gemini.calls >= 1


def test_ticket_creation_is_not_held_up_by_a_hanging_gemini(
    client: TestClient, hanging_gemini: HangingModels
) -> None:
    elapsed, response = _fastest_of(
        3,
        lambda: client.post(
            "/api/tickets/",
            json={"title": "Refund", "description": "Please refund my last invoice."},
        ),
    )
    assert response.status_code == 201
    assert response.json()["category"] == "billing"
    assert elapsed < BUDGET_SECONDS + 0.5
