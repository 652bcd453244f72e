"""Preparing imported rows: validation, defaults, classification and triage signals.

Every row is validated like a ticket created in the app; a bad row raises RowInvalidError
listing every bad field, and is reported (RowError) and skipped. Missing fields are filled in:
the title from the description's first sentence; category and priority (when absent or not one
of ours) by the classifier, whose suggestion is also stored in `suggested_category` /
`suggested_priority`, or by general/medium when classification is off.

Every row also gets the triage signal columns a ticket created in the app gets
(`services.triage_signals.signal_columns`): a classified row stores its suggestion's source,
confidences, suggested title, language, sentiment and frustration; any other row (both labels
given, classification off or failed) the offline signals read from its text (language,
sentiment, frustration), so the list's `language=` / `frustrated=` filters find imported tickets.
They are computed with the classification, while the previous batch is being written, a batch
at a time (its languages in parallel); that keeps ahead of the database's insert, which sets an
import's pace: 2,782 rows a second for a million rows into PostgreSQL on 2 CPUs
(tests/benchmarks/bench_import.py).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from ticket_app.models import (
    EXTERNAL_ID_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Category,
    Priority,
    Status,
    utc_now,
)
from ticket_app.schemas import TicketCreate
from ticket_app.services.imports.read import IMPORT_FIELDS
from ticket_app.services.triage_signals import offline_signal_columns_of_many, signal_columns
from ticket_app.triage import TicketClassifier, TriageSuggestion

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s|\n")
# Triage signal columns every imported row gets (`signal_columns`), on top of IMPORT_FIELDS; a
# file cannot set them. Absent keys (no suggestion) are stored as NULL.
SIGNAL_FIELDS: tuple[str, ...] = (
    "suggestion_source",
    "suggested_category_confidence",
    "suggested_priority_confidence",
    "suggested_title",
    "language",
    "sentiment",
    "sentiment_score",
    "frustrated",
)
_NO_SIGNALS: dict[str, Any] = dict.fromkeys(SIGNAL_FIELDS)


@dataclass(frozen=True)
class RowError:
    """Why one row was skipped: its 1-based line in the file, the ticket field, the reason."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: {self.field}" if self.field else f"line {self.line}"
        return f"{where}: {self.message}"


class RowInvalidError(Exception):
    """A row that cannot be imported; `errors` lists (ticket field or None, reason) per problem."""

    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def derive_title(description: str) -> str:
    """A title for a ticket that has none: the description's first sentence or line.

    Whitespace is collapsed; a sentence longer than TITLE_MAX_LENGTH (200) characters is cut at a
    word boundary and ends with "…". Returns "" for a blank description.
    """
    text = description.strip()
    first = " ".join(_SENTENCE_BREAK.split(text, maxsplit=1)[0].split())
    if len(first) <= TITLE_MAX_LENGTH:
        return first
    cut = first[: TITLE_MAX_LENGTH - 1]
    space = cut.rfind(" ")
    if space > TITLE_MAX_LENGTH // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _text(name: str, value: Any, *, strip: bool = True) -> str | None:
    """A cell as text, or None when it is absent or blank."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowInvalidError([(name, "must be text")])
    text = str(value)
    if not text.strip():
        return None
    return text.strip() if strip else text


def _choice(value: str | None, enum: type[StrEnum]) -> Any:
    """The enum member named by `value` (any case, spaces for underscores), else None."""
    if value is None:
        return None
    try:
        return enum(value.lower().replace(" ", "_"))
    except ValueError:
        return None


def _allowed(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


def _timestamp(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RowInvalidError(
            [(name, f"{value!r} is not an ISO 8601 timestamp such as 2026-01-31T09:30:00+00:00")]
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def prepare_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A validated row for the tickets table; category/priority may still be None (to classify).

    Raises RowInvalidError listing every bad field.
    """
    if "__error__" in record:
        raise RowInvalidError([(None, record["__error__"])])
    errors: list[tuple[str | None, str]] = []
    values: dict[str, Any] = {}
    for name in IMPORT_FIELDS:
        try:
            values[name] = _text(name, record.get(name), strip=name != "description")
        except RowInvalidError as exc:
            errors.extend(exc.errors)
            values[name] = None

    status = Status.OPEN
    if values["status"] is not None:
        status = _choice(values["status"], Status)
        if status is None:
            errors.append(("status", f"{values['status']!r} is not one of {_allowed(Status)}"))
    suggested: dict[str, StrEnum | None] = {}
    for name, enum in (("suggested_category", Category), ("suggested_priority", Priority)):
        suggested[name] = _choice(values[name], enum)
        if values[name] is not None and suggested[name] is None:
            errors.append((name, f"{values[name]!r} is not one of {_allowed(enum)}"))
    times: dict[str, datetime | None] = {}
    for name in ("created_at", "updated_at"):
        try:
            times[name] = _timestamp(name, values[name])
        except RowInvalidError as exc:
            errors.extend(exc.errors)
    external_id = values["external_id"]
    if external_id is not None and len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        errors.append(("external_id", f"must be at most {EXTERNAL_ID_MAX_LENGTH} characters"))

    description = values["description"]
    category = _choice(values["category"], Category)
    priority = _choice(values["priority"], Priority)
    ticket: TicketCreate | None = None
    if description is None:
        errors.append(("description", "is missing or blank"))
    else:
        try:
            ticket = TicketCreate(
                title=values["title"] or derive_title(description),
                description=description,
                category=category,
                priority=priority,
                status=status or Status.OPEN,
            )
        except ValidationError as exc:
            errors.extend(
                (str(error["loc"][0]) if error["loc"] else None, error["msg"])
                for error in exc.errors()
            )
    if errors or ticket is None:
        raise RowInvalidError(errors)

    created = times.get("created_at") or utc_now()
    return {
        "external_id": external_id,
        "title": ticket.title,
        "description": ticket.description,
        "category": category.value if category else None,
        "priority": priority.value if priority else None,
        "status": ticket.status.value,
        "suggested_category": _value(suggested["suggested_category"]),
        "suggested_priority": _value(suggested["suggested_priority"]),
        "created_at": created,
        "updated_at": times.get("updated_at") or created,
    }


def _value(member: StrEnum | None) -> str | None:
    return member.value if member is not None else None


async def _suggest_all(
    classifier: TicketClassifier, rows: list[dict[str, Any]]
) -> list[TriageSuggestion | None]:
    """One suggestion per row, concurrently; a failing call yields None (defaults are used)."""
    results = await asyncio.gather(
        *(classifier.suggest(row["description"], row["title"]) for row in rows),
        return_exceptions=True,
    )
    return [result if isinstance(result, TriageSuggestion) else None for result in results]


def fill_in(
    rows: list[dict[str, Any]], runner: asyncio.Runner | None, classifier: TicketClassifier | None
) -> int:
    """Fill missing labels and the signal columns in place; return how many rows were classified.

    A row with a suggestion stores its columns (source, confidences, title, signals) as a
    created ticket does; every other row (both labels given, classification off or failed)
    gets the offline signals read from its text. Absent signal columns are None.
    """
    pending = [row for row in rows if row["category"] is None or row["priority"] is None]
    offline = [row for row in rows if row["category"] is not None and row["priority"] is not None]
    suggestions: list[TriageSuggestion | None] = [None] * len(pending)
    if pending and runner is not None and classifier is not None:
        suggestions = runner.run(_suggest_all(classifier, pending))
    for row, suggestion in zip(pending, suggestions, strict=True):
        if suggestion is None:
            offline.append(row)
            row["category"] = row["category"] or Category.GENERAL.value
            row["priority"] = row["priority"] or Priority.MEDIUM.value
            continue
        row["suggested_category"] = suggestion.category.value
        row["suggested_priority"] = suggestion.priority.value
        row["category"] = row["category"] or suggestion.category.value
        row["priority"] = row["priority"] or suggestion.priority.value
        row.update(_NO_SIGNALS)
        row.update(signal_columns(row["title"], row["description"], suggestion))
    # The offline read (language detection, VADER, frustration cues) is most of an import's
    # time when no classifier is asked; it overlaps the previous batch's write, and its language
    # detection runs in lingua's own threads. A process pool for all of it (one process per CPU,
    # started after 5,000 rows) gained 12% into SQLite and lost 5% into PostgreSQL on a 2-CPU
    # host, and would re-run callers' unguarded scripts in its processes (spawn) or fork a
    # threaded process, so it is not used.
    columns = offline_signal_columns_of_many(
        [(row["title"], row["description"]) for row in offline]
    )
    for row, row_columns in zip(offline, columns, strict=True):
        row.update(_NO_SIGNALS)
        row.update(row_columns)
    return len(pending) if runner is not None else 0
