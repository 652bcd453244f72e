"""Service-level shapes: business calendars and SLA policies, as the API reads and writes them.

The database and `ticket_app.sla.calendar.BusinessCalendar` stay the final word: a time zone,
holiday code or opening interval these shapes let through but the calendar refuses is a 422
naming the field (`weekly_hours.monday.0`, `holiday_country`, ...).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from ticket_app.enums import Category, Priority
from ticket_app.models import MAX_TARGET_MINUTES
from ticket_app.schemas.fields import NameText, RowId, iso_utc

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")]
TargetMinutes = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_TARGET_MINUTES,
        description="Business minutes of the policy's calendar; null: no such target.",
    ),
]
_ALWAYS = [("00:00", "24:00")]


class SlaCalendarWrite(BaseModel):
    """A business calendar as an admin sets it (the whole calendar: what is left out resets).

    `weekly_hours`: opening intervals per day in local wall-clock time, `[["09:00", "12:00"],
    ["13:00", "17:00"]]` for a lunch break; a day left out or `[]` is closed; `24:00` ends a
    day. `holiday_country`/`holiday_subdivision`: ISO codes of the `holidays` library (`DE`,
    `BY`): those public holidays are closed. `closed_dates`: the team's own closed days.
    """

    model_config = ConfigDict(extra="forbid")

    name: NameText
    time_zone: str = Field(
        default="UTC", min_length=1, max_length=64, description="IANA time zone (Europe/Berlin)."
    )
    weekly_hours: dict[Weekday, list[tuple[ClockTime, ClockTime]]] = Field(
        default_factory=lambda: {day: _ALWAYS for day in Weekday.__args__}
    )
    holiday_country: str | None = Field(default=None, min_length=2, max_length=8)
    holiday_subdivision: str | None = Field(default=None, min_length=1, max_length=16)
    closed_dates: list[date] = Field(default_factory=list, max_length=3660)


class SlaCalendarRead(BaseModel):
    """A stored business calendar; its policies' due times are counted in its opening hours."""

    id: int
    name: str
    time_zone: str
    weekly_hours: dict[Weekday, list[tuple[str, str]]]
    holiday_country: str | None
    holiday_subdivision: str | None
    closed_dates: list[date]
    created_at: datetime = Field(json_schema_extra={"format": "date-time"})
    updated_at: datetime = Field(json_schema_extra={"format": "date-time"})

    @field_serializer("created_at", "updated_at", when_used="json")
    def _utc_with_offset(self, value: datetime) -> str | None:
        """ISO 8601 with an explicit `+00:00` offset."""
        return iso_utc(value)


class SlaPolicyWrite(BaseModel):
    """A policy's settings as an admin sets them (the whole policy: what is left out resets).

    Targets are business minutes of the calendar `calendar_id`; null means no such target. A
    disabled policy sets no targets. Changing a policy recomputes its open tickets' due times
    (keeping business time already spent) within a minute.
    """

    model_config = ConfigDict(extra="forbid")

    name: NameText
    calendar_id: RowId = Field(description="The calendar counting business time.")
    first_response_minutes: TargetMinutes | None = None
    next_response_minutes: TargetMinutes | None = None
    resolution_minutes: TargetMinutes | None = None
    enabled: bool = True


class SlaPolicyCreate(SlaPolicyWrite):
    """A category-specific policy: it wins over the priority's default for that category."""

    priority: Priority
    category: Category


class SlaRecheckRead(BaseModel):
    """An edit still being applied to open tickets by the background check.

    The tickets are the unclosed ones matching every scope field set (`priority`, `category`;
    `calendar_id`: those of the policies counting in that calendar; none set: all). Those with
    an id above `after_id` are still to be recomputed; the check works in id order.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    reason: str = Field(description="The edit, e.g. `policy 2 changed`.")
    priority: Priority | None
    category: Category | None
    calendar_id: int | None
    after_id: int = Field(description="The last ticket id recomputed so far (0: none yet).")
    requested_at: datetime = Field(json_schema_extra={"format": "date-time"})

    @field_serializer("requested_at", when_used="json")
    def _utc_with_offset(self, value: datetime) -> str | None:
        """ISO 8601 with an explicit `+00:00` offset."""
        return iso_utc(value)


class SlaPolicyRead(BaseModel):
    """A stored policy. `category` null: the priority's default policy (never deleted)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    priority: Priority
    category: Category | None
    calendar_id: int
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    enabled: bool
    created_at: datetime = Field(json_schema_extra={"format": "date-time"})
    updated_at: datetime = Field(json_schema_extra={"format": "date-time"})

    @field_serializer("created_at", "updated_at", when_used="json")
    def _utc_with_offset(self, value: datetime) -> str | None:
        """ISO 8601 with an explicit `+00:00` offset."""
        return iso_utc(value)
