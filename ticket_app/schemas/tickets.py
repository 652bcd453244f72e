"""A ticket as it is created, changed, read and listed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from ticket_app.enums import Category, Priority, Status
from ticket_app.models import EXTERNAL_ID_MAX_LENGTH, NAME_MAX_LENGTH, TITLE_MAX_LENGTH
from ticket_app.schemas.fields import (
    ASSIGNEE_ID_RULE,
    TEXT_RULES,
    Description,
    ExternalId,
    NameText,
    RequesterEmail,
    RowId,
    Title,
    iso_utc,
    never_null,
)
from ticket_app.schemas.tags import TAG_RULES, TagSet


class TicketCreate(BaseModel):
    """A new ticket. Omitted `category`/`priority` are filled in by the classifier.

    `external_id` is the ticket's id in another system (as the importer stores it); a second
    ticket with the same one is refused (the API answers 409 naming the existing ticket).
    """

    model_config = ConfigDict(extra="forbid")

    title: Title = Field(
        description=f"1 to {TITLE_MAX_LENGTH} characters as sent, stored without surrounding "
        f"whitespace; not blank. {TEXT_RULES}"
    )
    description: Description = Field(
        description=f"Not blank; at most MAX_DESCRIPTION_CHARS characters. {TEXT_RULES}"
    )
    category: Category | None = Field(
        default=None, description="Omit (or null) to let the classifier choose."
    )
    priority: Priority | None = Field(
        default=None, description="Omit (or null) to let the classifier choose."
    )
    status: Status = Field(default=Status.OPEN)
    external_id: ExternalId | None = Field(
        default=None,
        description=f"Id in the system the ticket comes from, 1 to {EXTERNAL_ID_MAX_LENGTH} "
        "characters (surrounding whitespace is removed), or null for none; unique: a second "
        "create with the same one is a 409 naming the existing ticket.",
    )
    requester_name: NameText | None = Field(
        default=None, description=f"Who asked: 1 to {NAME_MAX_LENGTH} characters, or null."
    )
    requester_email: RequesterEmail | None = Field(
        default=None, description="The requester's email address, or null."
    )
    assignee_id: RowId | None = Field(
        default=None,
        description=f"{ASSIGNEE_ID_RULE}; null: unassigned. Needs the right to edit tickets.",
    )
    tags: TagSet = Field(
        default_factory=list,
        description=f"Free-form tags, each kept once, at most 20. {TAG_RULES} Needs the right "
        "to edit tickets.",
    )


class TicketUpdate(BaseModel):
    """A partial update: only the fields present are changed.

    Title, description, category, priority and status may not be null (the schema lists them
    as non-null and optional: absent means unchanged); `assignee_id`, `requester_name` and
    `requester_email` may be null, which unassigns or clears them.
    """

    model_config = ConfigDict(extra="forbid")

    title: Title | None = Field(
        default=None,
        description=f"1 to {TITLE_MAX_LENGTH} characters, not blank. {TEXT_RULES}",
        json_schema_extra=never_null,
    )
    description: Description | None = Field(
        default=None,
        description=f"Not blank; at most MAX_DESCRIPTION_CHARS characters. {TEXT_RULES}",
        json_schema_extra=never_null,
    )
    category: Category | None = Field(default=None, json_schema_extra=never_null)
    priority: Priority | None = Field(default=None, json_schema_extra=never_null)
    status: Status | None = Field(default=None, json_schema_extra=never_null)
    assignee_id: RowId | None = Field(
        default=None, description=f"{ASSIGNEE_ID_RULE}; null: unassign."
    )
    requester_name: NameText | None = Field(
        default=None, description=f"1 to {NAME_MAX_LENGTH} characters; null: clear."
    )
    requester_email: RequesterEmail | None = Field(
        default=None, description="An email address; null: clear."
    )
    tags: TagSet | None = Field(
        default=None,
        description=f"The ticket's whole set of tags (replaces it; `[]` removes every tag); null "
        f"or absent: unchanged. At most 20. {TAG_RULES}",
    )

    @field_validator("title", "description", "category", "priority", "status", mode="before")
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class TicketRead(BaseModel):
    """A stored ticket as the API returns it; timestamps are ISO 8601 in UTC with an offset."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    category: Category
    priority: Priority
    status: Status
    suggested_category: Category | None
    suggested_priority: Priority | None
    external_id: str | None = Field(
        default=None, description="Id in the system a ticket was imported from, if any."
    )
    created_by: int | None = Field(
        default=None, description="Id of the staff user who created it (null: intake, import)."
    )
    created_at: datetime = Field(json_schema_extra={"format": "date-time"})
    updated_at: datetime = Field(json_schema_extra={"format": "date-time"})
    assignee_id: int | None = Field(
        default=None, description="Id of the staff user who owns it; null: unassigned."
    )
    requester_name: str | None = Field(default=None, description="Who asked, if known.")
    requester_email: str | None = Field(default=None, description="The requester's email.")
    requester_id: int | None = Field(
        default=None,
        description="The requester's record, with their other tickets at "
        "`/api/requesters/{id}/`; null without a requester address.",
    )
    first_public_reply_at: datetime | None = Field(
        default=None,
        description="When staff first replied publicly; null until then.",
        json_schema_extra={"format": "date-time"},
    )
    suggestion_source: Literal["gemini", "offline"] | None = Field(
        default=None, description="Which engine made the stored suggestion (null: none asked)."
    )
    suggested_category_confidence: float | None = Field(
        default=None, ge=0, le=1, description="The suggestion's confidence in its category."
    )
    suggested_priority_confidence: float | None = Field(
        default=None, ge=0, le=1, description="The suggestion's confidence in its priority."
    )
    suggested_title: str | None = Field(
        default=None, description="The title the classifier proposed (at most 80 characters)."
    )
    language: str | None = Field(
        default=None,
        description="ISO 639-1 code of the ticket's language as detected at creation (`en`, "
        "`de`, `fr`, `es`, `it`, `nl`, `pt`); null: too short to tell.",
    )
    sentiment: Literal["negative", "neutral", "positive"] | None = Field(
        default=None, description="The customer's tone at creation (null: not read)."
    )
    sentiment_score: float | None = Field(
        default=None, ge=-1, le=1, description="Sentiment from -1 (angry) to 1 (pleased)."
    )
    frustrated: bool = Field(
        default=False,
        description="Repeat contact, a threat to cancel, or shouting was found at creation.",
    )
    duplicate_of_id: int | None = Field(
        default=None,
        description="The ticket this one was merged into as a duplicate (it is closed then).",
    )

    sla_policy_id: int | None = Field(
        default=None,
        description="The service-level policy whose targets apply (`/api/sla/policies/`); null: "
        "none (no due times).",
    )
    first_response_due_at: datetime | None = Field(
        default=None,
        description="When the first public reply is due, while that clock runs (in the past when "
        "overdue); null when answered, stopped or without a target.",
        json_schema_extra={"format": "date-time"},
    )
    next_response_due_at: datetime | None = Field(
        default=None,
        description="When the answer to the customer's latest message is due, while that clock "
        "runs; null otherwise.",
        json_schema_extra={"format": "date-time"},
    )
    resolution_due_at: datetime | None = Field(
        default=None,
        description="When resolution is due, while that clock runs; null when resolved, paused "
        "(pending) or without a target.",
        json_schema_extra={"format": "date-time"},
    )
    first_response_breached_at: datetime | None = Field(
        default=None,
        description="When the first-response target ran out without a reply; null if it has not.",
        json_schema_extra={"format": "date-time"},
    )
    next_response_breached_at: datetime | None = Field(
        default=None,
        description="When the latest next-response target ran out without a reply; null if it has "
        "not.",
        json_schema_extra={"format": "date-time"},
    )
    resolution_breached_at: datetime | None = Field(
        default=None,
        description="When the resolution target ran out; null if it has not.",
        json_schema_extra={"format": "date-time"},
    )
    sla_due_at: datetime | None = Field(
        default=None,
        description="The nearest due instant of the running service-level clocks; null: none "
        "running.",
        json_schema_extra={"format": "date-time"},
    )
    sla_breached_at: datetime | None = Field(
        default=None,
        description="The earliest breach of a clock still running or paused (the ticket is late "
        "now); null: none.",
        json_schema_extra={"format": "date-time"},
    )
    sla_paused: bool = Field(
        default=False,
        description="The resolution and next-response clocks are paused (the ticket is pending).",
    )
    tags: list[str] = Field(
        default_factory=list, description="The ticket's tags, sorted (lower case)."
    )

    @field_serializer(
        "created_at",
        "updated_at",
        "first_public_reply_at",
        "first_response_due_at",
        "next_response_due_at",
        "resolution_due_at",
        "first_response_breached_at",
        "next_response_breached_at",
        "resolution_breached_at",
        "sla_due_at",
        "sla_breached_at",
        when_used="json",
    )
    def _utc_with_offset(self, value: datetime | None) -> str | None:
        """ISO 8601 with an explicit `+00:00` offset (what every ISO parser reads back)."""
        return iso_utc(value)


class TicketPage(BaseModel):
    """One page of a filtered, sorted ticket list.

    `next_cursor` is an opaque string for the following page, or None on the last page;
    `total` counts every ticket that matches the filters, across all pages, when `total_exact`;
    otherwise it is an estimate of at least `Settings.count_cap` (see `services.counts`).
    `close_matches` is true when the search's words matched nothing and the items are close
    matches instead (sorted by relevance only; one page, no cursor).
    """

    items: list[TicketRead]
    total: int
    next_cursor: str | None
    total_exact: bool = True
    close_matches: bool = False
