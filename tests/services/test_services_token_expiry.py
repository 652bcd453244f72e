"""A token's expiry in words, as the token lists show it (issue 25, item 18: a 90-day token
made a moment ago said "in 89 days")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ticket_app.services.identity.tokens import expires_in

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(days=90) - timedelta(seconds=3), "in 90 days"),  # created a moment ago
        (timedelta(days=90), "in 90 days"),
        (timedelta(days=89, hours=13), "in 90 days"),
        (timedelta(days=89, hours=11), "in 89 days"),
        (timedelta(days=30) - timedelta(minutes=5), "in 30 days"),
        (timedelta(hours=30), "in 1 day"),
        (timedelta(hours=11), "within a day"),
        (timedelta(seconds=1), "within a day"),
        (timedelta(0), "expired"),
        (-timedelta(days=3), "expired"),
    ],
)
def test_expiry_in_whole_days_rounded_to_the_nearest(left: timedelta, words: str) -> None:
    assert expires_in(NOW + left, now=NOW) == words


def test_no_expiry_is_never() -> None:
    assert expires_in(None) == "never"
