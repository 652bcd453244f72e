"""Ticket tags: one tag's rules, a ticket's set of tags, the `tag` list filter, tag counts.

A tag is free-form text, trimmed, lower-cased and with inner runs of whitespace made one
space; 1 to TAG_MAX_LENGTH (50) characters, no commas (a ticket's tags are written joined with
commas in the audit trail and the CSV export), not starting with `-` (the filter's exclusion
mark), no NUL or control characters. A ticket holds each tag once and at most
MAX_TAGS_PER_TICKET (20) of them.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from ticket_app.models import MAX_TAGS_PER_TICKET, TAG_MAX_LENGTH
from ticket_app.schemas.fields import is_blank, storable_text

TAG_SEPARATOR = ", "
"""Between a ticket's tags in the audit trail and the CSV export."""
TAG_FILTER_MAX_TAGS = 10
"""Most tags one `tag` filter may name."""
TAG_RULES = (
    f"Trimmed and lower-cased; 1 to {TAG_MAX_LENGTH} characters, no commas, not starting with `-`."
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_tag(value: object) -> str:
    """`value` as a stored tag (see the module docstring); ValueError saying why it is not one."""
    if not isinstance(value, str):
        raise ValueError("a tag must be a string")
    storable_text(value)
    if _CONTROL.search(value):
        raise ValueError("a tag must not contain control characters")
    tag = " ".join(value.split()).lower()
    if not tag or is_blank(tag):
        raise ValueError("a tag must not be empty or blank")
    if len(tag) > TAG_MAX_LENGTH:
        raise ValueError(f"a tag must be at most {TAG_MAX_LENGTH} characters")
    if "," in tag:
        raise ValueError("a tag must not contain commas")
    if tag.startswith("-"):
        raise ValueError("a tag must not start with - (it means 'without' in the tag filter)")
    return tag


def _unique(tags: list[str]) -> list[str]:
    unique = sorted(set(tags))
    if len(unique) > MAX_TAGS_PER_TICKET:
        raise ValueError(f"a ticket holds at most {MAX_TAGS_PER_TICKET} tags")
    return unique


Tag = Annotated[
    str,
    BeforeValidator(normalize_tag),
    Field(
        description=TAG_RULES,
        json_schema_extra={"minLength": 1, "maxLength": TAG_MAX_LENGTH, "pattern": r"^[^,-]"},
    ),
]
TagSet = Annotated[
    list[Tag],
    AfterValidator(_unique),
    Field(json_schema_extra={"maxItems": MAX_TAGS_PER_TICKET}),
]
"""A ticket's tags: normalised, repeats dropped, sorted; at most MAX_TAGS_PER_TICKET."""
TagChanges = Annotated[
    list[Tag],
    AfterValidator(lambda tags: sorted(set(tags))),
    Field(min_length=1, max_length=MAX_TAGS_PER_TICKET),
]
"""Tags to add to or remove from many tickets (bulk changes): 1 to MAX_TAGS_PER_TICKET."""


def tags_text(tags: list[str] | set[str] | frozenset[str]) -> str | None:
    """A set of tags as the audit trail stores it: sorted, comma-joined; None for no tags."""
    return TAG_SEPARATOR.join(sorted(tags)) or None


def tags_of_text(text: str | None) -> list[str]:
    """The tags of `tags_text`'s text (None or empty: none), sorted."""
    return sorted({part.strip() for part in (text or "").split(",") if part.strip()})


def parse_tag_filter(value: str) -> tuple[list[str], list[str]]:
    """The `tag` filter's (tags required, tags excluded), each list sorted and unique.

    `value` is one tag or several separated by commas; a tag written with a leading `-` is
    excluded. ValueError (naming the part) for a part that is not a tag, for more than
    TAG_FILTER_MAX_TAGS parts, or for a tag both required and excluded.
    """
    parts = value.split(",")
    if len(parts) > TAG_FILTER_MAX_TAGS:
        raise ValueError(f"name at most {TAG_FILTER_MAX_TAGS} tags")
    required: set[str] = set()
    excluded: set[str] = set()
    for part in parts:
        text = part.strip()
        target = excluded if text.startswith("-") else required
        target.add(normalize_tag(text.removeprefix("-")))
    if required & excluded:
        raise ValueError(f"{sorted(required & excluded)[0]!r} is both required and excluded")
    return sorted(required), sorted(excluded)


def canonical_tag_filter(value: str | None) -> str | None:
    """The `tag` filter as the services hold it: required tags, then `-`excluded, comma-joined.

    None stays None; ValueError as `parse_tag_filter`.
    """
    if value is None:
        return None
    required, excluded = parse_tag_filter(value)
    return ",".join([*required, *(f"-{tag}" for tag in excluded)])


TAG_FILTER_DESCRIPTION = (
    "Only tickets with this tag; `-name` only tickets without it. Several, comma-separated, "
    f"combine with AND (`billing,-spam`), at most {TAG_FILTER_MAX_TAGS}. Tags are matched "
    "trimmed and lower-cased; a value that is not a tag is a 422 naming `tag`."
)
TAG_FILTER_MAX_LENGTH = TAG_FILTER_MAX_TAGS * (TAG_MAX_LENGTH + 2)
TagFilterText = Annotated[str, AfterValidator(canonical_tag_filter)]


class TagCount(BaseModel):
    """A tag and how many tickets carry it (among the ones counted)."""

    tag: str
    count: int
