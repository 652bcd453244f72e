"""The SLA report's shapes: compliance per target and priority, business-hour times, breaches.

`services.sla_report` computes a `SlaReport` for the tickets matching the list's filters; the
API answers it at `GET /api/sla/report/` and the dashboard shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_serializer

from ticket_app.enums import Priority
from ticket_app.schemas.fields import iso_utc

SlaTargetName = Literal["first_response", "next_response", "resolution"]
SLA_TARGETS: tuple[SlaTargetName, ...] = ("first_response", "next_response", "resolution")


class SlaCompliance(BaseModel):
    """One target's compliance over the matching tickets of one priority (or all of them).

    First response and resolution count tickets whose current policy sets that target:
    `breached` when the target ran out (recorded, or its due instant has passed), else `met`
    when the clock stopped in time (first response: the first public staff reply; resolution:
    resolved or closed), else `on_time` while the ticket is open and its clock within the
    target. A ticket resolved or closed without any public reply and within its first-response
    target counts in no first-response figure. Next response counts reply cycles (a customer
    message awaiting an answer): `met` answered in time, `breached` ran out, `on_time` running
    now within the target.
    """

    target: SlaTargetName
    priority: Priority | None = Field(description="null: all priorities together.")
    met: int = Field(ge=0)
    breached: int = Field(ge=0)
    on_time: int = Field(ge=0, description="Open and on time.")
    met_percent: float | None = Field(
        ge=0,
        le=100,
        description="met / (met + breached) x 100, one decimal; null when both are 0.",
    )


class SlaDuration(BaseModel):
    """Business hours (each ticket's policy calendar; 24/7 without a policy) over tickets."""

    tickets: int = Field(ge=0, description="How many matching tickets have this time.")
    median_hours: float | None = Field(
        ge=0, description="The 50th percentile, two decimals; null without tickets."
    )
    p90_hours: float | None = Field(
        ge=0,
        description="The 90th percentile (linear interpolation, as PostgreSQL's "
        "percentile_cont), two decimals; null without tickets.",
    )


class SlaAssigneeBreaches(BaseModel):
    """Breaches on one assignee's matching tickets (next response: reply cycles)."""

    assignee_id: int | None = Field(description="null: unassigned tickets.")
    name: str
    first_response: int = Field(ge=0)
    next_response: int = Field(ge=0)
    resolution: int = Field(ge=0)
    total: int = Field(ge=0)


class SlaReport(BaseModel):
    """Service-level compliance over the tickets matching the list's filters, at `as_of`."""

    as_of: datetime = Field(json_schema_extra={"format": "date-time"})
    compliance: list[SlaCompliance] = Field(
        description="Per target (first response, next response, resolution): all priorities "
        "first, then each priority, critical first."
    )
    first_response_time: SlaDuration = Field(
        description="From creation to the first public staff reply (replied tickets)."
    )
    resolution_time: SlaDuration = Field(
        description="Business time the resolution clock ran (pending time excluded), over "
        "resolved and closed tickets."
    )
    breaches_by_assignee: list[SlaAssigneeBreaches] = Field(
        description="Assignees with at least one breach, most first, then by name."
    )

    @field_serializer("as_of", when_used="json")
    def _utc_with_offset(self, value: datetime) -> str | None:
        """ISO 8601 with an explicit `+00:00` offset."""
        return iso_utc(value)
