"""What the SLA report stores of a ticket's clock: business minutes to the first reply and to
resolution (lunch break, night and pending time excluded), and reply cycles met or breached."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ticket_app.sla.calendar import BusinessCalendar
from ticket_app.sla.clock import (
    CustomerMessaged,
    SlaTargets,
    StaffReplied,
    StatusChanged,
    TicketHistory,
    compute_sla_state,
)
from ticket_app.sla.measures import ReportMeasures, report_measures

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar.office_hours("Europe/Berlin", [("09:00", "12:00"), ("13:00", "17:00")])
TARGETS = SlaTargets(first_response_minutes=60, next_response_minutes=120, resolution_minutes=960)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in the week of 2026-12-07 (Monday) in Berlin."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def measures(events, status: str, targets: SlaTargets = TARGETS) -> ReportMeasures:
    history = TicketHistory(created_at=at(7, 11), targets=targets, events=tuple(events))
    return report_measures(compute_sla_state(history, OFFICE, at(11, 18)), status)


def test_business_minutes_skip_lunch_night_and_pending_time() -> None:
    events = [
        StaffReplied(at(7, 13, 30)),  # 11-12 and 13-13:30: 90 minutes, first response late
        CustomerMessaged(at(7, 14)),
        StaffReplied(at(7, 15)),  # a cycle answered in 60 of 120 minutes: met
        StatusChanged(at(7, 16), "pending"),
        StatusChanged(at(8, 10), "open"),  # pending Monday 16:00 to Tuesday 10:00: not counted
        CustomerMessaged(at(8, 10)),  # never answered: its 120 minutes ran out at 12:00
        StatusChanged(at(8, 15), "resolved"),
    ]

    assert measures(events, "resolved") == ReportMeasures(
        first_response_business_minutes=90.0,
        # Monday 11-12, 13-16 (240) and Tuesday 10-12, 13-15 (240): 480 minutes
        resolution_business_minutes=480.0,
        next_responses_met=1,
        next_responses_breached=1,
    )


def test_nothing_is_stored_before_a_reply_or_while_open_and_no_target_meets_nothing() -> None:
    assert measures([], "open") == ReportMeasures(None, None, 0, 0)
    reopened = [StatusChanged(at(7, 12), "resolved"), StatusChanged(at(8, 9), "open")]
    assert measures(reopened, "open").resolution_business_minutes is None
    untargeted = [StaffReplied(at(7, 11, 30)), CustomerMessaged(at(7, 14)), StaffReplied(at(7, 15))]
    assert measures(untargeted, "open", SlaTargets()) == ReportMeasures(30.0, None, 0, 0)
