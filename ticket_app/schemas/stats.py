"""Aggregates over tickets: counts, workload and how often triage was overridden."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ticket_app.enums import Category, Priority, Status
from ticket_app.schemas.tags import TagCount


class AssigneeLoad(BaseModel):
    """How many open tickets one assignee holds (`assignee_id` null: unassigned)."""

    assignee_id: int | None
    name: str = Field(description="The staff user's name, or `Unassigned`.")
    open: int


class TicketStats(BaseModel):
    """Aggregates over the tickets matching a filter.

    `avg_tickets_per_day` = matching tickets / number of UTC calendar days from the day of the
    earliest matching ticket through today (both included), rounded to 2 decimals; 0.0 when
    nothing matches. Days without tickets count, so it is a true arrival rate for the period.
    """

    total_tickets: int
    open_tickets: int
    avg_tickets_per_day: float
    status_breakdown: dict[Status, int] = Field(
        default_factory=lambda: dict.fromkeys(Status, 0),
        description="Matching tickets per status, every status named (`pending`: waiting on "
        "the requester); `open_tickets` is its `open` entry.",
    )
    priority_breakdown: dict[Priority, int]
    category_breakdown: dict[Category, int]
    open_by_assignee: list[AssigneeLoad] = Field(
        default_factory=list,
        description="Open tickets (status open) per assignee, most first; `assignee_id` null "
        "is the unassigned ones. Only with `workload=true`.",
    )
    median_first_reply_seconds: float | None = Field(
        default=None,
        description="Median seconds from creation to the first public staff reply, over the "
        "matching tickets that have one and a requester e-mail address (a reply on a ticket "
        "without one reaches nobody); null when none has. Only with `workload=true`.",
    )
    tag_breakdown: list[TagCount] = Field(
        default_factory=list,
        description="The 20 tags most carried by the matching tickets, most first (ties by "
        "name), with how many of them carry each.",
    )


class TriageOverrideStats(BaseModel):
    """How often staff changed what the classifier suggested.

    `suggested` counts tickets that kept a suggestion; `overridden` those whose category or
    priority now differs from it; `override_rate` = overridden / suggested (0.0 when none).
    """

    suggested: int
    overridden: int
    override_rate: float
