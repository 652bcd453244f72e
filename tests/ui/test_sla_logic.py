"""Service levels in words: what the queue and the ticket page say about a ticket's targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ticket_app.ui.logic.sla import SlaBadge, duration_words, sla_badge

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=20), "under 1 min"),
        (timedelta(minutes=35), "35 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(hours=11, minutes=5), "11 h"),
        (timedelta(days=3, hours=4, minutes=9), "3 d 4 h"),
        (timedelta(days=2), "2 d"),
        (timedelta(days=12, hours=5), "12 d"),
        (-timedelta(hours=2), "2 h"),
    ],
)
def test_durations_read_at_a_glance(delta: timedelta, words: str) -> None:
    assert duration_words(delta) == words


def test_the_nearest_running_target_is_named() -> None:
    dues = {
        "first_response": NOW + timedelta(minutes=35),
        "next_response": None,
        "resolution": NOW + timedelta(hours=5),
    }
    assert sla_badge(dues, paused=False, now=NOW) == SlaBadge("first reply due in 35 min", "soon")


def test_an_overdue_target_says_by_how_much() -> None:
    dues = {"first_response": None, "resolution": NOW - timedelta(hours=2)}
    badge = sla_badge(dues, paused=False, now=NOW)
    assert badge == SlaBadge("resolution overdue by 2 h", "overdue")


def test_a_target_far_away_is_ok_and_still_in_words() -> None:
    badge = sla_badge({"next_response": NOW + timedelta(hours=3)}, paused=False, now=NOW)
    assert badge == SlaBadge("next reply due in 3 h", "ok")


def test_a_paused_ticket_says_it_waits_on_the_customer() -> None:
    badge = sla_badge({"resolution": None}, paused=True, now=NOW)
    assert badge == SlaBadge("waiting on the customer (clock paused)", "paused")


def test_no_running_target_shows_nothing() -> None:
    assert sla_badge({"resolution": None}, paused=False, now=NOW) == SlaBadge("", "")


def test_a_tie_names_the_first_reply_before_resolution() -> None:
    due = NOW + timedelta(minutes=10)
    badge = sla_badge({"resolution": due, "first_response": due}, paused=False, now=NOW)
    assert badge.text == "first reply due in 10 min"
