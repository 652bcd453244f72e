"""Fixtures shared by the triage tests."""

from __future__ import annotations

import pytest

from ticket_app.triage.offline import OfflineClassifier


@pytest.fixture
def offline_models_loaded() -> None:
    """Load the offline classifier's language model, as a served process's warm-up does.

    Its first use takes about a second, which tests that time a call must not count.
    """
    OfflineClassifier().classify("I was charged twice for my invoice this month.")
