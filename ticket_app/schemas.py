"""Validated shapes that cross layer boundaries.

What the REST API and the UI hand to the service layer, and what it hands back.

They mirror the database constraints (which stay the final word) so that bad input is refused
with a message naming the field before any SQL runs.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
    field_validator,
)

from ticket_app.models import (
    TITLE_MAX_LENGTH,
    ActorKind,
    Category,
    EventKind,
    Priority,
    Role,
    Status,
)
from ticket_app.settings import get_settings


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _description_length(value: str) -> str:
    limit = get_settings().max_description_chars
    if len(value) > limit:
        raise ValueError(f"must be at most {limit} characters")
    return value


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH),
    AfterValidator(_not_blank),
]
Description = Annotated[str, AfterValidator(_not_blank), AfterValidator(_description_length)]


class TicketCreate(BaseModel):
    """A new ticket. Omitted `category`/`priority` are filled in by the classifier."""

    model_config = ConfigDict(extra="forbid")

    title: Title = Field(description=f"1 to {TITLE_MAX_LENGTH} characters, not blank.")
    description: Description = Field(description="Not blank.")
    category: Category | None = Field(
        default=None, description="Omit to let the classifier choose."
    )
    priority: Priority | None = Field(
        default=None, description="Omit to let the classifier choose."
    )
    status: Status = Field(default=Status.OPEN)


class TicketUpdate(BaseModel):
    """A partial update: only the fields present are changed; none of them may be null."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    category: Category | None = None
    priority: Priority | None = None
    status: Status | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class TicketFilters(BaseModel):
    r"""Filters shared by the ticket list, the stats and the export; all combine with AND.

    `search` is a case-insensitive substring match on title or description in which `%`, `_`
    and `\` are ordinary characters; empty or whitespace-only means no search.
    """

    category: Category | None = None
    priority: Priority | None = None
    status: Status | None = None
    search: str | None = None

    def normalized_search(self) -> str | None:
        """The search term without surrounding whitespace, or None if there is nothing to match."""
        if self.search is None:
            return None
        term = self.search.strip()
        return term or None


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

    @field_serializer("created_at", "updated_at", when_used="json")
    def _utc_with_offset(self, value: datetime) -> str:
        """ISO 8601 with an explicit `+00:00` offset (what every ISO parser reads back)."""
        return value.astimezone(timezone.utc).isoformat()


class TicketPage(BaseModel):
    """One page of a filtered, newest-first ticket list.

    `next_cursor` is an opaque string for the following page, or None on the last page;
    `total` counts every ticket that matches the filters, across all pages.
    """

    items: list[TicketRead]
    total: int
    next_cursor: str | None


class TicketStats(BaseModel):
    """Aggregates over the tickets matching a filter.

    `avg_tickets_per_day` = matching tickets / number of UTC calendar days from the day of the
    earliest matching ticket through today (both included), rounded to 2 decimals; 0.0 when
    nothing matches. Days without tickets count, so it is a true arrival rate for the period.
    """

    total_tickets: int
    open_tickets: int
    avg_tickets_per_day: float
    priority_breakdown: dict[Priority, int]
    category_breakdown: dict[Category, int]


class TriageOverrideStats(BaseModel):
    """How often staff changed what the classifier suggested.

    `suggested` counts tickets that kept a suggestion; `overridden` those whose category or
    priority now differs from it; `override_rate` = overridden / suggested (0.0 when none).
    """

    suggested: int
    overridden: int
    override_rate: float


def _iso_utc(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value is not None else None


class UserRead(BaseModel):
    """A staff user as the console, the CLI and the API show it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @field_serializer("created_at", "last_login_at", when_used="json")
    def _utc(self, value: datetime | None) -> str | None:
        return _iso_utc(value)


class MeRead(BaseModel):
    """`GET /api/me/`: the user behind the session or token."""

    id: int
    email: str
    name: str
    role: Role


class TokenRead(BaseModel):
    """An API token's metadata; the secret itself is shown once, at creation, and never again."""

    id: int
    user_id: int
    user_email: str
    name: str
    prefix: str = Field(description="First characters of the token, to recognise it.")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @field_serializer("created_at", "expires_at", "last_used_at", "revoked_at", when_used="json")
    def _utc(self, value: datetime | None) -> str | None:
        return _iso_utc(value)


class NewToken(BaseModel):
    """A token just created: `token` is the secret, shown only in this answer."""

    token: str
    info: TokenRead


class EventRead(BaseModel):
    """One audit event: who did what to a ticket, and when.

    `actor_kind` is user, token, intake, import or system; `actor` is the user's email (for a
    token: the owner's email and the token's name) or the process name.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int | None
    actor_kind: ActorKind
    actor_user_id: int | None
    actor: str = Field(validation_alias="actor_label")
    kind: EventKind
    field: str | None
    old_value: str | None
    new_value: str | None
    created_at: datetime

    @field_serializer("created_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return _iso_utc(value)


class EventPage(BaseModel):
    """Events oldest first; `next_cursor` continues after the last one, None at the end."""

    items: list[EventRead]
    next_cursor: str | None
