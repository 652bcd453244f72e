"""The service-levels page in words: policies and calendars as rows, and the edit forms read back.

Targets are business minutes in the API; the page shows them as durations ("1 h", "8 h") and
takes them as minutes. A calendar's opening hours are typed one line per weekday as
`09:00-12:00, 13:00-17:00` (a lunch break), `closed` or empty for a closed day; this module
turns that text into the API's `weekly_hours` and back, so a calendar saved unchanged stays
the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, get_args

from pydantic import ValidationError

from ticket_app.schemas import (
    SlaCalendarRead,
    SlaCalendarWrite,
    SlaPolicyRead,
    SlaPolicyWrite,
    SlaRecheckRead,
)
from ticket_app.schemas.sla import Weekday
from ticket_app.ui.logic.form import validation_messages
from ticket_app.ui.logic.sla import duration_words
from ticket_app.ui.logic.tickets import label_of_value

WEEKDAYS: tuple[str, ...] = get_args(Weekday)
"""The API's weekday keys, Monday first."""

TARGETS = (
    ("first_response_minutes", "First reply"),
    ("next_response_minutes", "Next reply"),
    ("resolution_minutes", "Resolution"),
)
"""Each target's form field and its label, in the order the page shows them."""

CLOSED = "closed"
_INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


class FormRefusedError(ValueError):
    """The edit form's values were refused: `errors` maps each field id to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {text}" for field, text in errors.items()))
        self.errors = errors


def target_text(minutes: int | None) -> str:
    """A target in words: "1 h", "8 h", "2 d"; "No target" for None."""
    return "No target" if minutes is None else duration_words(timedelta(minutes=minutes))


def hours_text(intervals: Iterable[Iterable[str]]) -> str:
    """One day's opening intervals as typed in the form: "09:00-12:00, 13:00-17:00" or "closed"."""
    parts = [f"{start}-{end}" for start, end in intervals]
    return ", ".join(parts) if parts else CLOSED


def parse_hours(text: str) -> list[tuple[str, str]]:
    """One day's typed opening hours as the API's intervals.

    "" and "closed" are a closed day. Raises ValueError with a message for the form when an
    interval is not `HH:MM-HH:MM`.
    """
    cleaned = text.strip()
    if cleaned.lower() in ("", CLOSED):
        return []
    intervals = []
    for part in cleaned.split(","):
        match = _INTERVAL.match(part)
        if match is None:
            raise ValueError(f'"{part.strip()}" is not a time range such as 09:00-17:00')
        start, end = (value.zfill(5) for value in match.groups())
        intervals.append((start, end))
    return intervals


def _weekly_summary(weekly_hours: Mapping[str, list[tuple[str, str]]]) -> str:
    """Consecutive days with the same hours grouped: "Mon–Fri 09:00-17:00; Sat–Sun closed"."""
    groups: list[tuple[list[str], str]] = []
    for day in WEEKDAYS:
        text = hours_text(weekly_hours.get(day, []))
        if groups and groups[-1][1] == text:
            groups[-1][0].append(day)
        else:
            groups.append(([day], text))
    parts = []
    for days, text in groups:
        first, last = days[0][:3].capitalize(), days[-1][:3].capitalize()
        span = first if len(days) == 1 else f"{first}–{last}"
        parts.append(f"{span} {text}")
    return "; ".join(parts)


def calendar_rows(calendars: Iterable[SlaCalendarRead]) -> list[dict[str, str]]:
    """Calendars as the page's table shows them (all values text)."""
    rows = []
    for calendar in calendars:
        holidays = ""
        if calendar.holiday_country:
            region = calendar.holiday_country
            if calendar.holiday_subdivision:
                region += "-" + calendar.holiday_subdivision
            holidays = f"Public holidays of {region}"
        if calendar.closed_dates:
            count = len(calendar.closed_dates)
            own = f"{count} closed day" + ("" if count == 1 else "s")
            holidays = f"{holidays}; {own}" if holidays else own
        rows.append(
            {
                "id": str(calendar.id),
                "name": calendar.name,
                "time_zone": calendar.time_zone,
                "hours": _weekly_summary(calendar.weekly_hours),
                "holidays": holidays or "None",
            }
        )
    return rows


def policy_rows(
    policies: Iterable[SlaPolicyRead], calendars: Iterable[SlaCalendarRead]
) -> list[dict[str, str]]:
    """Policies as the page's table shows them: targets in words, the calendar by name."""
    names = {calendar.id: calendar.name for calendar in calendars}
    rows = []
    for policy in policies:
        row = {
            "id": str(policy.id),
            "name": policy.name,
            "priority": label_of_value(policy.priority.value),
            "category": (
                label_of_value(policy.category.value)
                if policy.category is not None
                else "Any (default)"
            ),
            "calendar": names.get(policy.calendar_id, f"#{policy.calendar_id}"),
            "calendar_id": str(policy.calendar_id),
            "enabled": "yes" if policy.enabled else "no",
        }
        for field, _ in TARGETS:
            minutes = getattr(policy, field)
            row[field] = "" if minutes is None else str(minutes)
            row[field + "_text"] = target_text(minutes)
        rows.append(row)
    return rows


def _minutes(raw: Any) -> int | str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


def policy_write(form: Mapping[str, Any]) -> SlaPolicyWrite:
    """The policy form's values (`name`, `calendar_id`, the three targets, `enabled` "on").

    An empty target means no such target. Raises FormRefusedError naming each refused field.
    """
    values: dict[str, Any] = {
        "name": str(form.get("name", "")).strip(),
        "calendar_id": _minutes(form.get("calendar_id")),
        "enabled": form.get("enabled") in ("on", True, "true"),
    }
    for field, _ in TARGETS:
        values[field] = _minutes(form.get(field))
    try:
        return SlaPolicyWrite.model_validate(values)
    except ValidationError as error:
        messages = validation_messages(error)
        for field, _ in TARGETS:
            if field in messages:
                messages[field] = "Enter whole minutes from 1 to 525600, or leave it empty."
        raise FormRefusedError(messages) from None


def calendar_form_values(calendar: SlaCalendarRead | None) -> dict[str, str]:
    """The calendar form's starting values: the calendar's, or a new office-hours calendar."""
    if calendar is None:
        office = "09:00-17:00"
        return {
            "name": "",
            "time_zone": "UTC",
            **{day: office if day not in ("saturday", "sunday") else CLOSED for day in WEEKDAYS},
            "holiday_country": "",
            "holiday_subdivision": "",
            "closed_dates": "",
        }
    return {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        **{day: hours_text(calendar.weekly_hours.get(day, [])) for day in WEEKDAYS},
        "holiday_country": calendar.holiday_country or "",
        "holiday_subdivision": calendar.holiday_subdivision or "",
        "closed_dates": "\n".join(day.isoformat() for day in calendar.closed_dates),
    }


def _closed_dates(text: str) -> list[date]:
    dates = []
    for part in re.split(r"[\s,]+", text.strip()):
        if not part:
            continue
        try:
            dates.append(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f'"{part}" is not a date such as 2026-12-24') from None
    return dates


def calendar_write(form: Mapping[str, Any]) -> SlaCalendarWrite:
    """The calendar form's values as the API's calendar (one hours line per weekday).

    Raises FormRefusedError naming each refused field: a weekday (`monday`), `closed_dates`,
    `name`, `time_zone`, `holiday_country`, `holiday_subdivision`.
    """
    errors: dict[str, str] = {}
    weekly_hours: dict[str, list[tuple[str, str]]] = {}
    for day in WEEKDAYS:
        try:
            weekly_hours[day] = parse_hours(str(form.get(day, "")))
        except ValueError as error:
            errors[day] = str(error).capitalize() + "."
    try:
        closed_dates = _closed_dates(str(form.get("closed_dates", "")))
    except ValueError as error:
        errors["closed_dates"] = str(error).capitalize() + "."
        closed_dates = []
    if errors:
        raise FormRefusedError(errors)
    values = {
        "name": str(form.get("name", "")).strip(),
        "time_zone": str(form.get("time_zone", "")).strip(),
        "weekly_hours": weekly_hours,
        "holiday_country": str(form.get("holiday_country", "")).strip().upper() or None,
        "holiday_subdivision": str(form.get("holiday_subdivision", "")).strip().upper() or None,
        "closed_dates": closed_dates,
    }
    try:
        return SlaCalendarWrite.model_validate(values)
    except ValidationError as error:
        raise FormRefusedError(refused_fields(error)) from None


def refused_fields(error: ValidationError) -> dict[str, str]:
    """A calendar's refusals keyed by form field: `weekly_hours.monday.0` becomes `monday`."""
    messages: dict[str, str] = {}
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        field = form_field(".".join(location))
        message = item["msg"].removeprefix("Value error, ")
        messages.setdefault(field, message[:1].upper() + message[1:])
    return messages


def form_field(api_field: str) -> str:
    """The form field an API field name points at (`weekly_hours.monday.0` -> `monday`)."""
    parts = api_field.split(".")
    if parts[0] == "weekly_hours" and len(parts) > 1 and parts[1] in WEEKDAYS:
        return parts[1]
    return parts[0] or "form"


def recheck_status(rechecks: Iterable[SlaRecheckRead]) -> str:
    """What the page says while edits are still reaching open tickets ("" when none is).

    E.g. "Still being applied to open tickets: policy 2 changed. Their due times follow
    within minutes."
    """
    reasons = [recheck.reason for recheck in rechecks]
    if not reasons:
        return ""
    return (
        f"Still being applied to open tickets: {', '.join(reasons)}. "
        "Their due times follow within minutes."
    )
