"""Business calendars: adding and measuring business time, daylight saving, holidays, validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticket_app.sla.calendar import (
    ALWAYS_OPEN,
    BusinessCalendar,
    CalendarError,
    OpeningInterval,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

BERLIN_OFFICE = BusinessCalendar.office_hours(
    "Europe/Berlin", [("09:00", "12:00"), ("13:00", "17:00")], holiday_country="DE"
)
NEW_YORK_OFFICE = BusinessCalendar.office_hours(
    "America/New_York", [("08:30", "12:00"), ("12:45", "18:00")], holiday_country="US"
)
# Open every night across the hours the clocks change, and till midnight: the hard cases.
BERLIN_NIGHTS = BusinessCalendar.office_hours(
    "Europe/Berlin", [("00:00", "01:30"), ("02:30", "03:30"), ("22:00", "24:00")], range(7)
)
NEW_YORK_NIGHTS = BusinessCalendar.office_hours(
    "America/New_York", [("01:00", "02:00"), ("02:15", "02:45"), ("23:00", "24:00")], range(7)
)
BERLIN_ALWAYS = BusinessCalendar.office_hours("Europe/Berlin", [("00:00", "24:00")], range(7))
CALENDARS = [
    ALWAYS_OPEN,
    BERLIN_OFFICE,
    NEW_YORK_OFFICE,
    BERLIN_NIGHTS,
    NEW_YORK_NIGHTS,
    BERLIN_ALWAYS,
]
DST_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # Berlin: 02:00 CET -> 03:00 CEST
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # Berlin: 03:00 CEST -> 02:00 CET
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York: 02:00 EST -> 03:00 EDT
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York: 02:00 EDT -> 01:00 EST
]

calendars = st.sampled_from(CALENDARS)
# Instants near a daylight-saving change (within four days), or anywhere in 2026 and 2027.
near_changes = st.builds(
    lambda change, seconds: change + timedelta(seconds=seconds),
    st.sampled_from(DST_CHANGES),
    st.integers(-4 * 86400, 4 * 86400),
)
anywhere = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
instants = st.one_of(near_changes, anywhere)
minutes = st.one_of(
    st.integers(0, 3 * 24 * 60),
    st.floats(0, 200_000, allow_nan=False, allow_infinity=False),
)
PROPERTY = settings(max_examples=150, deadline=None)


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def new_york(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)


@PROPERTY
@given(calendars, instants, minutes)
def test_adding_then_measuring_business_time_round_trips(
    calendar: BusinessCalendar, start: datetime, amount: float
) -> None:
    due = calendar.add_business_minutes(start, amount)
    assert due.tzinfo is UTC
    assert calendar.business_minutes_between(start, due) == pytest.approx(amount, abs=1e-6)


@PROPERTY
@given(calendars, instants, minutes)
def test_results_never_land_outside_opening_hours(
    calendar: BusinessCalendar, start: datetime, amount: float
) -> None:
    due = calendar.add_business_minutes(start, amount)
    at_a_closing_instant = due.microsecond == 0 and calendar.is_open(
        due - timedelta(microseconds=1)
    )
    assert calendar.is_open(due) or at_a_closing_instant


@PROPERTY
@given(calendars, instants, minutes, minutes)
def test_adding_is_monotonic_in_minutes(
    calendar: BusinessCalendar, start: datetime, one: float, other: float
) -> None:
    fewer, more = sorted((one, other))
    assert calendar.add_business_minutes(start, fewer) <= calendar.add_business_minutes(start, more)


@PROPERTY
@given(calendars, instants, instants, instants)
def test_measuring_adds_up_over_consecutive_spans(
    calendar: BusinessCalendar, one: datetime, two: datetime, three: datetime
) -> None:
    first, middle, last = sorted((one, two, three))
    whole = calendar.business_minutes_between(first, last)
    parts = calendar.business_minutes_between(first, middle) + calendar.business_minutes_between(
        middle, last
    )
    assert whole == pytest.approx(parts, abs=1e-6)
    assert calendar.business_minutes_between(last, first) == 0


def _open_by_the_wall_clock(calendar: BusinessCalendar, instant: datetime) -> bool:
    """The reference: is the local wall-clock time inside one of the day's intervals?"""
    local = instant.astimezone(ZoneInfo(calendar.time_zone))
    minute = local.hour * 60 + local.minute
    return not calendar.is_closed_on(local.date()) and any(
        interval.start_minute <= minute < interval.end_minute
        for interval in calendar.weekly_hours[local.weekday()]
    )


@settings(max_examples=60, deadline=None)
@given(calendars, instants.map(lambda instant: instant.replace(second=0, microsecond=0)))
def test_measuring_agrees_with_counting_minute_by_minute(
    calendar: BusinessCalendar, start: datetime
) -> None:
    minutes = [start + timedelta(minutes=step) for step in range(2 * 1440)]
    counted = sum(_open_by_the_wall_clock(calendar, minute) for minute in minutes)
    assert calendar.business_minutes_between(start, minutes[-1] + timedelta(minutes=1)) == counted
    assert all(
        calendar.is_open(minute) == _open_by_the_wall_clock(calendar, minute)
        for minute in minutes[::7]
    )


@PROPERTY
@given(calendars, instants)
def test_next_opening_is_open_and_nothing_before_it_is(
    calendar: BusinessCalendar, instant: datetime
) -> None:
    opening = calendar.next_opening(instant)
    assert opening >= instant
    assert calendar.is_open(opening)
    assert calendar.business_minutes_between(instant, opening) == 0
    assert calendar.add_business_minutes(instant, 0) == opening


def test_the_default_calendar_is_open_around_the_clock() -> None:
    start = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)  # a Saturday night
    assert BusinessCalendar() == ALWAYS_OPEN
    assert ALWAYS_OPEN.is_open(start)
    assert ALWAYS_OPEN.add_business_minutes(start, 90) == start + timedelta(minutes=90)
    assert ALWAYS_OPEN.business_minutes_between(start, start + timedelta(days=30)) == 30 * 1440


def test_lunch_break_and_weekend_are_skipped() -> None:
    friday = berlin(2026, 12, 4, 11, 30)
    assert BERLIN_OFFICE.add_business_minutes(friday, 30) == berlin(2026, 12, 4, 12)
    assert BERLIN_OFFICE.add_business_minutes(friday, 31) == berlin(2026, 12, 4, 13, 1)
    # 30 minutes before lunch and 240 after it close Friday; the rest is Monday morning.
    assert BERLIN_OFFICE.add_business_minutes(friday, 300) == berlin(2026, 12, 7, 9, 30)
    assert BERLIN_OFFICE.business_minutes_between(friday, berlin(2026, 12, 7, 9, 30)) == 300
    assert not BERLIN_OFFICE.is_open(berlin(2026, 12, 4, 12, 30))
    assert not BERLIN_OFFICE.is_open(berlin(2026, 12, 5, 10))


def test_a_result_exactly_at_closing_time_is_the_closing_instant() -> None:
    friday = berlin(2026, 12, 4, 16)
    assert BERLIN_OFFICE.add_business_minutes(friday, 60) == berlin(2026, 12, 4, 17)
    assert not BERLIN_OFFICE.is_open(berlin(2026, 12, 4, 17))
    assert BERLIN_OFFICE.is_open(berlin(2026, 12, 4, 9))


def test_counting_starts_at_the_next_opening_outside_hours() -> None:
    saturday = berlin(2026, 12, 5, 10)
    assert BERLIN_OFFICE.next_opening(saturday) == berlin(2026, 12, 7, 9)
    assert BERLIN_OFFICE.add_business_minutes(saturday, 15) == berlin(2026, 12, 7, 9, 15)


def test_large_minute_counts_skip_whole_weeks() -> None:
    monday = berlin(2026, 1, 5, 9)
    # Seven business hours a day; a year of them lands in the next year, on a working day.
    due = BERLIN_OFFICE.add_business_minutes(monday, 250 * 7 * 60)
    assert due.astimezone(BERLIN).weekday() < 5
    assert BERLIN_OFFICE.business_minutes_between(monday, due) == pytest.approx(250 * 7 * 60)


@PROPERTY
@given(st.dates(date(2026, 1, 1), date(2027, 12, 31)), st.integers(1, 400))
def test_whole_business_days_end_at_a_closing_time(day: date, days: int) -> None:
    midnight = datetime(day.year, day.month, day.day, tzinfo=BERLIN)
    due = BERLIN_OFFICE.add_business_minutes(midnight, days * 7 * 60).astimezone(BERLIN)
    assert (due.hour, due.minute) == (17, 0)
    assert not BERLIN_OFFICE.is_closed_on(due.date())
    assert due.weekday() < 5


def test_time_running_out_with_a_whole_week_still_ends_at_a_closing_instant() -> None:
    wednesday_midnight = berlin(2026, 1, 14)
    # Wednesday and Thursday, then exactly one week of 35 hours from Friday on.
    due = BERLIN_OFFICE.add_business_minutes(wednesday_midnight, 2 * 420 + 5 * 420)
    assert due == berlin(2026, 1, 22, 17)


@pytest.mark.parametrize(
    ("calendar", "day", "zone", "expected"),
    [
        (BERLIN_ALWAYS, date(2026, 3, 29), BERLIN, 23 * 60),
        (BERLIN_ALWAYS, date(2026, 10, 25), BERLIN, 25 * 60),
        (BERLIN_ALWAYS, date(2026, 3, 30), BERLIN, 24 * 60),
        # 00:00-01:30 and 22:00-24:00 as usual; 02:30-03:30 starts when the clocks jump to 03:00.
        (BERLIN_NIGHTS, date(2026, 3, 29), BERLIN, 90 + 30 + 120),
        # 02:30-03:30 is open 02:30-03:00 summer time and again 02:30-03:30 winter time.
        (BERLIN_NIGHTS, date(2026, 10, 25), BERLIN, 90 + (30 + 60) + 120),
        # 01:00-02:00 as usual; 02:15-02:45 does not exist that day.
        (NEW_YORK_NIGHTS, date(2026, 3, 8), NEW_YORK, 60 + 0 + 60),
        # 01:00 EDT to 02:00 EST is two hours; 02:15-02:45 (EST) once.
        (NEW_YORK_NIGHTS, date(2026, 11, 1), NEW_YORK, 120 + 30 + 60),
    ],
)
def test_a_days_opening_hours_last_as_long_as_the_clock_really_takes(
    calendar: BusinessCalendar, day: date, zone: ZoneInfo, expected: int
) -> None:
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    assert calendar.business_minutes_between(midnight, next_midnight) == expected


def test_an_opening_inside_the_skipped_hour_starts_when_the_clocks_jump() -> None:
    before = berlin(2026, 3, 29, 1, 45)
    assert BERLIN_NIGHTS.next_opening(before) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert BERLIN_NIGHTS.next_opening(before) == berlin(2026, 3, 29, 3)


def test_an_opening_inside_the_repeated_hour_opens_at_both_occurrences() -> None:
    before = berlin(2026, 10, 25, 1, 45)
    # 02:30 CEST is 00:30 UTC; the clocks go back at 01:00 UTC and read 02:30 again at 01:30.
    assert BERLIN_NIGHTS.next_opening(before) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert not BERLIN_NIGHTS.is_open(datetime(2026, 10, 25, 1, 15, tzinfo=UTC))
    assert BERLIN_NIGHTS.next_opening(datetime(2026, 10, 25, 1, tzinfo=UTC)) == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("calendar", "start", "expected"),
    [
        # Friday 16:00 CET plus two hours is Monday 10:00 CEST: the same wall-clock time.
        (BERLIN_OFFICE, berlin(2026, 3, 27, 16), datetime(2026, 3, 30, 8, tzinfo=UTC)),
        (BERLIN_OFFICE, berlin(2026, 10, 23, 16), datetime(2026, 10, 26, 9, tzinfo=UTC)),
        (NEW_YORK_OFFICE, new_york(2026, 3, 6, 17), datetime(2026, 3, 9, 13, 30, tzinfo=UTC)),
        (NEW_YORK_OFFICE, new_york(2026, 10, 30, 17), datetime(2026, 11, 2, 14, 30, tzinfo=UTC)),
    ],
)
def test_due_times_over_a_daylight_saving_weekend_keep_the_wall_clock(
    calendar: BusinessCalendar, start: datetime, expected: datetime
) -> None:
    assert calendar.add_business_minutes(start, 120) == expected
    assert calendar.business_minutes_between(start, expected) == 120


def test_german_public_holidays_are_skipped() -> None:
    christmas_eve = berlin(2026, 12, 24, 16)  # a Thursday; the 25th is a holiday, then a weekend
    assert not BERLIN_OFFICE.is_open(berlin(2026, 12, 25, 10))
    assert BERLIN_OFFICE.add_business_minutes(christmas_eve, 120) == berlin(2026, 12, 28, 10)
    without_holidays = BusinessCalendar.office_hours("Europe/Berlin", [("09:00", "17:00")])
    assert without_holidays.is_open(berlin(2026, 12, 25, 10))


def test_a_subdivisions_holidays_apply_only_there() -> None:
    bavaria = BusinessCalendar.office_hours(
        "Europe/Berlin", [("09:00", "17:00")], holiday_country="DE", holiday_subdivision="BY"
    )
    berlin_state = BusinessCalendar.office_hours(
        "Europe/Berlin", [("09:00", "17:00")], holiday_country="DE", holiday_subdivision="BE"
    )
    epiphany = berlin(2026, 1, 6, 10)  # a Tuesday
    assert not bavaria.is_open(epiphany)
    assert berlin_state.is_open(epiphany)


def test_the_admins_own_closed_dates_are_skipped() -> None:
    calendar = BusinessCalendar.office_hours(
        "Europe/Berlin",
        [("09:00", "12:00"), ("13:00", "17:00")],
        holiday_country="DE",
        closed_dates=[date(2026, 12, 28)],
    )
    christmas_eve = berlin(2026, 12, 24, 16)
    assert not calendar.is_open(berlin(2026, 12, 28, 10))
    assert calendar.add_business_minutes(christmas_eve, 120) == berlin(2026, 12, 29, 10)


def test_the_json_shape_round_trips() -> None:
    calendar = BusinessCalendar.office_hours(
        "Europe/Berlin",
        [("09:00", "12:00"), ("13:00", "24:00")],
        holiday_country="DE",
        holiday_subdivision="BY",
        closed_dates=[date(2026, 12, 24)],
    )
    data = calendar.to_dict()
    assert data["weekly_hours"]["monday"] == [["09:00", "12:00"], ["13:00", "24:00"]]
    assert data["weekly_hours"]["sunday"] == []
    assert data["closed_dates"] == ["2026-12-24"]
    assert BusinessCalendar.from_dict(data) == calendar
    assert BusinessCalendar.from_dict({}) == ALWAYS_OPEN


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"weekly_hours": {"monday": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "weekly_hours"),
        ({"weekly_hours": {"monday": [["12:00", "09:00"]]}}, "weekly_hours.monday.0"),
        ({"weekly_hours": {"monday": [["09:00", "09:00"]]}}, "weekly_hours.monday.0"),
        ({"weekly_hours": {"tuesday": [["09:00", "25:00"]]}}, "weekly_hours.tuesday.0"),
        ({"weekly_hours": {"monday": [["9", "12:00"]]}}, "weekly_hours.monday.0"),
        ({"weekly_hours": {"funday": []}}, "weekly_hours.funday"),
        ({"weekly_hours": {}}, "weekly_hours"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "DE", "holiday_subdivision": "XX"}, "holiday_subdivision"),
        ({"holiday_subdivision": "BY"}, "holiday_subdivision"),
        ({"closed_dates": ["2026-02-30"]}, "closed_dates.0"),
        ({"opening": []}, "opening"),
    ],
)
def test_invalid_dataraise_an_error_naming_the_field(data: dict, field: str) -> None:
    with pytest.raises(CalendarError) as raised:
        BusinessCalendar.from_dict(data)
    assert raised.value.field.startswith(field)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(raised.value.field)


def test_overlapping_intervals_name_their_day() -> None:
    overlapping = (OpeningInterval.parse("09:00", "12:00"), OpeningInterval.parse("11:00", "13:00"))
    with pytest.raises(CalendarError, match=r"weekly_hours\.wednesday: intervals 09:00-12:00"):
        BusinessCalendar(weekly_hours=((), (), overlapping, (), (), (), ()))


def test_a_calendar_without_any_opening_hours_is_invalid() -> None:
    with pytest.raises(CalendarError, match="weekly_hours: the calendar has no opening hours"):
        BusinessCalendar(weekly_hours=((),) * 7)


def test_touching_intervals_are_one_opening() -> None:
    calendar = BusinessCalendar.office_hours("UTC", [("09:00", "12:00"), ("12:00", "13:00")])
    monday = datetime(2026, 12, 7, 11, tzinfo=UTC)
    assert calendar.is_open(monday.replace(hour=12))
    assert calendar.add_business_minutes(monday, 90) == monday.replace(hour=12, minute=30)


def test_naive_instants_and_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ALWAYS_OPEN.add_business_minutes(datetime(2026, 12, 7), 5)
    with pytest.raises(ValueError, match="minutes"):
        ALWAYS_OPEN.add_business_minutes(datetime(2026, 12, 7, tzinfo=UTC), -1)
    with pytest.raises(ValueError, match="aware"):
        ALWAYS_OPEN.is_open(datetime(2026, 12, 7))
