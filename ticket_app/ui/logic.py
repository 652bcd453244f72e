"""Plain functions behind the console's event handlers, kept free of Reflex so they unit-test.

Rows handed to the browser are flat `dict[str, str]` (see `ticket_row`); filters travel in the
URL query string (see `filters_from_params` / `filters_to_query`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlencode

from pydantic import ValidationError

from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import TicketFilters, TicketRead, TicketStats, TriageOverrideStats
from ticket_app.triage import TriageSuggestion

DESCRIPTION_PREVIEW_CHARS = 90
FILTER_PARAMS = ("category", "priority", "status", "q")
ALL = "all"
EnumT = TypeVar("EnumT", Category, Priority, Status)

STATUS_LABELS = {
    Status.OPEN.value: "Open",
    Status.IN_PROGRESS.value: "In progress",
    Status.RESOLVED.value: "Resolved",
    Status.CLOSED.value: "Closed",
}


def _enum_or_none(enum: type[EnumT], raw: str | None) -> EnumT | None:
    """`raw` as a member of `enum`, or None when it is empty, "all" or unknown."""
    try:
        return enum(raw) if raw else None
    except ValueError:
        return None


def filters_from_params(params: Mapping[str, str]) -> TicketFilters:
    """Filters from URL query parameters; unknown or malformed values are ignored."""
    search = (params.get("q") or "").strip()
    return TicketFilters(
        category=_enum_or_none(Category, params.get("category")),
        priority=_enum_or_none(Priority, params.get("priority")),
        status=_enum_or_none(Status, params.get("status")),
        search=search or None,
    )


def filters_to_query(filters: TicketFilters) -> str:
    """The query string ("?category=billing&q=refund", or "") that encodes `filters`."""
    pairs = [
        (name, value)
        for name, value in (
            ("category", filters.category.value if filters.category else None),
            ("priority", filters.priority.value if filters.priority else None),
            ("status", filters.status.value if filters.status else None),
            ("q", filters.normalized_search()),
        )
        if value
    ]
    return f"?{urlencode(pairs)}" if pairs else ""


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """A short human phrase for how long ago `moment` was ("just now", "5 min ago", "3 d ago")."""
    now = now or datetime.now(UTC)
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 45:
        return "just now"
    for unit_seconds, unit in ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h")):
        if seconds >= unit_seconds:
            return f"{seconds // unit_seconds} {unit} ago"
    return f"{max(1, round(seconds / 60))} min ago"


def preview(text: str, limit: int = DESCRIPTION_PREVIEW_CHARS) -> str:
    """The first line of `text`, cut to `limit` characters with an ellipsis when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def ticket_row(ticket: TicketRead, now: datetime | None = None) -> dict[str, str]:
    """A ticket flattened to the strings the table renders."""
    created = ticket.created_at.astimezone(UTC)
    return {
        "id": str(ticket.id),
        "title": ticket.title,
        "description": ticket.description,
        "preview": preview(ticket.description),
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "suggested_category": ticket.suggested_category.value if ticket.suggested_category else "",
        "suggested_priority": ticket.suggested_priority.value if ticket.suggested_priority else "",
        "created_iso": created.isoformat(),
        "created_exact": created.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "created_relative": relative_time(created, now),
    }


def _sort_key(row: Mapping[str, str]) -> tuple[str, int]:
    return row["created_iso"], int(row["id"])


def merge_first_page(
    current: list[dict[str, str]],
    current_cursor: str | None,
    fresh: list[dict[str, str]],
    fresh_cursor: str | None,
) -> tuple[list[dict[str, str]], str | None]:
    """Combine a freshly loaded first page with rows the user already paged in.

    The fresh page replaces the newest rows; rows strictly older than its last row (pages the
    user loaded with "Load more") are kept, and so is the cursor that continues after them.
    Returns the merged rows and the cursor for the next page.
    """
    if fresh_cursor is None or not fresh:
        return fresh, fresh_cursor
    oldest_fresh = _sort_key(fresh[-1])
    fresh_ids = {row["id"] for row in fresh}
    tail = [row for row in current if row["id"] not in fresh_ids and _sort_key(row) < oldest_fresh]
    if not tail:
        return fresh, fresh_cursor
    return fresh + tail, current_cursor


def replace_row(rows: list[dict[str, str]], row: dict[str, str]) -> list[dict[str, str]]:
    """`rows` with the row of the same id replaced by `row`."""
    return [row if existing["id"] == row["id"] else existing for existing in rows]


def validation_messages(error: ValidationError) -> dict[str, str]:
    """The first message per field of a pydantic error, keyed by field name."""
    messages: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        message = item["msg"].removeprefix("Value error, ")
        messages.setdefault(field, message[:1].upper() + message[1:])
    return messages


@dataclass(frozen=True)
class FormChoice:
    """The value a select shows and whether it came from the classifier."""

    value: str
    from_suggestion: bool


def apply_suggestion(current: str, touched: bool, suggested: str) -> FormChoice:
    """What a select holds after a suggestion arrives: a hand-picked value always wins."""
    if touched:
        return FormChoice(current, from_suggestion=False)
    return FormChoice(suggested, from_suggestion=True)


def is_fresh(suggested_for: str, description: str) -> bool:
    """Whether a suggestion computed for `suggested_for` still matches the typed description."""
    return suggested_for.strip() == description.strip() and bool(description.strip())


def suggestion_badge(suggestion: TriageSuggestion, field: str) -> str:
    """Badge text such as "AI suggestion · offline · 82%" for `field` ("category"/"priority")."""
    confidence = (
        suggestion.category_confidence if field == "category" else suggestion.priority_confidence
    )
    return f"AI suggestion · {suggestion.source} · {round(confidence * 100)}%"


def chart_rows(counts: Mapping[str, int]) -> list[dict[str, str | int]]:
    """Breakdown counts as recharts rows `{"name", "count", "label"}`.

    `label` is the count with thousands separators ("400,794"), shown on the bar itself.
    """
    return [
        {"name": str(name), "count": int(count), "label": f"{int(count):,}"}
        for name, count in counts.items()
    ]


def chart_summary(title: str, counts: Mapping[str, int]) -> str:
    """A chart's content in words for screen readers: "Tickets by priority: low 3, high 1"."""
    parts = ", ".join(f"{label_of_value(name)} {count:,}" for name, count in counts.items())
    return f"{title}: {parts}"


def label_of_value(value: str) -> str:
    """Display label of a category, priority or status value ("in_progress" -> "In progress")."""
    return STATUS_LABELS.get(value, value.replace("_", " ").capitalize())


@dataclass(frozen=True)
class StatsView:
    """Everything the stats panel shows, computed from the two service aggregates."""

    total: int
    open: int
    avg_per_day: str
    total_text: str
    open_text: str
    priority_summary: str
    category_summary: str
    priority_rows: list[dict[str, str | int]]
    category_rows: list[dict[str, str | int]]
    override_text: str
    override_rate: str


def stats_view(stats: TicketStats, overrides: TriageOverrideStats) -> StatsView:
    """Format the service aggregates for display, numbers with thousands separators."""
    priorities = {p.value: n for p, n in stats.priority_breakdown.items()}
    categories = {c.value: n for c, n in stats.category_breakdown.items()}
    return StatsView(
        total=stats.total_tickets,
        open=stats.open_tickets,
        avg_per_day=f"{stats.avg_tickets_per_day:,.2f}",
        total_text=f"{stats.total_tickets:,}",
        open_text=f"{stats.open_tickets:,}",
        priority_summary=chart_summary("Tickets by priority", priorities),
        category_summary=chart_summary("Tickets by category", categories),
        priority_rows=chart_rows(priorities),
        category_rows=chart_rows(categories),
        override_text=(
            f"{overrides.overridden:,} of {overrides.suggested:,} AI suggestions changed"
        ),
        override_rate=f"{overrides.override_rate * 100:.0f}%",
    )
