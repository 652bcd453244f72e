"""The /service-levels page without a browser: its words, its forms read back, its handlers.

The handlers run inside a whole state tree on the `db` fixture's database (both dialects):
an admin edits a policy and a calendar, each change lands with its audit event; a refusal
names the field and changes nothing; agents and viewers read the targets but cannot edit.
"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.ui.test_mail_states import _drain, _drain_any, _sent, _tab
from tests.ui.test_states import _session_cookie
from ticket_app.enums import EventKind
from ticket_app.models import TicketEvent
from ticket_app.schemas import SlaCalendarRead
from ticket_app.services import sla_check, sla_policies
from ticket_app.services.database import service_session
from ticket_app.ui.logic.sla_policies import (
    FormRefusedError,
    calendar_form_values,
    calendar_write,
    hours_text,
    parse_hours,
    policy_write,
    target_text,
)
from ticket_app.ui.state.sla import NEW, ServiceLevelsState


def test_targets_read_as_durations() -> None:
    assert [target_text(minutes) for minutes in (60, 480, 2880, 90, None)] == [
        "1 h",
        "8 h",
        "2 d",
        "1 h 30 min",
        "No target",
    ]


def test_opening_hours_round_trip_through_the_typed_text() -> None:
    assert parse_hours("9:00-12:00, 13:00 – 17:30") == [("09:00", "12:00"), ("13:00", "17:30")]
    assert parse_hours("closed") == parse_hours("  ") == []
    assert hours_text(parse_hours("00:00-24:00")) == "00:00-24:00"
    assert hours_text([]) == "closed"
    with pytest.raises(ValueError, match="not a time range"):
        parse_hours("9 to 5")


def test_a_calendar_saved_unchanged_stays_the_same() -> None:
    stored = SlaCalendarRead(
        id=3,
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours={
            "monday": [("09:00", "12:00"), ("13:00", "17:00")],
            "friday": [("09:00", "15:00")],
        },
        holiday_country="DE",
        holiday_subdivision="BY",
        closed_dates=["2026-12-24", "2026-12-31"],
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
    )
    written = calendar_write(calendar_form_values(stored))
    assert written.weekly_hours["monday"] == [("09:00", "12:00"), ("13:00", "17:00")]
    assert written.weekly_hours["tuesday"] == []
    assert (written.holiday_country, written.holiday_subdivision) == ("DE", "BY")
    assert [day.isoformat() for day in written.closed_dates] == ["2026-12-24", "2026-12-31"]


def test_the_forms_name_each_refused_field() -> None:
    form = {**calendar_form_values(None), "name": "Office", "wednesday": "9-5"}
    form["closed_dates"] = "2026-02-30"
    with pytest.raises(FormRefusedError) as refused:
        calendar_write(form)
    assert set(refused.value.errors) == {"wednesday", "closed_dates"}
    assert "not a time range" in refused.value.errors["wednesday"]

    with pytest.raises(FormRefusedError) as refused:
        policy_write({"name": "", "calendar_id": "1", "first_response_minutes": "-5"})
    assert set(refused.value.errors) == {"name", "first_response_minutes"}
    assert "whole minutes" in refused.value.errors["first_response_minutes"]

    written = policy_write(
        {"name": "Urgent", "calendar_id": "1", "first_response_minutes": "30", "enabled": "on"}
    )
    assert (written.first_response_minutes, written.resolution_minutes, written.enabled) == (
        30,
        None,
        True,
    )


def _events(kind: EventKind) -> list[TicketEvent]:
    with service_session() as session:
        return list(
            session.execute(sa.select(TicketEvent).where(TicketEvent.kind == kind)).scalars()
        )


def test_an_admin_edits_a_policy_and_a_calendar_with_audit_events(db: Engine) -> None:
    state = _tab(ServiceLevelsState, _session_cookie("admin"), "/service-levels")
    assert _drain_any(state.on_load()) == [None]
    assert state.may_edit and state.load_error == "" and state.recheck_status == ""
    critical = next(row for row in state.policies if row["priority"] == "Critical")
    assert critical["category"] == "Any (default)"
    assert critical["first_response_minutes_text"] == "1 h"

    asyncio.run(state.edit_policy(critical["id"]))
    assert state.policy_values["name"] == critical["name"]
    form = {
        "name": critical["name"],
        "calendar_id": critical["calendar_id"],
        "first_response_minutes": "0",
        "next_response_minutes": critical["next_response_minutes"],
        "resolution_minutes": critical["resolution_minutes"],
        "enabled": "on",
    }
    _drain(state.save_policy(form))
    assert "first_response_minutes" in state.policy_errors
    assert state.policy_id == critical["id"]
    assert _events(EventKind.SLA_POLICY_CHANGED) == []

    events = _sent(_drain(state.save_policy({**form, "first_response_minutes": "30"})))
    assert "saved" in events
    assert state.policy_id == "" and state.policy_errors == {}
    [stored] = [p for p in sla_policies.list_policies(actor=SYSTEM) if str(p.id) == critical["id"]]
    assert stored.first_response_minutes == 30
    shown = next(row for row in state.policies if row["id"] == critical["id"])
    assert shown["first_response_minutes_text"] == "30 min"
    [event] = _events(EventKind.SLA_POLICY_CHANGED)
    assert (event.old_value, event.new_value) == ("60", "30")
    assert event.actor_label == "admin@example.com"
    assert state.recheck_status == (
        f"Still being applied to open tickets: policy {critical['id']} changed. "
        "Their due times follow within minutes."
    )
    sla_check.check_due()
    assert _drain_any(state.on_load()) == [None]
    assert state.recheck_status == ""

    asyncio.run(state.edit_calendar(NEW))
    assert state.calendar_values["monday"] == "09:00-17:00"
    office = {
        **state.calendar_values,
        "name": "Berlin office",
        "time_zone": "Europe/Berlin",
        "monday": "09:00-12:00, 13:00-17:00",
        "holiday_country": "de",
    }
    _drain(state.save_calendar({**office, "time_zone": "Mars/Olympus"}))
    assert set(state.calendar_errors) == {"time_zone"}
    assert state.calendar_values["time_zone"] == "Mars/Olympus"
    _drain(state.save_calendar(office))
    assert state.calendar_id == "" and state.calendar_errors == {}
    saved = next(c for c in sla_policies.list_calendars(actor=SYSTEM) if c.name == "Berlin office")
    assert saved.weekly_hours["monday"] == [("09:00", "12:00"), ("13:00", "17:00")]
    assert saved.holiday_country == "DE"
    row = next(row for row in state.calendars if row["name"] == "Berlin office")
    assert row["hours"].startswith("Mon 09:00-12:00, 13:00-17:00; Tue–Fri 09:00-17:00")
    assert row["holidays"] == "Public holidays of DE"
    assert _events(EventKind.SLA_CALENDAR_CHANGED)


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_staff_read_the_targets_but_only_admins_edit(db: Engine, role: str) -> None:
    state = _tab(ServiceLevelsState, _session_cookie(role), "/service-levels")
    assert _drain_any(state.on_load()) == [None]
    assert state.policies and state.calendars and not state.may_edit
    policy = state.policies[0]
    refused = asyncio.run(state.edit_policy(policy["id"]))
    assert "does not allow" in _sent([refused])
    assert state.policy_id == ""
    state.policy_id = policy["id"]  # a crafted event cannot skip the check either
    events = _sent(_drain(state.save_policy({"name": "Hijacked", "calendar_id": "1"})))
    assert "does not allow" in events
    assert all(p.name != "Hijacked" for p in sla_policies.list_policies(actor=SYSTEM))


def test_an_anonymous_tab_is_sent_to_sign_in(db: Engine) -> None:
    state = _tab(ServiceLevelsState, "", "/service-levels")
    assert "redirect" in _sent(_drain_any(state.on_load()))
    assert state.policies == []
