"""Business calendars: when a team works, and business minutes counted and added in that time.

A calendar has an IANA time zone, weekly opening intervals in local wall-clock time (several a
day, so a lunch break is possible; an interval may end at 24:00), public holidays from the
`holidays` library (a country and optionally a subdivision) and the admin's own closed dates.
On a holiday or closed date the calendar is closed all day.

Conventions (the same everywhere in this module):
- Instants are aware `datetime`s; results are in UTC. A naive datetime raises `ValueError`.
- Opening hours are half-open: an interval is open from its start instant up to, not including,
  its end instant (`is_open` at a closing instant is False unless another interval starts there).
- `add_business_minutes` returns the instant the given business time has elapsed. When the time
  runs out exactly at a closing instant, the result is that closing instant (not the next
  opening): a result is always inside an opening interval or at the end of one.
- Opening hours are wall-clock times: an instant is inside an interval when the local clock
  reads a time within it on that date. So on a spring-forward day an interval spanning the
  skipped hour is an hour shorter and one inside it does not exist that day (Europe/Berlin
  02:30-03:30 on 2026-03-29 opens when the clocks jump to 03:00); on a fall-back day the
  repeated wall-clock times count twice, so an interval covering the repeated hour is an hour
  longer (02:30-03:30 on 2026-10-25 is open 02:30-03:00 summer time, then 02:30-03:30 winter
  time: 90 minutes in two pieces). An instant belongs to the local date its clock shows; a
  date's first instant is the first at which the clock reads 00:00 or later. (This assumes the
  local date never steps back, which holds for every zone today: where clocks fall back at
  midnight, they do so from 24:00 to 23:00.)
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from ticket_app.sla.hours import (
    ALL_DAY,
    WEEKDAY_NAMES,
    CalendarError,
    OpeningInterval,
    validated_dates,
    validated_week,
    week_from_json,
)

# A walk that meets this many consecutive days without opening hours gives up (a calendar whose
# closed dates cover every opening day for ten years is a mistake, not a calendar).
_MAX_CLOSED_DAYS = 3660
# Per-day caches are dropped when they grow past this many days (about 27 years).
_MAX_CACHED_DAYS = 10_000
# Days per block of cumulative opening seconds (whole blocks are skipped in one step).
_BLOCK_DAYS = 32
_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works, and business-time arithmetic in those hours.

    Fields:
    - `time_zone`: IANA name (`Europe/Berlin`); the opening hours are wall-clock times there.
    - `weekly_hours`: seven tuples of `OpeningInterval`, Monday first (index = `date.weekday()`);
      any iterable of intervals per day is accepted and stored sorted. An empty day is closed.
      Intervals of a day must not overlap (one may start where the previous one ends).
    - `holiday_country`, `holiday_subdivision`: ISO codes for the `holidays` library (`DE`,
      `BY`); the country's public holidays are closed all day. None: no public holidays.
    - `closed_dates`: the admin's own local dates on which the calendar is closed all day.

    The default instance is open 24/7 in UTC (`ALWAYS_OPEN`). Invalid settings raise
    `CalendarError` (a `ValueError`) naming the field; a week without any opening hours is
    invalid. Instances are immutable and hashable; they cache per-day opening instants, so
    reuse one instance for many calls.
    """

    time_zone: str = "UTC"
    weekly_hours: tuple[tuple[OpeningInterval, ...], ...] = ((ALL_DAY,),) * 7
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _days: dict[int, tuple[tuple[float, float], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _january_offset: float = field(init=False, repr=False, compare=False)
    _starts: dict[int, float] = field(init=False, repr=False, compare=False, default_factory=dict)
    _blocks: dict[int, tuple[float, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _holidays_by_year: dict[int, frozenset[date]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone) if isinstance(self.time_zone, str) else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            raise CalendarError("time_zone", f"{self.time_zone!r} is not an IANA time zone")
        object.__setattr__(self, "_zone", zone)
        january = datetime(2026, 1, 1, tzinfo=zone).utcoffset()
        object.__setattr__(self, "_january_offset", january.total_seconds())
        object.__setattr__(self, "weekly_hours", validated_week(self.weekly_hours))
        object.__setattr__(self, "closed_dates", validated_dates(self.closed_dates))
        self._validate_holidays()

    def _validate_holidays(self) -> None:
        if self.holiday_country is None:
            if self.holiday_subdivision is not None:
                raise CalendarError("holiday_subdivision", "a subdivision needs a holiday_country")
            return
        if self.holiday_country not in holidays.list_supported_countries():
            raise CalendarError(
                "holiday_country",
                f"{self.holiday_country!r} is not a country the holidays library knows",
            )
        subdivisions = holidays.list_supported_countries()[self.holiday_country]
        if self.holiday_subdivision is not None and self.holiday_subdivision not in subdivisions:
            raise CalendarError(
                "holiday_subdivision",
                f"{self.holiday_subdivision!r} is not a subdivision of {self.holiday_country}",
            )

    # Constructors and the JSON shape

    @classmethod
    def office_hours(
        cls,
        time_zone: str,
        intervals: Sequence[tuple[str, str]],
        weekdays: Iterable[int] = range(5),
        *,
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
        closed_dates: Iterable[date] = (),
    ) -> BusinessCalendar:
        """The same `intervals` (`("09:00", "12:30")` pairs) on each of `weekdays` (0 = Monday).

        Mon-Fri by default; the other days are closed.
        """
        day = tuple(OpeningInterval.parse(start, end) for start, end in intervals)
        open_days = set(weekdays)
        return cls(
            time_zone=time_zone,
            weekly_hours=tuple(day if weekday in open_days else () for weekday in range(7)),
            holiday_country=holiday_country,
            holiday_subdivision=holiday_subdivision,
            closed_dates=frozenset(closed_dates),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """A calendar from its JSON shape (see `to_dict`); missing keys take the defaults.

        Raises `CalendarError` naming the field, e.g. `weekly_hours.monday.1` for the second
        interval on Mondays or `closed_dates.0` for the first closed date.
        """
        unknown = set(data) - {
            "time_zone",
            "weekly_hours",
            "holiday_country",
            "holiday_subdivision",
            "closed_dates",
        }
        if unknown:
            raise CalendarError(sorted(unknown)[0], "is not a calendar setting")
        hours = data.get("weekly_hours")
        week = cls.weekly_hours if hours is None else week_from_json(hours)
        dates = []
        for index, text in enumerate(data.get("closed_dates") or ()):
            try:
                dates.append(date.fromisoformat(text))
            except (TypeError, ValueError):
                raise CalendarError(
                    f"closed_dates.{index}", f"{text!r} is not a date YYYY-MM-DD"
                ) from None
        return cls(
            time_zone=data.get("time_zone", "UTC"),
            weekly_hours=week,
            holiday_country=data.get("holiday_country"),
            holiday_subdivision=data.get("holiday_subdivision"),
            closed_dates=frozenset(dates),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: time zone, weekly hours by day name, holiday codes, closed dates.

        `{"time_zone": "Europe/Berlin", "weekly_hours": {"monday": [["09:00", "12:00"],
        ["13:00", "17:00"]], ..., "sunday": []}, "holiday_country": "DE",
        "holiday_subdivision": null, "closed_dates": ["2026-12-24"]}` (dates sorted).
        """
        return {
            "time_zone": self.time_zone,
            "weekly_hours": {
                WEEKDAY_NAMES[weekday]: [
                    [interval.start_text, interval.end_text] for interval in day
                ]
                for weekday, day in enumerate(self.weekly_hours)
            },
            "holiday_country": self.holiday_country,
            "holiday_subdivision": self.holiday_subdivision,
            "closed_dates": [day.isoformat() for day in sorted(self.closed_dates)],
        }

    # Questions about instants

    def is_closed_on(self, day: date) -> bool:
        """Whether the local date `day` is a public holiday or one of the closed dates."""
        if day in self.closed_dates:
            return True
        if self.holiday_country is None:
            return False
        closed = self._holidays_by_year.get(day.year)
        if closed is None:
            closed = frozenset(
                holidays.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision, years=day.year
                )
            )
            self._holidays_by_year[day.year] = closed
        return day in closed

    def is_open(self, instant: datetime) -> bool:
        """Whether `instant` lies inside an opening interval (half-open: a closing instant is not).

        Raises `ValueError` for a naive datetime.
        """
        moment = _timestamp(instant)
        return any(
            start <= moment < end for start, end in self._segments(self._local_ordinal(moment))
        )

    def next_opening(self, instant: datetime) -> datetime:
        """`instant` itself (in UTC) when the calendar is open then, else the next opening instant.

        Raises `ValueError` for a naive datetime.
        """
        moment = _timestamp(instant)
        ordinal = self._local_ordinal(moment)
        closed_run = 0
        while True:
            segments = self._segments(ordinal)
            for start, end in segments:
                if end > moment:
                    return _datetime(max(start, moment))
            closed_run = _closed_run(closed_run, segments)
            ordinal += 1

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The UTC instant at which `minutes` of business time have elapsed after `start`.

        Outside opening hours counting begins at the next opening, so `minutes=0` gives
        `next_opening(start)`. When the time runs out exactly at a closing instant the result is
        that closing instant. Monotonic in `minutes`; `business_minutes_between(start, result)`
        equals `minutes` (up to float rounding, below a microsecond). Whole days are skipped by
        cached cumulative sums (32 days a step), so the cost barely grows with `minutes`.
        Raises `ValueError` for a naive `start` or a negative or non-finite `minutes`.
        """
        moment = _timestamp(start)
        if isinstance(minutes, bool) or not isinstance(minutes, int | float):
            raise ValueError(f"minutes: {minutes!r} must be a number")
        if not math.isfinite(minutes) or minutes < 0:
            raise ValueError(f"minutes: {minutes!r} must be a finite number >= 0")
        return _datetime(self.add_seconds_at(moment, float(minutes) * 60.0))

    def business_minutes_between(self, earlier: datetime, later: datetime) -> float:
        """Business minutes inside opening hours between two instants; 0 when `later <= earlier`.

        The whole local days between them come from cached cumulative sums, so the cost barely
        grows with the span. Raises `ValueError` for a naive datetime.
        """
        return self.seconds_between(_timestamp(earlier), _timestamp(later)) / 60.0

    # The same on POSIX seconds, unchecked, for callers doing many (the SLA clock)

    def add_seconds_at(self, moment: float, seconds: float) -> float:
        """`add_business_minutes` on POSIX seconds: the instant `seconds` (>= 0) after `moment`."""
        remaining = seconds
        ordinal = self._local_ordinal(moment)
        while True:
            for segment_start, segment_end in self._segments(ordinal):
                if segment_end <= moment:
                    continue
                begin = segment_start if segment_start > moment else moment
                available = segment_end - begin
                if remaining <= available:
                    return min(segment_end, begin + remaining)
                remaining -= available
            # The following days lie wholly after `moment`.
            ordinal, remaining = self._skip_whole_days(ordinal + 1, remaining)

    def seconds_between(self, start: float, end: float) -> float:
        """`business_minutes_between` on POSIX seconds, in business seconds (0 if end <= start)."""
        if end <= start:
            return 0.0
        first, last = self._local_ordinal(start), self._local_ordinal(end)
        seconds = self._open_before(last, end) - self._open_before(first, start)
        if last != first:
            seconds += self._whole_days(first, last)
        return seconds if seconds > 0.0 else 0.0

    # The per-day opening instants

    def _open_before(self, ordinal: int, moment: float) -> float:
        """Opening seconds of local date `ordinal` before `moment`."""
        seconds = 0.0
        for start, end in self._segments(ordinal):
            if moment <= start:
                break
            seconds += (end if end < moment else moment) - start
        return seconds

    def _block(self, block: int) -> tuple[float, ...]:
        """Cumulative opening seconds of a block's days: item i sums its first i days (cached)."""
        prefix = self._blocks.get(block)
        if prefix is None:
            sums = [0.0]
            for ordinal in range(block * _BLOCK_DAYS, (block + 1) * _BLOCK_DAYS):
                sums.append(sums[-1] + sum(end - start for start, end in self._segments(ordinal)))
            prefix = tuple(sums)
            if len(self._blocks) * _BLOCK_DAYS > _MAX_CACHED_DAYS:
                self._blocks.clear()
            self._blocks[block] = prefix
        return prefix

    def _whole_days(self, first: int, stop: int) -> float:
        """Opening seconds of the local dates `first` <= ordinal < `stop`."""
        block, index = divmod(first, _BLOCK_DAYS)
        if stop - first <= _BLOCK_DAYS - index:
            prefix = self._block(block)
            return prefix[index + stop - first] - prefix[index] if stop > first else 0.0
        seconds = 0.0
        while first < stop:
            block, index = divmod(first, _BLOCK_DAYS)
            prefix = self._block(block)
            end_index = min(_BLOCK_DAYS, index + stop - first)
            seconds += prefix[end_index] - prefix[index]
            first += end_index - index
        return seconds

    def _skip_whole_days(self, ordinal: int, remaining: float) -> tuple[int, float]:
        """The day from `ordinal` on where `remaining` opening seconds run out, and what is left.

        The days before it are skipped by their cumulative sums (what is left is what remains
        at the start of that day).

        Raises `ValueError` when no opening hours come for `_MAX_CLOSED_DAYS` days.
        """
        closed_days = 0
        while True:
            block, index = divmod(ordinal, _BLOCK_DAYS)
            prefix = self._block(block)
            needed = prefix[index] + remaining
            if needed > prefix[_BLOCK_DAYS]:
                if prefix[_BLOCK_DAYS] > prefix[index]:
                    closed_days = 0
                else:
                    closed_days += _BLOCK_DAYS - index
                if closed_days > _MAX_CLOSED_DAYS:
                    raise ValueError(
                        "closed_dates: the calendar has no opening hours for "
                        f"{_MAX_CLOSED_DAYS} days in a row"
                    )
                remaining -= prefix[_BLOCK_DAYS] - prefix[index]
                ordinal = (block + 1) * _BLOCK_DAYS
                continue
            # The first day whose cumulative sum reaches what is needed: time runs out there.
            ends_in = bisect_left(prefix, needed, index + 1) - 1
            remaining -= prefix[ends_in] - prefix[index]
            return block * _BLOCK_DAYS + ends_in, max(remaining, 0.0)

    def _local_ordinal(self, moment: float) -> int:
        """The local date (ordinal) of `moment`: the day whose first instant is the last <= it.

        Guessed from the zone's offset in January, then corrected by the cached day starts.
        """
        ordinal = _UNIX_EPOCH_ORDINAL + int((moment + self._january_offset) // 86400)
        starts = self._starts
        start = starts.get(ordinal)
        while moment < (self._day_start(ordinal) if start is None else start):
            ordinal -= 1
            start = None
        following = starts.get(ordinal + 1)
        while moment >= (self._day_start(ordinal + 1) if following is None else following):
            ordinal += 1
            following = None
        return ordinal

    def _day_start(self, ordinal: int) -> float:
        """The first instant (POSIX seconds) of the local date `ordinal` (cached)."""
        start = self._starts.get(ordinal)
        if start is None:
            start = self._first_instant(date.fromordinal(ordinal))
            if len(self._starts) > _MAX_CACHED_DAYS:
                self._starts.clear()
            self._starts[ordinal] = start
        return start

    def _segments(self, ordinal: int) -> tuple[tuple[float, float], ...]:
        """The day's opening time as POSIX seconds [start, end), in order, merged where they touch.

        Each interval is cut from the day's pieces of constant UTC offset: on a piece the wall
        clock reads `instant + offset`, so the interval's wall-clock range maps to instants.
        """
        segments = self._days.get(ordinal)
        if segments is not None:
            return segments
        day = date.fromordinal(ordinal)
        pieces: list[tuple[float, float]] = []
        if not self.is_closed_on(day):
            midnight = (ordinal - _UNIX_EPOCH_ORDINAL) * 86400.0  # the wall clock's 00:00
            for piece_start, piece_end, offset in self._offset_pieces(ordinal):
                for interval in self.weekly_hours[day.weekday()]:
                    start = max(piece_start, midnight + interval.start_minute * 60 - offset)
                    end = min(piece_end, midnight + interval.end_minute * 60 - offset)
                    if end > start:
                        pieces.append((start, end))
        merged: list[tuple[float, float]] = []
        for start, end in sorted(pieces):
            if merged and merged[-1][1] >= start:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        segments = tuple(merged)
        if len(self._days) > _MAX_CACHED_DAYS:
            self._days.clear()
        self._days[ordinal] = segments
        return segments

    def _offset_pieces(self, ordinal: int) -> list[tuple[float, float, float]]:
        """The local date's instants as pieces (start, end, UTC offset in seconds).

        One piece, or two when the offset changes that day (at most one change a day).
        """
        start, end = self._day_start(ordinal), self._day_start(ordinal + 1)
        first, last = self._offset(start), self._offset(end - 1)
        if first == last:
            return [(start, end, first)]
        change = self._change_after(start, end - 1)
        return [(start, change, first), (change, end, last)]

    def _offset(self, moment: float) -> float:
        return datetime.fromtimestamp(moment, self._zone).utcoffset().total_seconds()

    def _change_after(self, before: float, after: float) -> float:
        """The instant (whole seconds) the UTC offset changes, between `before` and `after`."""
        low, high = math.floor(before), math.ceil(after)
        offset_after = self._offset(high)
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset(middle) == offset_after:
                high = middle
            else:
                low = middle
        return float(high)

    def _first_instant(self, day: date) -> float:
        """The first instant (POSIX seconds) at which the local clock reads `day` 00:00 or later.

        Usually that midnight (its first occurrence if repeated); when midnight is skipped by a
        spring-forward change, the instant of the change.
        """
        wall = datetime.combine(day, time())
        moment = wall.replace(tzinfo=self._zone).timestamp()
        if datetime.fromtimestamp(moment, self._zone).replace(tzinfo=None) == wall:
            return moment
        # In a gap: fold=0 maps past the change, fold=1 before it.
        return self._change_after(wall.replace(tzinfo=self._zone, fold=1).timestamp(), moment)


def _closed_run(run: int, segments: tuple[tuple[float, float], ...]) -> int:
    """Consecutive days without opening hours so far; raises `ValueError` past the limit."""
    if segments:
        return 0
    if run >= _MAX_CLOSED_DAYS:
        raise ValueError(
            f"closed_dates: the calendar has no opening hours for {_MAX_CLOSED_DAYS} days in a row"
        )
    return run + 1


def _timestamp(instant: datetime) -> float:
    if not isinstance(instant, datetime) or instant.utcoffset() is None:
        raise ValueError(f"instant: {instant!r} must be an aware datetime")
    return instant.timestamp()


def _datetime(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


ALWAYS_OPEN = BusinessCalendar()
"""The default calendar: open 24/7 in UTC, no holidays."""
