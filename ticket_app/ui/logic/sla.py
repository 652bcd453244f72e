"""Service levels in words: the nearest target of a ticket as the queue and the ticket page say it.

"first reply due in 35 min", "resolution overdue by 2 h", "waiting on the customer (clock
paused)". The tone names the colour the badge gets (`overdue` red, `soon` amber, `ok` neutral,
`paused` grey); the text always says the same thing, so colour is never the only signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

TARGET_WORDS = {
    "first_response": "first reply",
    "next_response": "next reply",
    "resolution": "resolution",
}
"""How each target is named on screen, in the order a tie is broken."""

SOON = timedelta(hours=1)
"""A target due within this (wall-clock) time is shown as "soon"."""


@dataclass(frozen=True)
class SlaBadge:
    """What a ticket's service-level badge shows.

    `text` in words; `tone` one of `overdue`, `soon`, `ok`, `paused`, or empty when the ticket
    has no running target.
    """

    text: str
    tone: str


NO_BADGE = SlaBadge("", "")


def duration_words(delta: timedelta) -> str:
    """A duration as staff read it at a glance: "under 1 min", "35 min", "2 h 5 min", "3 d 4 h".

    Minutes are dropped from 10 hours on and hours from 10 days on: precision the reader does
    not need. Negative durations are measured by their size.
    """
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 1:
        return "under 1 min"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days >= 10:
        return f"{days} d"
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours >= 10 or (hours and not minutes):
        return f"{hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def sla_badge(dues: Mapping[str, datetime | None], *, paused: bool, now: datetime) -> SlaBadge:
    """The badge for the nearest running target.

    `dues` maps target names (TARGET_WORDS' keys) to their due instants (None: not running);
    `paused` says the ticket waits on the customer (its clocks stopped); `now` is aware.
    """
    running = [
        (due, TARGET_WORDS[target])
        for target, due in dues.items()
        if due is not None and target in TARGET_WORDS
    ]
    if not running:
        return SlaBadge("waiting on the customer (clock paused)", "paused") if paused else NO_BADGE
    order = list(TARGET_WORDS.values())
    due, words = min(running, key=lambda item: (item[0], order.index(item[1])))
    left = due - now
    if left <= timedelta(0):
        return SlaBadge(f"{words} overdue by {duration_words(left)}", "overdue")
    tone = "soon" if left <= SOON else "ok"
    return SlaBadge(f"{words} due in {duration_words(left)}", tone)
