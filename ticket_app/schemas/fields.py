"""Field types and text rules every shape shares.

They mirror the database constraints (which stay the final word) so that bad input is refused
with a message naming the field before any SQL runs.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ticket_app.models import (
    CANNED_BODY_MAX_LENGTH,
    CANNED_TITLE_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    EXTERNAL_ID_MAX_LENGTH,
    MAX_ROW_ID,
    NAME_MAX_LENGTH,
    TITLE_MAX_LENGTH,
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


INVISIBLE_CLASS = "".join(_class_item(first, last) for first, last in INVISIBLE_RANGES)
"""The invisible characters as regex character-class items (without the brackets)."""
NO_NUL_PATTERN = r"^[^\u0000]*$"
"""OpenAPI pattern of free text: anything but NUL."""
CONTENT_PATTERN = rf"^[^\u0000]*[^\u0000{INVISIBLE_CLASS}][^\u0000]*$"
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


def strip_invisible(value: str) -> str:
    """`value` without whitespace and format characters at either end (see `is_blank`)."""
    start, end = 0, len(value)
    while start < end and value[start] in _INVISIBLE:
        start += 1
    while end > start and value[end - 1] in _INVISIBLE:
        end -= 1
    return value[start:end]


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
# A canned response's title (stored stripped, like a ticket's) and its body (kept as written).
CannedTitle = Annotated[
    str,
    AfterValidator(storable_text),
    _at_most(CANNED_TITLE_MAX_LENGTH),
    AfterValidator(str.strip),
    AfterValidator(_not_blank),
    Field(
        json_schema_extra={
            "minLength": 1,
            "maxLength": CANNED_TITLE_MAX_LENGTH,
            "pattern": CONTENT_PATTERN,
        }
    ),
]
CannedBody = Annotated[
    str,
    AfterValidator(storable_text),
    _at_most(CANNED_BODY_MAX_LENGTH),
    AfterValidator(_not_blank),
    Field(
        json_schema_extra={
            "minLength": 1,
            "maxLength": CANNED_BODY_MAX_LENGTH,
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


def never_null(schema: dict[str, Any]) -> None:
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


def iso_utc(value: datetime | None) -> str | None:
    """`value` as ISO 8601 in UTC with an explicit `+00:00` offset; None stays None."""
    return value.astimezone(timezone.utc).isoformat() if value is not None else None


def is_id_text(value: str) -> bool:
    """Whether `value` is a row id written in ASCII digits (1..MAX_ROW_ID, no sign or spaces)."""
    return (
        value.isascii()
        and value.isdigit()
        and len(value) <= len(str(MAX_ROW_ID))
        and 1 <= int(value) <= MAX_ROW_ID
    )
