"""Validated shapes that cross layer boundaries.

What the REST API and the UI hand to the service layer, and what it hands back.

They mirror the database constraints (which stay the final word) so that bad input is refused
with a message naming the field before any SQL runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ticket_app.models import (
    EMAIL_MAX_LENGTH,
    EXTERNAL_ID_MAX_LENGTH,
    MAX_ROW_ID,
    NAME_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    ActorKind,
    Category,
    CommentChannel,
    EventKind,
    Priority,
    Role,
    Status,
)
from ticket_app.settings import get_settings

# Characters that do not count as content: whitespace (Python's `str.isspace`) and the Unicode
# format characters (category Cf: zero-width space U+200B, byte-order mark U+FEFF, bidi
# controls, ...), per Unicode 14 (Python 3.11's tables; a test checks them against the running
# Python). One table serves the validators and the OpenAPI pattern, so the two always agree.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0009, 0x000D), (0x001C, 0x0020), (0x0085, 0x0085), (0x00A0, 0x00A0), (0x00AD, 0x00AD),
    (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891),
    (0x08E2, 0x08E2), (0x1680, 0x1680), (0x180E, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F),
    (0x205F, 0x2064), (0x2066, 0x206F), (0x3000, 0x3000), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
_INVISIBLE = frozenset(
    chr(code) for first, last in INVISIBLE_RANGES for code in range(first, last + 1)
)


def _class_item(first: int, last: int) -> str:
    r"""A regex character-class item for a code point range.

    BMP characters as `\uXXXX` (ECMAScript and Python read it alike); astral ones literally,
    since the two languages share no escape for them.
    """

    def char(code: int) -> str:
        return f"\\u{code:04X}" if code <= 0xFFFF else chr(code)

    return char(first) if first == last else f"{char(first)}-{char(last)}"


_INVISIBLE_CLASS = "".join(_class_item(first, last) for first, last in INVISIBLE_RANGES)
NO_NUL_PATTERN = r"^[^\u0000]*$"
"""OpenAPI pattern of free text: anything but NUL."""
CONTENT_PATTERN = rf"^[^\u0000]*[^\u0000{_INVISIBLE_CLASS}][^\u0000]*$"
"""OpenAPI pattern of required text: no NUL, and one character that is neither whitespace nor a
format character (what `_not_blank` accepts)."""


def storable_text(value: str) -> str:
    r"""Refuse what PostgreSQL cannot store in text, on every database alike.

    NUL (U+0000) and lone UTF-16 surrogates (U+D800..U+DFFF, which JSON's `\udfff` escapes can
    carry but UTF-8 cannot encode).
    """
    if "\x00" in value:
        raise ValueError("must not contain NUL characters (U+0000)")
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise ValueError("must not contain lone UTF-16 surrogates (U+D800 to U+DFFF)")
    return value


def is_blank(value: str) -> bool:
    """Whether `value` holds only whitespace and zero-width/format characters (or nothing)."""
    return all(char in _INVISIBLE for char in value)


def _not_blank(value: str) -> str:
    if is_blank(value):
        raise ValueError("must not be blank")
    return value


def _at_most(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return value

    return AfterValidator(check)


def _description_length(value: str) -> str:
    limit = get_settings().max_description_chars
    if len(value) > limit:
        raise ValueError(f"must be at most {limit} characters")
    return value


class _DescriptionLimitInSchema:
    """Puts MAX_DESCRIPTION_CHARS into the JSON schema when the schema is generated.

    The validator reads the setting on each call, so the schema reads it too rather than freezing
    the value at import.
    """

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["maxLength"] = get_settings().max_description_chars
        return schema


# Title: checked as sent (at most 200 characters, as the schema says), then stripped of
# surrounding whitespace and required to have content.
Title = Annotated[
    str,
    AfterValidator(storable_text),
    _at_most(TITLE_MAX_LENGTH),
    AfterValidator(str.strip),
    AfterValidator(_not_blank),
    Field(
        json_schema_extra={
            "minLength": 1,
            "maxLength": TITLE_MAX_LENGTH,
            "pattern": CONTENT_PATTERN,
        }
    ),
]
Description = Annotated[
    str,
    AfterValidator(storable_text),
    AfterValidator(_not_blank),
    AfterValidator(_description_length),
    Field(json_schema_extra={"minLength": 1, "pattern": CONTENT_PATTERN}),
    _DescriptionLimitInSchema(),
]
# Stripped like the importer strips it, so " ZD-1001 " and "ZD-1001" are the same ticket.
ExternalId = Annotated[
    str,
    AfterValidator(storable_text),
    _at_most(EXTERNAL_ID_MAX_LENGTH),
    AfterValidator(str.strip),
    AfterValidator(_not_blank),
    Field(
        json_schema_extra={
            "minLength": 1,
            "maxLength": EXTERNAL_ID_MAX_LENGTH,
            "pattern": CONTENT_PATTERN,
        }
    ),
]
SearchText = Annotated[str, AfterValidator(storable_text)]
# Visible ASCII but `@` on each side of one `@`, a dot in the domain: the same in Python's `re`
# and in ECMAScript (whose `\s` differs from Python's), so the schema states the rule exactly.
EMAIL_PATTERN = r"^[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+$"


def _email_address(value: str) -> str:
    if not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError("must be an email address (name@example.com)")
    return value


# RFC 3339 date-time with an offset, ASCII digits only (`\d` would take any script's digits).
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_since(value: object) -> datetime | None:
    """An RFC 3339 date-time with a UTC offset, as an aware datetime; ValueError otherwise.

    A naive time is refused rather than guessed: a sync that guessed the zone wrong would skip
    tickets. Instants beyond what Python can hold in UTC are clamped (nothing is that old or new).
    """
    if value is None:
        return None
    text = str(value)
    if not _RFC3339.fullmatch(text):
        hint = ""
        if re.fullmatch(r".*[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? [0-9]{2}:[0-9]{2}", text):
            hint = " (a + in a URL means a space: write it as %2B)"
        raise ValueError(
            "must be an RFC 3339 date-time with a UTC offset, e.g. 2026-01-31T09:00:00Z or "
            f"2026-01-31T10:00:00+01:00{hint}"
        )
    normal = text[:10] + "T" + text[11:]
    normal = normal[:-1] + "+00:00" if normal[-1] in "Zz" else normal
    try:
        moment = datetime.fromisoformat(normal)
    except ValueError as exc:
        raise ValueError(f"is not a valid date-time: {exc}") from None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.max if moment.year > 1 else datetime.min).replace(tzinfo=UTC)


# A name (of a requester, of a saved view): at most 100 characters as sent, stored without
# surrounding whitespace. A requester email: as sent, visible ASCII.
NameText = Annotated[
    str,
    AfterValidator(storable_text),
    _at_most(NAME_MAX_LENGTH),
    AfterValidator(str.strip),
    AfterValidator(_not_blank),
    Field(
        json_schema_extra={
            "minLength": 1,
            "maxLength": NAME_MAX_LENGTH,
            "pattern": CONTENT_PATTERN,
        }
    ),
]
RequesterEmail = Annotated[
    str,
    _at_most(EMAIL_MAX_LENGTH),
    AfterValidator(_email_address),
    Field(
        json_schema_extra={"minLength": 5, "maxLength": EMAIL_MAX_LENGTH, "pattern": EMAIL_PATTERN}
    ),
]


def _json_integer(value: object) -> object:
    """JSON Schema's integer: a number without a fraction (`3`, `3.0`), never text or a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("must be an integer")
    return int(value)


# Bounds before the validator, so the schema states them as `minimum`/`maximum`.
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID), BeforeValidator(_json_integer)]
Count = Annotated[int, Field(ge=0), BeforeValidator(_json_integer)]
ASSIGNEE_ID_RULE = (
    "Id of an active staff user whose role is agent or admin (anything else is a 422 naming "
    "`assignee_id`)"
)

TEXT_RULES = (
    "No NUL characters or lone UTF-16 surrogates; whitespace and zero-width/format characters "
    "(Unicode Cf, e.g. U+200B) alone count as blank."
)


def _not_null(schema: dict[str, Any]) -> None:
    """Schema of an optional field that may be absent but never null: no null, no default.

    The type stays `X | None` in Python (a plain Optional keeps pydantic's error locations
    plain, e.g. `priority`); `_present_fields_not_null` refuses an explicit null.
    """
    schema.pop("default", None)
    variants = [item for item in schema.pop("anyOf", []) if item.get("type") != "null"]
    if len(variants) == 1:
        schema.update(variants[0])
    elif variants:
        schema["anyOf"] = variants


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
        json_schema_extra=_not_null,
    )
    description: Description | None = Field(
        default=None,
        description=f"Not blank; at most MAX_DESCRIPTION_CHARS characters. {TEXT_RULES}",
        json_schema_extra=_not_null,
    )
    category: Category | None = Field(default=None, json_schema_extra=_not_null)
    priority: Priority | None = Field(default=None, json_schema_extra=_not_null)
    status: Status | None = Field(default=None, json_schema_extra=_not_null)
    assignee_id: RowId | None = Field(
        default=None, description=f"{ASSIGNEE_ID_RULE}; null: unassign."
    )
    requester_name: NameText | None = Field(
        default=None, description=f"1 to {NAME_MAX_LENGTH} characters; null: clear."
    )
    requester_email: RequesterEmail | None = Field(
        default=None, description="An email address; null: clear."
    )

    @field_validator("title", "description", "category", "priority", "status", mode="before")
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class TicketFilters(BaseModel):
    r"""Filters shared by the ticket list, the stats and the export; all combine with AND.

    `search` is a case-insensitive substring match on title or description in which `%`, `_`
    and `\` are ordinary characters; empty or whitespace-only means no search. `q` is the
    console's name for the same filter (a ticket must match both when both are given).
    `created_since` / `updated_since` keep tickets created / last changed at or after that
    moment (timezone-aware). `assignee` is "none" (unassigned) or a staff user's id in ASCII
    digits; callers turn "me" into the caller's id first (`services.tickets.resolve_assignee`).
    `language` keeps tickets detected in that ISO 639-1 language; `frustrated` keeps tickets
    whose customer was (true) or was not (false) frustrated.
    """

    category: Category | None = None
    priority: Priority | None = None
    status: Status | None = None
    search: SearchText | None = None
    q: SearchText | None = None
    created_since: datetime | None = None
    updated_since: datetime | None = None
    assignee: str | None = None

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, value: str | None) -> str | None:
        if value is None or (value != ASSIGNEE_ME and re.fullmatch(ASSIGNEE_PATTERN, value)):
            return value
        raise ValueError("must be none or a staff user's id (resolve me first)")

    language: str | None = None
    frustrated: bool | None = None

    @field_validator("created_since", "updated_since")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("must include a UTC offset (e.g. 2026-01-31T09:00:00Z)")
        return value

    def normalized_search(self) -> str | None:
        """The search term without surrounding whitespace, or None if there is nothing to match."""
        if self.search is None:
            return None
        term = self.search.strip()
        return term or None

    def search_terms(self) -> list[str]:
        """Every non-empty term of `search` and `q`, stripped, without repeats."""
        terms = [(term or "").strip() for term in (self.search, self.q)]
        return list(dict.fromkeys(term for term in terms if term))


def _iso_utc(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value is not None else None


ASSIGNEE_NONE = "none"
ASSIGNEE_ME = "me"
ASSIGNEE_PATTERN = r"^(me|none|[0-9]{1,10})$"
"""The `assignee` filter as written: `me`, `none` or a user id (one no user has matches none)."""
LANGUAGE_PATTERN = r"^[a-z]{2}$"
"""A language filter's value: an ISO 639-1 code in lower case, as tickets store it."""


def is_id_text(value: str) -> bool:
    """Whether `value` is a row id written in ASCII digits (1..MAX_ROW_ID, no sign or spaces)."""
    return (
        value.isascii()
        and value.isdigit()
        and len(value) <= len(str(MAX_ROW_ID))
        and 1 <= int(value) <= MAX_ROW_ID
    )


class TicketSort(StrEnum):
    """The orders the ticket list and the export offer; every one pages through an index.

    Ties are broken by id in the same direction, so the order is total.
    """

    NEWEST = "-created_at"
    OLDEST = "created_at"
    UPDATED = "-updated_at"
    PRIORITY = "-priority"
    STATUS = "status"


SORT_DESCRIPTION = (
    "`-created_at` newest first (default), `created_at` oldest first, `-updated_at` recently "
    "changed first, `-priority` critical first then newest, `status` open, in progress, "
    "resolved, closed (newest first within each). Any other value is a 422 naming `sort`."
)


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

    @field_serializer("created_at", "updated_at", "first_public_reply_at", when_used="json")
    def _utc_with_offset(self, value: datetime | None) -> str | None:
        """ISO 8601 with an explicit `+00:00` offset (what every ISO parser reads back)."""
        return _iso_utc(value)


class TicketPage(BaseModel):
    """One page of a filtered, sorted ticket list.

    `next_cursor` is an opaque string for the following page, or None on the last page;
    `total` counts every ticket that matches the filters, across all pages, when `total_exact`;
    otherwise it is an estimate of at least `Settings.count_cap` (see `services.counts`).
    """

    items: list[TicketRead]
    total: int
    next_cursor: str | None
    total_exact: bool = True


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
        "matching tickets that have one; null when none has. Only with `workload=true`.",
    )


class TriageOverrideStats(BaseModel):
    """How often staff changed what the classifier suggested.

    `suggested` counts tickets that kept a suggestion; `overridden` those whose category or
    priority now differs from it; `override_rate` = overridden / suggested (0.0 when none).
    """

    suggested: int
    overridden: int
    override_rate: float


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


class ErrorItem(BaseModel):
    """One problem with a request."""

    field: str = Field(
        description="The offending field: a body field (dotted when nested), a query or path "
        "parameter, or a header as named in the request (`Idempotency-Key`); `body` for the "
        "body as a whole; empty when the problem is not about one field."
    )
    message: str = Field(description="What is wrong, for people.")
    type: str = Field(description="What kind of problem, for programs (e.g. `missing`).")


class ErrorBody(BaseModel):
    """Every error answer of the API: `detail` as FastAPI writes it, `errors` one per problem."""

    detail: str | list[dict[str, Any]] = Field(
        description="A message; for invalid input, FastAPI's list of `{loc, msg, type}`."
    )
    errors: list[ErrorItem]


class ExistingTicket(BaseModel):
    """The ticket a refused create collided with."""

    id: int
    url: str = Field(description="Its path in this API (`/api/tickets/{id}/`).")


class ConflictBody(ErrorBody):
    """A create refused because a ticket with the same `external_id` exists (409)."""

    ticket: ExistingTicket


class EditConflictBody(ErrorBody):
    """A PATCH refused because its `If-Match` is stale (412): the ticket as it is now."""

    current: TicketRead = Field(description="The ticket as stored now (its `ETag` is sent too).")
    changed_by: str | None = Field(
        description="Who made the latest change to the ticket (as events' `actor`)."
    )


class CommentCreate(BaseModel):
    """A reply to the requester (`public`: true) or an internal note (false).

    The body is plain text, stored exactly as written (line breaks kept, no HTML or Markdown).
    """

    model_config = ConfigDict(extra="forbid")

    body: Description = Field(
        description=f"Plain text, not blank; at most MAX_DESCRIPTION_CHARS characters. {TEXT_RULES}"
    )
    public: bool = Field(strict=True, description="true: a public reply; false: an internal note.")


class CommentRead(BaseModel):
    """A stored comment; `author` is the author's email (for a token: with the token's name)."""

    id: int
    ticket_id: int
    author: str
    author_id: int | None = Field(description="The staff user who wrote it.")
    author_name: str = Field(description="The author's name (their email when unknown).")
    body: str
    public: bool
    channel: CommentChannel
    created_at: datetime = Field(json_schema_extra={"format": "date-time"})

    @field_serializer("created_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return _iso_utc(value)


class CommentPage(BaseModel):
    """Comments oldest first; `total` counts all of the ticket's, `next_cursor` None at the end."""

    items: list[CommentRead]
    total: int
    next_cursor: str | None


class TimelineEntry(BaseModel):
    """One line of a ticket's timeline: an audit event or a comment.

    `actor` is the event's actor or the comment's author; exactly one of `event` and `comment`
    is set, matching `kind`.
    """

    kind: Literal["event", "comment"]
    created_at: datetime
    actor: str
    event: EventRead | None = None
    comment: CommentRead | None = None


SearchFilterText = Annotated[SearchText, Field(max_length=200)]
SinceTime = Annotated[
    datetime,
    BeforeValidator(parse_since),
    Field(description="RFC 3339 date-time with a UTC offset."),
]


class BulkFilters(BaseModel):
    """The ticket list's filters, by the names of its query parameters (all combine with AND).

    `assignee` is `me`, `none` or a staff user's id; times are RFC 3339 with a UTC offset.
    """

    model_config = ConfigDict(extra="forbid")

    category: Category | None = None
    priority: Priority | None = None
    status: Status | None = None
    search: SearchFilterText | None = None
    q: SearchFilterText | None = None
    assignee: str | None = Field(
        default=None, description="`me`, `none` or a staff user's id.", pattern=ASSIGNEE_PATTERN
    )
    created_since: SinceTime | None = None
    updated_since: SinceTime | None = None
    language: str | None = Field(
        default=None,
        pattern=LANGUAGE_PATTERN,
        description="ISO 639-1 code of the tickets' detected language, e.g. `de`.",
    )
    frustrated: bool | None = Field(
        default=None,
        strict=True,
        description="`true`: only tickets from frustrated customers; `false`: only others.",
    )


class BulkChanges(BaseModel):
    """What to set on every selected ticket; absent fields stay, `assignee_id` null unassigns."""

    status: Status | None = Field(default=None, json_schema_extra=_not_null)
    priority: Priority | None = Field(default=None, json_schema_extra=_not_null)
    category: Category | None = Field(default=None, json_schema_extra=_not_null)
    assignee_id: RowId | None = Field(
        default=None, description=f"{ASSIGNEE_ID_RULE}; null: unassign."
    )

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    @field_validator("status", "priority", "category", mode="before")
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> BulkChanges:
        if not self.model_fields_set:
            raise ValueError(f"name at least one of {', '.join(type(self).model_fields)}")
        return self


BULK_CONFIRM_ABOVE = 10_000
"""A bulk change selecting more tickets than this needs `confirm_count`."""
MAX_BULK_IDS = 20_000
"""Most ids one bulk request may list (one SQL statement binds them all)."""


class BulkRequest(BaseModel):
    """Change many tickets at once: give exactly one of `ids` and `filters`.

    More than BULK_CONFIRM_ABOVE (10,000) selected tickets need `confirm_count` equal to their
    number; a `confirm_count` that differs from it is refused whatever the number.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["ids"]}, {"required": ["filters"]}]},
    )

    ids: list[RowId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_BULK_IDS,
        description=f"Ticket ids, 1 to {MAX_BULK_IDS:,}; each must exist (else a 404 naming "
        "the first missing one, and nothing changes). Larger selections go by `filters`.",
        json_schema_extra=_not_null,
    )
    filters: BulkFilters | None = Field(
        default=None,
        description="Every ticket the list would show for these filters.",
        json_schema_extra=_not_null,
    )
    changes: BulkChanges
    confirm_count: Count | None = Field(
        default=None,
        description=f"The number of selected tickets, required above {BULK_CONFIRM_ABOVE:,}; "
        "when given it must equal that number whatever it is (a 422 naming `confirm_count` "
        "says the number).",
    )

    @field_validator("ids", "filters", mode="before")
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave it out instead")
        return value

    @model_validator(mode="after")
    def _one_selection(self) -> BulkRequest:
        if (self.ids is None) == (self.filters is None):
            raise ValueError("give exactly one of ids and filters")
        return self


class BulkResult(BaseModel):
    """How many tickets a bulk change actually changed (unchanged ones are not counted)."""

    updated: int


def _view_query_schema(schema: dict[str, Any]) -> None:
    """A view's `query` in the schema: the list's parameters, each with the list's rule."""

    def choice(enum: type[StrEnum]) -> dict[str, Any]:
        return {"type": "string", "enum": [member.value for member in enum]}

    search = {"type": "string", "maxLength": 200, "pattern": NO_NUL_PATTERN}
    since = {"type": "string", "format": "date-time"}
    schema["properties"] = {
        "category": choice(Category),
        "priority": choice(Priority),
        "status": choice(Status),
        "search": search,
        "q": search,
        "assignee": {"type": "string", "pattern": ASSIGNEE_PATTERN},
        "sort": choice(TicketSort),
        "language": {"type": "string", "pattern": LANGUAGE_PATTERN},
        "frustrated": {"type": "string", "enum": ["true", "false"]},
        "created_since": since,
        "updated_since": since,
    }
    schema["additionalProperties"] = False


VIEW_QUERY_KEYS = (
    "category",
    "priority",
    "status",
    "search",
    "q",
    "assignee",
    "sort",
    "language",
    "frustrated",
    "created_since",
    "updated_since",
)
"""The list's query parameters a saved view may hold."""


class SavedViewCreate(BaseModel):
    """A named set of list filters, search and sort (`query`: the list's query parameters)."""

    model_config = ConfigDict(extra="forbid")

    name: NameText = Field(description=f"1 to {NAME_MAX_LENGTH} characters; unique per owner.")
    query: dict[str, str] = Field(
        default_factory=dict,
        json_schema_extra=_view_query_schema,
        description=f"Query parameters of the list: {', '.join(VIEW_QUERY_KEYS)}; values as in "
        "the list's query string (`assignee` may be `me`: whoever opens the view).",
    )
    shared: bool = Field(
        default=False, strict=True, description="Shown to the whole team (admins only)."
    )


class SavedViewRead(BaseModel):
    """A saved view; `count` is the number of tickets it matches now (when asked for)."""

    id: int
    name: str
    query: dict[str, str]
    shared: bool
    owner_id: int
    owner_name: str
    count: int | None = None


class SimilarTicket(BaseModel):
    """An open ticket whose text resembles another's (issue 14).

    `score` is the cosine similarity of the two tickets' content words, 0 (nothing shared) to
    1 (the same words).
    """

    id: int
    title: str
    status: Status
    score: float = Field(ge=0, le=1)


class MergeRequest(BaseModel):
    """`POST /api/tickets/{id}/merge/`: close this ticket as a duplicate of ticket `into`."""

    model_config = ConfigDict(extra="forbid")

    into: RowId = Field(description="Id of the ticket to keep; not this one, not a duplicate.")


class MergeResult(BaseModel):
    """Both tickets after a merge.

    `duplicate_ids` lists every ticket merged into the kept one so far, oldest first.
    """

    merged: TicketRead
    kept: TicketRead
    duplicate_ids: list[int]
