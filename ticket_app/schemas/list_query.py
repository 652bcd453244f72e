"""The ticket list's filters and sort, shared by the list, the stats, the export and bulk."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from ticket_app.enums import Category, Priority, Status
from ticket_app.schemas.fields import SearchText

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
    "pending, resolved, closed (newest first within each). Any other value is a 422 naming "
    "`sort`."
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

    @classmethod
    def from_query(cls, params: Mapping[str, str], *, lenient: bool = False) -> BulkFilters:
        """The filters of query-string values, `frustrated` being exactly `true` or `false`.

        Strict (saved views): ValidationError for an unknown key or a value the list refuses.
        Lenient (URLs typed by people in the console): such keys and values are dropped.
        """
        values = {
            key: _QUERY_BOOLEANS.get(value, value) if key == "frustrated" else value
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
