"""The SLA clock from a ticket's history: pauses, priority changes, responses and breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticket_app.sla.calendar import ALWAYS_OPEN, BusinessCalendar
from ticket_app.sla.clock import (
    Breach,
    ClockState,
    CustomerMessaged,
    SlaTargets,
    StaffReplied,
    StatusChanged,
    Target,
    TargetsChanged,
    TicketHistory,
    compute_sla_state,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar.office_hours(
    "Europe/Berlin", [("09:00", "12:00"), ("13:00", "17:00")], holiday_country="DE"
)
TARGETS = SlaTargets(first_response_minutes=60, next_response_minutes=120, resolution_minutes=480)
MONDAY = datetime(2026, 12, 7, 9, tzinfo=BERLIN)  # 09:00, the office opens


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in the week of 2026-12-07 (Monday) in Berlin."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def state(events, now, targets=TARGETS, created=MONDAY, calendar=OFFICE, **options):
    history = TicketHistory(created_at=created, targets=targets, events=tuple(events))
    return compute_sla_state(history, calendar, now, **options)


def test_lunch_break_and_weekend_are_skipped() -> None:
    friday = at(11, 11)
    result = state([], now=friday, created=friday, targets=SlaTargets(resolution_minutes=360))
    # Friday 11-12 and 13-17 are 300 minutes; the last 60 are Monday 09-10.
    assert result.resolution_due_at == at(14, 10)
    assert result.resolution.state is ClockState.RUNNING
    monday_morning = state(
        [], now=at(14, 9, 30), created=friday, targets=SlaTargets(resolution_minutes=360)
    )
    assert monday_morning.resolution.spent_minutes == 330
    assert monday_morning.resolution.remaining_minutes == 30


def test_pending_clock_stops_and_resumes_where_it_stopped() -> None:
    targets = SlaTargets(resolution_minutes=480)
    unpaused = state([], now=at(7, 10), targets=targets)
    pending_from, open_again = at(7, 10), at(8, 11)
    events = [StatusChanged(pending_from, "pending"), StatusChanged(open_again, "open")]

    while_pending = [
        state(events[:1], now=moment, targets=targets) for moment in (at(7, 15), at(8, 10))
    ]
    for paused in while_pending:
        assert paused.paused
        assert paused.resolution.state is ClockState.PAUSED
        assert paused.resolution_due_at is None
        assert paused.resolution.spent_minutes == 60
        assert paused.resolution.remaining_minutes == 420

    resumed = state(events, now=at(8, 11, 30), targets=targets)
    paused_minutes = OFFICE.business_minutes_between(pending_from, open_again)
    assert paused_minutes == 120 + 240 + 120
    assert resumed.resolution.spent_minutes == 90
    assert resumed.resolution_due_at == OFFICE.add_business_minutes(
        unpaused.resolution_due_at, paused_minutes
    )
    assert resumed.resolution_due_at == OFFICE.add_business_minutes(open_again, 420)


def test_priority_change_keeps_spent_and_paused_time() -> None:
    events = [
        StatusChanged(at(7, 10), "pending"),  # 60 minutes spent
        StatusChanged(at(8, 11), "open"),
        TargetsChanged(at(8, 11, 30), SlaTargets(resolution_minutes=240)),  # 30 more spent
    ]
    result = state(events, now=at(8, 11, 30), targets=SlaTargets(resolution_minutes=960))
    # 90 spent, 150 remain from 11:30: 30 before lunch, 120 after it.
    assert result.resolution_due_at == at(8, 15)
    assert result.resolution.spent_minutes == 90
    assert result.resolution.remaining_minutes == 150
    assert result.resolution.target_minutes == 240
    # Not from the opening ignoring the pause, nor the full new target from the change.
    assert result.resolution_due_at != OFFICE.add_business_minutes(MONDAY, 240)
    assert result.resolution_due_at != OFFICE.add_business_minutes(at(8, 11, 30), 240)


def test_priority_change_while_paused_applies_when_the_clock_resumes() -> None:
    events = [
        StatusChanged(at(7, 10), "pending"),
        TargetsChanged(at(7, 15), SlaTargets(resolution_minutes=120)),
    ]
    paused = state(events, now=at(7, 16), targets=SlaTargets(resolution_minutes=960))
    assert paused.resolution.state is ClockState.PAUSED
    assert paused.resolution.remaining_minutes == 60
    resumed = state(
        [*events, StatusChanged(at(8, 9), "open")],
        now=at(8, 9),
        targets=SlaTargets(resolution_minutes=960),
    )
    assert resumed.resolution_due_at == at(8, 10)


def test_a_stricter_target_than_the_time_spent_is_breached_where_the_time_ran_out() -> None:
    events = [TargetsChanged(at(7, 14), SlaTargets(resolution_minutes=60))]
    result = state(events, now=at(7, 14), targets=SlaTargets(resolution_minutes=960))
    assert result.resolution_due_at == at(7, 10)
    assert result.resolution_breached_at == at(7, 10)
    assert result.breaches == (Breach(Target.RESOLUTION, at(7, 10), 60),)


def test_a_target_change_after_resolution_keeps_the_verdict() -> None:
    events = [
        StatusChanged(at(7, 11), "resolved"),
        TargetsChanged(at(7, 14), SlaTargets(resolution_minutes=30)),
    ]
    result = state(events, now=at(7, 15), targets=SlaTargets(resolution_minutes=480))
    assert result.resolution.state is ClockState.MET
    assert result.resolution.target_minutes == 480
    assert result.breaches == ()


def test_first_response_target_is_never_overruled_by_next_response() -> None:
    targets = SlaTargets(first_response_minutes=240, next_response_minutes=30)
    before_reply = state(
        [CustomerMessaged(at(7, 9, 10)), CustomerMessaged(at(7, 10))],
        now=at(7, 11),
        targets=targets,
    )
    assert before_reply.first_response_due_at == at(7, 14)
    assert before_reply.next_response.state is ClockState.NOT_STARTED
    assert before_reply.next_response_due_at is None
    assert before_reply.nearest_due_at == at(7, 14)
    assert before_reply.breaches == ()

    after_reply = state(
        [CustomerMessaged(at(7, 10)), StaffReplied(at(7, 11)), CustomerMessaged(at(7, 14))],
        now=at(7, 14),
        targets=targets,
    )
    assert after_reply.first_response.state is ClockState.MET
    assert after_reply.next_response_due_at == at(7, 14, 30)
    assert after_reply.next_response.started_at == at(7, 14)


def test_customer_message_on_pending_ticket_restarts_the_clock() -> None:
    events = [
        StaffReplied(at(7, 9, 30)),
        StatusChanged(at(7, 9, 30), "pending"),
        CustomerMessaged(at(8, 11)),
        StatusChanged(at(8, 11), "open"),
    ]
    while_pending = state(events[:2], now=at(8, 10, 59))
    assert while_pending.paused
    assert while_pending.next_response.state is ClockState.NOT_STARTED

    result = state(events, now=at(8, 11))
    assert not result.paused
    assert result.resolution.state is ClockState.RUNNING
    assert result.resolution.spent_minutes == 30
    assert result.resolution_due_at == OFFICE.add_business_minutes(at(8, 11), 450)
    assert result.next_response.state is ClockState.RUNNING
    assert result.next_response.started_at == at(8, 11)
    assert result.next_response_due_at == at(8, 14)  # 11-12, lunch, 13-14


def test_the_first_response_is_the_first_public_reply_by_staff() -> None:
    internal_only = state([StaffReplied(at(7, 9, 20), public=False)], now=at(7, 9, 30))
    assert internal_only.first_response.state is ClockState.RUNNING
    assert internal_only.first_response_due_at == at(7, 10)

    replied = state(
        [StaffReplied(at(7, 9, 20), public=False), StaffReplied(at(7, 9, 40))], now=at(7, 11)
    )
    assert replied.first_response.state is ClockState.MET
    assert replied.first_response.spent_minutes == 40
    assert replied.first_response_due_at is None
    assert replied.first_response_breached_at is None


def test_pending_does_not_pause_the_first_response() -> None:
    result = state([StatusChanged(at(7, 9, 10), "pending")], now=at(7, 9, 30))
    assert result.first_response.state is ClockState.RUNNING
    assert result.first_response_due_at == at(7, 10)
    assert result.resolution.state is ClockState.PAUSED


def test_a_late_first_response_is_missed_and_breached_once() -> None:
    overdue = state([], now=at(7, 11))
    assert overdue.first_response.state is ClockState.RUNNING
    assert overdue.first_response_due_at == at(7, 10)
    assert overdue.first_response_breached_at == at(7, 10)
    assert overdue.first_response.remaining_minutes == -60

    late = state([StaffReplied(at(7, 11))], now=at(7, 15))
    assert late.first_response.state is ClockState.MISSED
    assert late.first_response_due_at is None
    assert late.breaches == (Breach(Target.FIRST_RESPONSE, at(7, 10), 60),)


def test_a_reply_exactly_at_the_due_instant_meets_the_target() -> None:
    result = state([StaffReplied(at(7, 10))], now=at(7, 11))
    assert result.first_response.state is ClockState.MET
    assert result.breaches == ()


def test_no_breach_before_the_due_instant() -> None:
    result = state([], now=at(7, 9, 59))
    assert result.first_response_breached_at is None
    assert result.breaches == ()


def test_each_late_next_response_cycle_is_its_own_breach() -> None:
    targets = SlaTargets(next_response_minutes=30)
    events = [
        StaffReplied(at(7, 9, 5)),
        CustomerMessaged(at(7, 10)),
        CustomerMessaged(at(7, 10, 20)),  # the cycle runs from the first unanswered message
        StaffReplied(at(7, 11)),
        CustomerMessaged(at(7, 14)),
    ]
    result = state(events, now=at(7, 15), targets=targets)
    assert result.breaches == (
        Breach(Target.NEXT_RESPONSE, at(7, 10, 30), 30),
        Breach(Target.NEXT_RESPONSE, at(7, 14, 30), 30),
    )
    assert result.next_response.started_at == at(7, 14)
    assert result.next_response_breached_at == at(7, 14, 30)
    assert result.first_response.state is ClockState.NO_TARGET


def test_resolving_stops_the_resolution_clock_and_reopening_resumes_it() -> None:
    resolved = state([StatusChanged(at(7, 11), "resolved")], now=at(8, 12))
    assert resolved.resolution.state is ClockState.MET
    assert resolved.resolution_due_at is None
    assert not resolved.paused

    reopened = state(
        [StatusChanged(at(7, 11), "resolved"), StatusChanged(at(8, 9), "open")], now=at(8, 9)
    )
    assert reopened.resolution.spent_minutes == 120
    assert reopened.resolution_due_at == OFFICE.add_business_minutes(at(8, 9), 360)


def test_resolved_may_pause_instead_of_meeting() -> None:
    result = state([StatusChanged(at(7, 11), "resolved")], now=at(8, 12), resolved_pauses=True)
    assert result.paused
    assert result.resolution.state is ClockState.PAUSED
    assert result.resolution.remaining_minutes == 360


def test_closing_without_a_reply_stops_the_first_response_clock() -> None:
    result = state([StatusChanged(at(7, 9, 30), "closed")], now=at(9, 12))
    assert result.first_response.state is ClockState.MET
    assert result.resolution.state is ClockState.MET
    assert result.nearest_due_at is None
    assert result.breaches == ()


def test_the_warning_falls_at_the_configured_share_of_the_target() -> None:
    result = state([], now=at(7, 9, 5))
    assert result.first_response.warning_at == at(7, 9, 48)
    assert result.nearest_warning_at == at(7, 9, 48)
    # 80 % of 480 minutes is 384: 180 before lunch, 204 after it.
    assert result.resolution.warning_at == at(7, 16, 24)
    half = state([], now=at(7, 9, 5), warning_fraction=0.5)
    assert half.first_response.warning_at == at(7, 9, 30)
    paused = state([StaffReplied(at(7, 9, 10)), StatusChanged(at(7, 9, 10), "pending")], at(7, 10))
    assert paused.resolution.warning_at is None
    assert paused.nearest_warning_at is None
    with pytest.raises(ValueError, match=r"^warning_fraction:"):
        state([], now=at(7, 9), warning_fraction=0)


def test_due_instants_do_not_depend_on_now() -> None:
    events = [StaffReplied(at(7, 9, 30)), CustomerMessaged(at(7, 11))]
    early, late = state(events, now=at(7, 11)), state(events, now=at(9, 16))
    assert early.next_response_due_at == late.next_response_due_at == at(7, 14)
    assert early.resolution_due_at == late.resolution_due_at
    assert early.next_response_breached_at is None
    assert late.next_response_breached_at == at(7, 14)


def test_events_are_taken_in_time_order() -> None:
    events = [StatusChanged(at(8, 9), "open"), StatusChanged(at(7, 10), "pending")]
    assert state(events, now=at(8, 10)).resolution.spent_minutes == 120


def test_the_default_calendar_counts_every_minute() -> None:
    created = datetime(2026, 12, 5, 22, tzinfo=UTC)  # Saturday night
    result = state([], now=created, created=created, calendar=ALWAYS_OPEN)
    assert result.first_response_due_at == created + timedelta(minutes=60)
    assert result.resolution_due_at == created + timedelta(minutes=480)


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (TicketHistory(datetime(2026, 12, 7), TARGETS), "created_at"),
        (TicketHistory(MONDAY, TARGETS, status="waiting"), "status"),
        (TicketHistory(MONDAY, TARGETS, (StatusChanged(at(7, 10), "done"),)), "events.0.status"),
        (TicketHistory(MONDAY, TARGETS, (CustomerMessaged(at(6, 10)),)), "events.0.at"),
    ],
)
def test_invalid_histories_are_refused_naming_the_field(
    history: TicketHistory, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}:"):
        compute_sla_state(history, OFFICE, at(9, 10))


@pytest.mark.parametrize("minutes", [0, -5, float("nan"), float("inf"), True])
def test_targets_must_be_positive_minutes(minutes: float) -> None:
    with pytest.raises(ValueError, match=r"^resolution_minutes:"):
        SlaTargets(resolution_minutes=minutes)


# Any pending interval that starts before the unpaused due instant moves it by exactly the
# business time paused.
week = st.integers(0, 5 * 24 * 60).map(lambda minutes: MONDAY + timedelta(minutes=minutes))


@settings(max_examples=100, deadline=None)
@given(week, st.integers(1, 3 * 24 * 60), st.integers(30, 3000))
def test_any_pause_moves_the_due_time_by_exactly_the_paused_business_time(
    pending_from: datetime, pending_minutes: int, target: int
) -> None:
    targets = SlaTargets(resolution_minutes=target)
    open_again = pending_from + timedelta(minutes=pending_minutes)
    unpaused = state([], now=MONDAY, targets=targets).resolution_due_at
    paused = state(
        [StatusChanged(pending_from, "pending"), StatusChanged(open_again, "open")],
        now=open_again,
        targets=targets,
    )
    if OFFICE.business_minutes_between(MONDAY, pending_from) > target:
        assert paused.resolution_breached_at == unpaused
        return
    moved = OFFICE.add_business_minutes(
        unpaused, OFFICE.business_minutes_between(pending_from, open_again)
    )
    due = paused.resolution_due_at
    # Equal in business time (a closing instant and the next opening are the same there).
    assert OFFICE.business_minutes_between(min(due, moved), max(due, moved)) < 1e-6


@settings(max_examples=100, deadline=None)
@given(week, st.integers(1, 3 * 24 * 60), week, st.integers(30, 3000), st.integers(30, 3000))
def test_any_priority_change_judges_the_clock_as_if_the_new_target_had_always_applied(
    pending_from: datetime, pending_minutes: int, changed_at: datetime, old: int, new: int
) -> None:
    open_again = pending_from + timedelta(minutes=pending_minutes)
    pause = [StatusChanged(pending_from, "pending"), StatusChanged(open_again, "open")]
    now = max(open_again, changed_at)
    changed = state(
        [*pause, TargetsChanged(changed_at, SlaTargets(resolution_minutes=new))],
        now=now,
        targets=SlaTargets(resolution_minutes=old),
    )
    always = state(pause, now=now, targets=SlaTargets(resolution_minutes=new))
    assert changed.resolution == always.resolution
