"""The ticket list's filters and sort, shared by the list, the stats, the export and bulk.

`LIST_FILTERS` declares every filter once: the API's query parameter (`api.deps`), a saved
view's key and value (`schemas.views`), the console's URL (`ui.logic.tickets.ListQuery`) and,
for a filter that keeps tickets whose column equals the value, its WHERE clause
(`services.ticket_query`) all come from it. `TicketFilters` (what the services take) and
`BulkFilters` (the strict model of the query-string names) hold a field per filter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from ticket_app.enums import Category, Priority, SlaFilter, Status
from ticket_app.schemas.fields import NO_NUL_PATTERN, SearchText, storable_text
from ticket_app.schemas.tags import (
    TAG_FILTER_DESCRIPTION,
    TAG_FILTER_MAX_LENGTH,
    TAG_FILTER_PATTERN,
    TagFilterText,
    checked_tag_filter,
)

ASSIGNEE_NONE = "none"
ASSIGNEE_ME = "me"
ASSIGNEE_PATTERN = r"^(me|none|[0-9]{1,10})$"
"""The `assignee` filter as written: `me`, `none` or a user id (one no user has matches none)."""
LANGUAGE_PATTERN = r"^[a-z]{2}$"
"""A language filter's value: an ISO 639-1 code in lower case, as tickets store it."""


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


class TicketFilters(BaseModel):
    r"""Filters shared by the ticket list, the stats and the export; all combine with AND.

    `search` is a case-insensitive substring match on title or description in which `%`, `_`
    and `\` are ordinary characters; empty or whitespace-only means no search. `q` is the
    console's name for the same filter (a ticket must match both when both are given).
    `created_since` / `updated_since` keep tickets created / last changed at or after that
    moment (timezone-aware). `assignee` is "none" (unassigned) or a staff user's id in ASCII
    digits; callers turn "me" into the caller's id first (`services.tickets.resolve_assignee`).
    `language` keeps tickets detected in that ISO 639-1 language; `frustrated` keeps tickets
    whose customer was (true) or was not (false) frustrated. `tag` is one tag or several,
    comma-separated, a leading `-` excluding one (`schemas.tags.parse_tag_filter`); blank is
    no filter.
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
    sla: SlaFilter | None = None
    tag: TagFilterText | None = None

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


class TicketSort(StrEnum):
    """The orders the ticket list and the export offer; every one pages through an index.

    Ties are broken by id in the same direction, so the order is total.
    """

    NEWEST = "-created_at"
    OLDEST = "created_at"
    UPDATED = "-updated_at"
    PRIORITY = "-priority"
    STATUS = "status"
    DUE = "due"
    RELEVANCE = "relevance"


SORT_DESCRIPTION = (
    "`-created_at` newest first (default), `created_at` oldest first, `-updated_at` recently "
    "changed first, `-priority` critical first then newest, `status` open, in progress, "
    "pending, resolved, closed (newest first within each), `due` the nearest service-level "
    "due time first (tickets with no running target last, oldest first), `relevance` the "
    "best matches of `search` first (the searched ticket number, then words in the title, the "
    "requester, the description and the conversation; newest first among equals and without "
    "a search; only the newest 2,000 matches are ranked and listed: sort by `-created_at` to "
    "page through more); when the words match nothing it lists close matches instead (typos), "
    "says so "
    "in the `X-Search-Mode: close-matches` header and has no next page. Any other value is "
    "a 422 naming `sort`."
)


SearchFilterText = Annotated[SearchText, Field(max_length=200)]
SinceTime = Annotated[
    datetime,
    BeforeValidator(parse_since),
    Field(description="RFC 3339 date-time with a UTC offset."),
]


_QUERY_BOOLEANS = {"true": True, "false": False}


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
    sla: SlaFilter | None = Field(
        default=None, description="`due_soon` or `breached` (service levels)."
    )
    tag: TagFilterText | None = Field(
        default=None,
        max_length=TAG_FILTER_MAX_LENGTH,
        pattern=TAG_FILTER_PATTERN,
        description=TAG_FILTER_DESCRIPTION,
    )

    @classmethod
    def from_query(cls, params: Mapping[str, str], *, lenient: bool = False) -> BulkFilters:
        """The filters of query-string values, a yes/no filter being exactly `true` or `false`.

        Strict (saved views): ValidationError for an unknown key or a value the list refuses.
        Lenient (URLs typed by people in the console): such keys and values are dropped.
        """
        booleans = {item.name for item in LIST_FILTERS if item.query_type == bool | None}
        values = {
            key: _QUERY_BOOLEANS.get(value, value) if key in booleans else value
            for key, value in params.items()
        }
        if not lenient:
            return cls.model_validate(values)
        kept: dict[str, object] = {}
        for key, value in values.items():
            try:
                cls.model_validate({key: value})
            except ValidationError:
                continue
            kept[key] = value
        return cls.model_validate(kept)


def _optional_text(value: str | None) -> str | None:
    return None if value is None else storable_text(value)


def _choice(enum: type[StrEnum]) -> dict[str, Any]:
    return {"type": "string", "enum": [member.value for member in enum]}


@dataclass(frozen=True)
class ListFilter:
    """One filter of the ticket list, as every layer reads it.

    `name` is the query parameter, the field of `TicketFilters` and `BulkFilters` and a saved
    view's key. `query_type` is the API parameter's type (None allowed; validators inside
    `Annotated`), `description` and `rules` its description and constraints in
    `/api/openapi.json` (keyword arguments of FastAPI's `Query`). `view_value` is the JSON
    schema of the value in a saved view's `query` (always a string). `column` names the tickets
    column the value must equal, or None when `services.ticket_query` has the filter's own
    WHERE clause. `in_console` says whether the console's list URL carries it (`ListQuery`).
    """

    name: str
    query_type: Any
    description: str
    view_value: dict[str, Any]
    rules: dict[str, Any] = field(default_factory=dict)
    column: str | None = None
    in_console: bool = True


SEARCH_RULES = {"max_length": 200, "json_schema_extra": {"pattern": NO_NUL_PATTERN}}
SEARCH_VALUE = {"type": "string", "maxLength": 200, "pattern": NO_NUL_PATTERN}
SINCE_RULE = (
    "RFC 3339 date-time with a UTC offset (`Z` or `+01:00`; write `+` as `%2B` in a URL); "
    "a time without an offset is a 422."
)
SINCE_VALUE = {"type": "string", "format": "date-time"}

LIST_FILTERS: tuple[ListFilter, ...] = (
    ListFilter(
        "category", Category | None, "Only this category.", _choice(Category), column="category"
    ),
    ListFilter(
        "priority", Priority | None, "Only this priority.", _choice(Priority), column="priority"
    ),
    ListFilter("status", Status | None, "Only this status.", _choice(Status), column="status"),
    ListFilter(
        "search",
        Annotated[str | None, AfterValidator(_optional_text)],
        "Case-insensitive substring of title or description; `%`, `_` and `\\` are literal; "
        "empty or blank: no filter. No NUL characters.",
        SEARCH_VALUE,
        SEARCH_RULES,
        in_console=False,
    ),
    ListFilter(
        "q",
        Annotated[str | None, AfterValidator(_optional_text)],
        "The console's name for `search` (same rules); given with `search`, a ticket must match "
        "both.",
        SEARCH_VALUE,
        SEARCH_RULES,
    ),
    ListFilter(
        "created_since",
        Annotated[datetime | None, BeforeValidator(parse_since)],
        f"Only tickets created at or after this instant. {SINCE_RULE}",
        SINCE_VALUE,
        in_console=False,
    ),
    ListFilter(
        "updated_since",
        Annotated[datetime | None, BeforeValidator(parse_since)],
        "Only tickets last changed at or after this instant. For incremental sync pass the "
        "newest `updated_at` you hold minus a minute and skip tickets you hold with the same "
        "`id` and `updated_at`: concurrent writes commit in a slightly different order than "
        f"they were stamped. {SINCE_RULE}",
        SINCE_VALUE,
        in_console=False,
    ),
    ListFilter(
        "assignee",
        str | None,
        "`me` (the signed-in user, or the token's owner), `none` (unassigned) or a staff user's "
        "id; anything else is a 422 naming `assignee`.",
        {"type": "string", "pattern": ASSIGNEE_PATTERN},
        {"pattern": ASSIGNEE_PATTERN},
    ),
    ListFilter(
        "language",
        str | None,
        "Only tickets detected in this language (ISO 639-1 code, e.g. `de`).",
        {"type": "string", "pattern": LANGUAGE_PATTERN},
        {"pattern": LANGUAGE_PATTERN},
        column="language",
    ),
    ListFilter(
        "frustrated",
        bool | None,
        "`true`: only tickets from frustrated customers; `false`: only others.",
        {"type": "string", "enum": ["true", "false"]},
        column="frustrated",
    ),
    ListFilter(
        "sla",
        SlaFilter | None,
        "`due_soon`: a running service-level target falls due within SLA_DUE_SOON_MINUTES (60 "
        "by default) and is not overdue yet; `breached`: a target of a clock still running or "
        "paused was broken.",
        _choice(SlaFilter),
    ),
    ListFilter(
        "tag",
        Annotated[str | None, AfterValidator(checked_tag_filter)],
        TAG_FILTER_DESCRIPTION,
        {"type": "string", "maxLength": TAG_FILTER_MAX_LENGTH, "pattern": TAG_FILTER_PATTERN},
        {"max_length": TAG_FILTER_MAX_LENGTH, "json_schema_extra": {"pattern": TAG_FILTER_PATTERN}},
    ),
)
"""Every list filter, in the order of the list's query parameters in `/api/openapi.json`."""
