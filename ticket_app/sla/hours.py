"""Weekly opening hours: wall-clock intervals, the calendar's errors and settings checks.

The pieces of a business calendar (`ticket_app.sla.calendar`) that need no time zone: an
interval of a weekday in minutes after local midnight, and the checks of a week of them, of
closed dates and of their JSON form. Errors name the setting (`CalendarError.field`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

MINUTES_PER_DAY = 24 * 60
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class CalendarError(ValueError):
    """A calendar's settings are invalid; `field` names the setting (e.g. `weekly_hours.monday`).

    The message starts with the field's name, so `str(error)` alone is a usable message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


def _minute_of_day(text: str, field_name: str) -> int:
    """Minutes after local midnight of a wall-clock time `HH:MM` (`24:00` = 1440)."""
    match = _CLOCK_TIME.match(text) if isinstance(text, str) else None
    minute = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    if not 0 <= minute <= MINUTES_PER_DAY:
        raise CalendarError(field_name, f"{text!r} is not a wall-clock time HH:MM (00:00-24:00)")
    return minute


def _clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, order=True)
class OpeningInterval:
    """One opening interval of a weekday in local wall-clock minutes after midnight.

    `start_minute` in 0..1439, `end_minute` in 1..1440 (1440 is 24:00, open till midnight),
    start before end. Raises `CalendarError` (field `weekly_hours`) otherwise.
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        for value in (self.start_minute, self.end_minute):
            if isinstance(value, bool) or not isinstance(value, int):
                raise CalendarError("weekly_hours", f"{value!r} is not a whole minute of the day")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise CalendarError(
                "weekly_hours",
                f"interval {self} must start before it ends, within 00:00-24:00",
            )

    @classmethod
    def parse(cls, start: str, end: str) -> OpeningInterval:
        """The interval from wall-clock texts `HH:MM` to `HH:MM` (end may be `24:00`)."""
        return cls(_minute_of_day(start, "weekly_hours"), _minute_of_day(end, "weekly_hours"))

    @property
    def start_text(self) -> str:
        """The start as `HH:MM`."""
        return _clock_text(self.start_minute)

    @property
    def end_text(self) -> str:
        """The end as `HH:MM` (`24:00` for midnight at the end of the day)."""
        return _clock_text(self.end_minute)

    def __str__(self) -> str:
        return f"{self.start_text}-{self.end_text}"


ALL_DAY = OpeningInterval(0, MINUTES_PER_DAY)


def weekly_hours_field(weekday: int) -> str:
    """The settings path of a weekday's hours, e.g. `weekly_hours.monday`."""
    return f"weekly_hours.{WEEKDAY_NAMES[weekday]}"


def validated_week(week: Any) -> tuple[tuple[OpeningInterval, ...], ...]:
    """Seven days of intervals (Monday first), each day sorted.

    Raises CalendarError when a day holds something else, two intervals overlap, or no day has
    opening hours.
    """
    if isinstance(week, str | bytes) or not isinstance(week, Sequence) or len(week) != 7:
        raise CalendarError("weekly_hours", "needs seven days of intervals, Monday first")
    days = []
    for weekday, given in enumerate(week):
        name = weekly_hours_field(weekday)
        intervals = tuple(given) if isinstance(given, Iterable) else (given,)
        if not all(isinstance(interval, OpeningInterval) for interval in intervals):
            raise CalendarError(name, "each interval must be an OpeningInterval")
        ordered = tuple(sorted(intervals))
        for previous, following in pairwise(ordered):
            if following.start_minute < previous.end_minute:
                raise CalendarError(name, f"intervals {previous} and {following} overlap")
        days.append(ordered)
    if not any(days):
        raise CalendarError("weekly_hours", "the calendar has no opening hours at all")
    return tuple(days)


def validated_dates(dates: Any) -> frozenset[date]:
    """The closed dates as a frozenset; raises CalendarError (`closed_dates`) for a non-date."""
    values = frozenset(dates)
    for value in values:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise CalendarError("closed_dates", f"{value!r} is not a date")
    return values


def week_from_json(hours: Any) -> tuple[tuple[OpeningInterval, ...], ...]:
    """The week from its JSON form `{"monday": [["09:00", "12:00"], ...], ...}`.

    Days left out are closed. Raises CalendarError naming e.g. `weekly_hours.monday.1`.
    """
    if not isinstance(hours, Mapping):
        raise CalendarError("weekly_hours", "must map day names to lists of [start, end]")
    unknown = set(hours) - set(WEEKDAY_NAMES)
    if unknown:
        raise CalendarError(f"weekly_hours.{sorted(unknown)[0]}", "is not a day name")
    week = []
    for weekday, name in enumerate(WEEKDAY_NAMES):
        intervals = []
        for index, pair in enumerate(hours.get(name) or ()):
            where = f"{weekly_hours_field(weekday)}.{index}"
            if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise CalendarError(where, f"{pair!r} is not a pair [start, end]")
            try:
                intervals.append(OpeningInterval.parse(pair[0], pair[1]))
            except CalendarError as error:
                raise CalendarError(where, error.reason) from None
        week.append(tuple(intervals))
    return tuple(week)
