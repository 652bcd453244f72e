"""Ticket tags: one tag's rules, a ticket's set of tags, the `tag` list filter, tag counts.

A tag is free-form text of 1 to TAG_MAX_LENGTH (50) characters as sent, stored without
whitespace and format characters at either end, with inner runs of whitespace made one space,
lower-cased. It has no commas (a ticket's tags are written joined with commas in the audit
trail and the CSV export), does not start with `-` (the filter's exclusion mark) and holds no
control characters other than whitespace. A ticket holds each tag once and at most
MAX_TAGS_PER_TICKET (20) of them. `TAG_PATTERN` says exactly this in the OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from ticket_app.models import MAX_TAGS_PER_TICKET, TAG_MAX_LENGTH
from ticket_app.schemas.fields import INVISIBLE_CLASS, storable_text, strip_invisible

TAG_SEPARATOR = ", "
"""Between a ticket's tags in the audit trail and the CSV export."""
TAG_FILTER_MAX_TAGS = 10
"""Most tags one `tag` filter may name."""
TAG_RULES = (
    f"1 to {TAG_MAX_LENGTH} characters, no commas, not starting with `-`; stored trimmed and "
    "lower-cased."
)
_CONTROL_CLASS = r"\u0000-\u0008\u000E-\u001B\u007F"
_CONTROL = frozenset([*map(chr, range(0x00, 0x09)), *map(chr, range(0x0E, 0x1C)), "\x7f"])
TAG_PATTERN = rf"^[{INVISIBLE_CLASS}]*[^{INVISIBLE_CLASS},\-{_CONTROL_CLASS}][^,{_CONTROL_CLASS}]*$"
"""A tag as sent: something visible that is not `-` first, no commas, no control characters."""
_FILTER_PART = rf"[^,{_CONTROL_CLASS}]*"
TAG_FILTER_PATTERN = rf"^{_FILTER_PART}(?:,{_FILTER_PART}){{0,{TAG_FILTER_MAX_TAGS - 1}}}$"
"""The `tag` filter: at most TAG_FILTER_MAX_TAGS comma-separated parts, no control characters."""


def normalize_tag(value: object) -> str:
    """`value` as a stored tag (see the module docstring); ValueError saying why it is not one."""
    if not isinstance(value, str):
        raise ValueError("a tag must be a string")
    storable_text(value)
    if len(value) > TAG_MAX_LENGTH:
        raise ValueError(f"a tag must be at most {TAG_MAX_LENGTH} characters")
    if any(char in _CONTROL for char in value):
        raise ValueError("a tag must not contain control characters")
    tag = " ".join(strip_invisible(value).split()).lower()
    if not tag:
        raise ValueError("a tag must not be empty or blank")
    if "," in tag:
        raise ValueError("a tag must not contain commas")
    if tag.startswith("-"):
        raise ValueError("a tag must not start with - (it means 'without' in the tag filter)")
    if len(tag) > TAG_MAX_LENGTH:
        raise ValueError(f"a tag must be at most {TAG_MAX_LENGTH} characters in lower case")
    return tag


def _unique(tags: list[str]) -> list[str]:
    return sorted(set(tags))


Tag = Annotated[
    str,
    BeforeValidator(normalize_tag),
    Field(
        description=TAG_RULES,
        json_schema_extra={"minLength": 1, "maxLength": TAG_MAX_LENGTH, "pattern": TAG_PATTERN},
    ),
]
TagSet = Annotated[list[Tag], AfterValidator(_unique), Field(max_length=MAX_TAGS_PER_TICKET)]
"""A ticket's tags: normalised, repeats dropped, sorted; at most MAX_TAGS_PER_TICKET."""
TagChanges = Annotated[
    list[Tag], AfterValidator(_unique), Field(min_length=1, max_length=MAX_TAGS_PER_TICKET)
]
"""Tags to add to or remove from many tickets (bulk changes): 1 to MAX_TAGS_PER_TICKET."""


def tags_text(tags: list[str] | set[str] | frozenset[str]) -> str | None:
    """A set of tags as the audit trail stores it: sorted, comma-joined; None for no tags."""
    return TAG_SEPARATOR.join(sorted(tags)) or None


def tags_of_text(text: str | None) -> list[str]:
    """The tags of `tags_text`'s text (None or empty: none), sorted."""
    return sorted({part.strip() for part in (text or "").split(",") if part.strip()})


@dataclass(frozen=True)
class TagFilter:
    """The `tag` filter read: tags a ticket must carry, and tags it must not.

    `impossible` is set when a required part is no tag at all (too long, starting with `--`):
    no ticket can match then.
    """

    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    impossible: bool = False


def parse_tag_filter(value: str) -> TagFilter:
    """The `tag` filter: comma-separated tags, a leading `-` excluding one, combined with AND.

    Each part is read as a tag (trimmed, lower-cased); blank parts are skipped; a part that is
    no tag cannot match (required) or excludes nothing (excluded). ValueError for more than
    TAG_FILTER_MAX_TAGS parts or a control character (`TAG_FILTER_PATTERN` refuses both).
    """
    parts = value.split(",")
    if len(parts) > TAG_FILTER_MAX_TAGS:
        raise ValueError(f"name at most {TAG_FILTER_MAX_TAGS} tags")
    if any(char in _CONTROL for char in value):
        raise ValueError("must not contain control characters")
    required: set[str] = set()
    excluded: set[str] = set()
    impossible = False
    for part in parts:
        text = strip_invisible(part)
        if not text:
            continue
        target = excluded if text.startswith("-") else required
        try:
            target.add(normalize_tag(text.removeprefix("-")))
        except ValueError:
            impossible = impossible or target is required
    return TagFilter(tuple(sorted(required)), tuple(sorted(excluded)), impossible)


def checked_tag_filter(value: str | None) -> str | None:
    """A `tag` filter value, checked by `parse_tag_filter` (a blank one filters nothing)."""
    if value is not None:
        parse_tag_filter(storable_text(value))
    return value


TAG_FILTER_DESCRIPTION = (
    "Only tickets with this tag; `-name`: only tickets without it. Several, comma-separated, "
    f"combine with AND (`billing,-spam`), at most {TAG_FILTER_MAX_TAGS}. Matched trimmed and "
    "lower-cased; empty or blank: no filter; a name no tag can have matches nothing."
)
TAG_FILTER_MAX_LENGTH = TAG_FILTER_MAX_TAGS * (TAG_MAX_LENGTH + 2)
TagFilterText = Annotated[str, AfterValidator(checked_tag_filter)]


class TagCount(BaseModel):
    """A tag and how many tickets carry it (among the ones counted)."""

    tag: str
    count: int
