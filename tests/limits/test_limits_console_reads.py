"""Console reads take the same per-user turns as the API's expensive reads (issue 27, item 6).

A person's tabs run at most `EXPENSIVE_READS_PER_USER` list, stats and similar-ticket reads at
once; further ones wait for a turn (up to `SEARCH_QUEUE_SECONDS`) instead of adding table scans.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.support.auth import actor_of
from tests.ui.test_states import _session_cookie
from tests.ui.test_var_marker import _call, _tab
from ticket_app.services.rate_limits import (
    ExpensiveReadsBusyError,
    expensive_turn,
    shared_limiter,
    user_key,
)
from ticket_app.settings import get_settings
from ticket_app.ui.state.stats import StatsState


@pytest.fixture
def short_queue(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Two turns per user and a 0.3 s wait for one."""
    monkeypatch.setenv("EXPENSIVE_READS_PER_USER", "2")
    monkeypatch.setenv("SEARCH_QUEUE_SECONDS", "0.3")
    get_settings.cache_clear()
    yield db
    monkeypatch.delenv("EXPENSIVE_READS_PER_USER")
    monkeypatch.delenv("SEARCH_QUEUE_SECONDS")
    get_settings.cache_clear()


def _occupy(user_id: int, turns: int) -> None:
    for _ in range(turns):
        assert shared_limiter().enter_expensive(user_key(user_id))


def _release(user_id: int, turns: int) -> None:
    for _ in range(turns):
        shared_limiter().leave_expensive(user_key(user_id))


def test_a_third_read_waits_for_a_turn_and_others_are_not_held_up(short_queue: Engine) -> None:
    async def take(user_id: int) -> float:
        started = time.monotonic()
        async with expensive_turn(user_id):
            return time.monotonic() - started

    _occupy(1, 2)
    try:
        with pytest.raises(ExpensiveReadsBusyError):
            asyncio.run(take(1))
        assert asyncio.run(take(2)) < 0.1
    finally:
        _release(1, 2)
    assert asyncio.run(take(1)) < 0.1


def test_the_dashboard_waits_for_its_turn(short_queue: Engine) -> None:
    dashboard = _tab(StatsState, _session_cookie("viewer"))
    viewer = actor_of("viewer@example.com").user_id
    _occupy(viewer, 2)
    try:
        _call(dashboard, "refresh", [])
        assert dashboard.unavailable
    finally:
        _release(viewer, 2)
    _call(dashboard, "refresh", [])
    assert not dashboard.unavailable
