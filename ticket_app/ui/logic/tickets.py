"""The ticket list's plain logic: its URL query (`ListQuery`), rows, paging and summary.

Filters, search and sort travel in the URL query string (see `ListQuery`); rows handed to the
browser are flat `dict[str, str]` (see `ticket_row`). Also the labels of category, priority and
status values that every page shows (`label_of_value`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import field, make_dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlencode

from pydantic import ValidationError

from ticket_app.enums import Priority, Status
from ticket_app.schemas import (
    LIST_FILTERS,
    TAG_SEPARATOR,
    BulkFilters,
    TicketFilters,
    TicketRead,
    TicketSort,
    TicketStats,
)
from ticket_app.search.highlight import highlight, snippet
from ticket_app.search.query import parse
from ticket_app.services.errors import (
    DatabaseUnavailableError,
    PermissionDeniedError,
    TicketNotFoundError,
)
from ticket_app.ui.logic.form import validation_messages
from ticket_app.ui.logic.sla import sla_badge

DESCRIPTION_PREVIEW_CHARS = 90
ME = "me"
UNASSIGNED = "none"

STATUS_LABELS = {
    Status.OPEN.value: "Open",
    Status.IN_PROGRESS.value: "In progress",
    Status.PENDING.value: "Pending",
    Status.RESOLVED.value: "Resolved",
    Status.CLOSED.value: "Closed",
}
SORT_LABELS = {
    TicketSort.NEWEST.value: "newest first",
    TicketSort.OLDEST.value: "oldest first",
    TicketSort.UPDATED.value: "recently updated",
    TicketSort.PRIORITY.value: "priority",
    TicketSort.STATUS.value: "status",
    TicketSort.DUE.value: "due soonest",
    TicketSort.RELEVANCE.value: "best match",
}
PRIORITY_RANK = {p.value: rank for rank, p in enumerate(Priority, start=1)}
STATUS_RANK = {s.value: rank for rank, s in enumerate(Status, start=1)}


def label_of_value(value: str) -> str:
    """Display label of a category, priority or status value ("in_progress" -> "In progress")."""
    return STATUS_LABELS.get(value, value.replace("_", " ").capitalize())


def _assignee_param(raw: str | None) -> str:
    """The assignee filter of a URL: me, none, a user id in digits, or "" (anyone)."""
    value = (raw or "").strip().lower()
    if value in (ME, UNASSIGNED) or (value.isascii() and value.isdigit()):
        return value
    return ""


CONSOLE_FILTERS = tuple(item for item in LIST_FILTERS if item.in_console)
"""The list filters the console's URL carries (`ListFilter.in_console`), in the API's order."""
# `q` and `assignee` keep the console's own reading; the others go through the list's model.
_OWN_READING = ("q", "assignee")
_TYPED = tuple(item.name for item in CONSOLE_FILTERS if item.name not in _OWN_READING)


def _query_text(value: object) -> str:
    """A typed filter value as the URL writes it ("" for none; `true`/`false`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return value.value if isinstance(value, StrEnum) else str(value)


class _ListQueryMethods:
    """What the ticket list shows: filters, search and sort, as its URL query holds them.

    One field per `CONSOLE_FILTERS` entry and `sort`; every field is a plain string, "" means
    no filter. `assignee` is "me", "none", a staff user id in digits, or "". `language` is a
    two-letter ISO 639-1 code; `frustrated` is "true" (frustrated customers only), "false"
    (the others only) or "". `tag` is the tag filter as typed (`billing`, `-spam`, both
    comma-separated). `sort` is a `TicketSort` value. The list, the dashboard, the nav's
    views and the saved views all read and write this one shape.
    """

    def params(self, *, with_sort: bool = True) -> dict[str, str]:
        """The non-default fields as URL query parameters, in a fixed order."""
        pairs = {item.name: getattr(self, item.name).strip() for item in CONSOLE_FILTERS}
        pairs["sort"] = self.sort if with_sort and self.sort != TicketSort.NEWEST.value else ""
        return {name: value for name, value in pairs.items() if value}

    def url(self, path: str = "/") -> str:
        """`path` with this query, e.g. "/?status=open&sort=-priority"."""
        params = self.params()
        return path + (f"?{urlencode(params)}" if params else "")

    def changed(self, **changes: str) -> ListQuery:
        """A copy with `changes` applied and normalised as from a URL ("all" means no filter)."""
        return list_query({**self.params(), **changes})

    def ticket_sort(self) -> TicketSort:
        """The sort as the service layer takes it."""
        return TicketSort(self.sort)

    def filters(self, assignee: str | None = None) -> TicketFilters:
        """The filters as the service layer takes them (`q` is the service's `search`).

        `assignee` is this query's assignee already resolved to "none" or a user id (the
        caller turns "me" into the signed-in user's id); None means no assignee filter.
        Values the list's filter model refuses mean no filter.
        """
        typed = BulkFilters.from_query(
            {name: getattr(self, name) for name in _TYPED if getattr(self, name)}, lenient=True
        )
        return TicketFilters(
            **typed.model_dump(include=set(_TYPED), exclude_none=True),
            search=console_search(self.q) or None,
            assignee=assignee,
        )

    def describe(self, staff_names: Mapping[str, str] | None = None) -> str:
        """The filters in words, e.g. "status: open · assignee: me", or "All tickets"."""
        names = staff_names or {}
        words: dict[str, Callable[[str], str]] = {
            "category": lambda value: f"category: {label_of_value(value).lower()}",
            "priority": lambda value: f"priority: {label_of_value(value).lower()}",
            "status": lambda value: f"status: {label_of_value(value).lower()}",
            "assignee": lambda value: (
                "unassigned" if value == UNASSIGNED else f"assignee: {names.get(value, value)}"
            ),
            "sla": lambda value: "due soon" if value == "due_soon" else "target broken",
            "frustrated": lambda value: (
                "frustrated customers" if value == "true" else "customers not frustrated"
            ),
            "q": lambda value: f'search: "{value}"',
        }
        order = [item.name for item in CONSOLE_FILTERS if item.name != "q"] + ["q"]
        parts = [
            words.get(name, lambda value, name=name: f"{name}: {value}")(value)
            for name in order
            if (value := getattr(self, name).strip())
        ]
        return " · ".join(parts) or "All tickets"


ListQuery = make_dataclass(
    "ListQuery",
    [
        *((item.name, str, field(default="")) for item in CONSOLE_FILTERS),
        ("sort", str, field(default=TicketSort.NEWEST.value)),
    ],
    bases=(_ListQueryMethods,),
    namespace={"__module__": __name__, "__doc__": _ListQueryMethods.__doc__},
    frozen=True,
)


def list_query(params: Mapping[str, str]) -> ListQuery:
    """The list query from URL parameters; unknown or malformed values mean "no filter".

    The filters are parsed leniently by the list's filter model (`BulkFilters.from_query`);
    `language` is read in any case. `q` and `assignee` keep the console's own reading (any
    text; me, none or digits in any case).
    """
    typed = {
        key: (params.get(key) or "").strip().lower() if key == "language" else params.get(key)
        for key in _TYPED
    }
    filters = BulkFilters.from_query(
        {key: value for key, value in typed.items() if value}, lenient=True
    )
    sort = params.get("sort") or ""
    return ListQuery(
        **{name: _query_text(getattr(filters, name)) for name in _TYPED},
        q=(params.get("q") or "").strip(),
        assignee=_assignee_param(params.get("assignee")),
        sort=sort if sort in SORT_LABELS else TicketSort.NEWEST.value,
    )


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


def ticket_row(
    ticket: TicketRead,
    now: datetime | None = None,
    staff_names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A ticket flattened to the strings the table renders.

    `staff_names` maps staff ids (digits) to names, for `assignee_name` (see `named_row`).
    """
    created = ticket.created_at.astimezone(UTC)
    return named_row(
        {
            "id": str(ticket.id),
            "title": ticket.title,
            "preview": preview(ticket.description),
            "requester": requester_label(ticket.requester_name, ticket.requester_email),
            "category": ticket.category.value,
            "priority": ticket.priority.value,
            "status": ticket.status.value,
            "suggested_category": ticket.suggested_category.value
            if ticket.suggested_category
            else "",
            "suggested_priority": ticket.suggested_priority.value
            if ticket.suggested_priority
            else "",
            "created_iso": created.isoformat(),
            "created_exact": created.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "created_relative": relative_time(created, now),
            "updated_iso": ticket.updated_at.astimezone(UTC).isoformat(),
            "updated_relative": relative_time(ticket.updated_at.astimezone(UTC), now),
            "updated_exact": ticket.updated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "assignee_id": str(ticket.assignee_id) if ticket.assignee_id is not None else "",
            "frustrated": "true" if ticket.frustrated else "",
            "language": ticket.language.upper()
            if ticket.language and ticket.language != "en"
            else "",
            "tags": TAG_SEPARATOR.join(ticket.tags),
            **sla_cells(ticket, now),
        },
        staff_names or {},
    )


def named_row(row: dict[str, str], staff_names: Mapping[str, str]) -> dict[str, str]:
    """`row` with `assignee_name` set from its `assignee_id` and `staff_names` (id -> name).

    "" when unassigned; "Staff #12" for someone `staff_names` does not hold (deactivated).
    """
    assignee = row["assignee_id"]
    name = staff_names.get(assignee, f"Staff #{assignee}") if assignee else ""
    return {**row, "assignee_name": name}


def requester_label(name: str | None, email: str | None) -> str:
    """Who asked, as the list shows it: the name, else the e-mail address, else ""."""
    return (name or "").strip() or (email or "").strip()


def sla_cells(ticket: TicketRead, now: datetime | None = None) -> dict[str, str]:
    """The ticket's nearest service-level target in words (`sla_text`) and its tone."""
    badge = sla_badge(
        {
            "first_response": ticket.first_response_due_at,
            "next_response": ticket.next_response_due_at,
            "resolution": ticket.resolution_due_at,
        },
        paused=ticket.sla_paused,
        now=now or datetime.now(UTC),
    )
    return {"sla_text": badge.text, "sla_tone": badge.tone}


def _stamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _newest_first(row: Mapping[str, str]) -> tuple[float, int]:
    return -_stamp(row["created_iso"]), -int(row["id"])


SORT_KEYS: dict[str, Callable[[Mapping[str, str]], tuple[float, ...]]] = {
    TicketSort.NEWEST.value: _newest_first,
    TicketSort.OLDEST.value: lambda row: (_stamp(row["created_iso"]), int(row["id"])),
    TicketSort.UPDATED.value: lambda row: (-_stamp(row["updated_iso"]), -int(row["id"])),
    TicketSort.PRIORITY.value: lambda row: (-PRIORITY_RANK[row["priority"]], *_newest_first(row)),
    TicketSort.STATUS.value: lambda row: (STATUS_RANK[row["status"]], *_newest_first(row)),
}
"""Sort value -> a key that grows down the list, the order the service pages in."""


def merge_first_page(
    current: list[dict[str, str]],
    current_cursor: str | None,
    fresh: list[dict[str, str]],
    fresh_cursor: str | None,
    sort: str = TicketSort.NEWEST.value,
) -> tuple[list[dict[str, str]], str | None]:
    """Combine a freshly loaded first page with rows the user already paged in.

    The fresh page replaces the first rows; rows that sort strictly after its last row under
    `sort` (pages the user loaded with "Load more") are kept, and so is the cursor that
    continues after them. Returns the merged rows and the cursor for the next page.
    """
    if fresh_cursor is None or not fresh:
        return fresh, fresh_cursor
    key = SORT_KEYS[sort]
    last_fresh = key(fresh[-1])
    fresh_ids = {row["id"] for row in fresh}
    tail = [row for row in current if row["id"] not in fresh_ids and key(row) > last_fresh]
    if not tail:
        return fresh, fresh_cursor
    return fresh + tail, current_cursor


def merge_first_page_into_pages(
    pages: list[list[dict[str, str]]],
    current_cursor: str | None,
    fresh: list[dict[str, str]],
    fresh_cursor: str | None,
    sort: str = TicketSort.NEWEST.value,
) -> tuple[list[list[dict[str, str]]], str | None]:
    """`merge_first_page` for rows kept as the pages they were loaded in.

    The fresh page becomes the first page; every older page keeps the rows `merge_first_page`
    keeps, in place, so a page nothing moved out of stays the same list (and is not sent to
    the browser again). Pages left empty are dropped. Returns the pages and the next cursor.
    """
    flat = [row for page in pages for row in page]
    merged, cursor = merge_first_page(flat, current_cursor, fresh, fresh_cursor, sort)
    kept = {row["id"] for row in merged[len(fresh) :]}
    older = [[row for row in page if row["id"] in kept] for page in pages]
    return [fresh, *(page for page in older if page)], cursor


def page_slots(pages: list[list[dict[str, str]]], slots: int) -> list[list[dict[str, str]]]:
    """`pages` spread over `slots` lists: one page each, every page beyond in the last one.

    Always `slots` lists long (empty lists for slots no page fills).
    """
    spread = [list(page) for page in pages[: slots - 1]]
    spread.append([row for page in pages[slots - 1 :] for row in page])
    return spread + [[] for _ in range(slots - len(spread))]


def select_range(
    ids: list[str], selected: list[str], anchor: str, target: str, *, checked: bool
) -> list[str]:
    """The selection after a shift-click on `target` with `anchor` clicked before.

    `ids` are the rows in display order. Every row from the anchor to the target (both
    included) becomes `checked`; without a usable anchor only the target changes. The result
    keeps `selected`'s order and appends newly selected ids in display order.
    """
    span = [target]
    if anchor in ids and target in ids:
        start, end = sorted((ids.index(anchor), ids.index(target)))
        span = ids[start : end + 1]
    if checked:
        return selected + [row_id for row_id in span if row_id not in selected]
    return [row_id for row_id in selected if row_id not in span]


def replace_row(rows: list[dict[str, str]], row: dict[str, str]) -> list[dict[str, str]]:
    """`rows` with the row of the same id replaced by `row`."""
    return [row if existing["id"] == row["id"] else existing for existing in rows]


def save_error_message(exc: Exception) -> str:
    """Why an inline edit was not saved, in words for the toast."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{k}: {v}" for k, v in validation_messages(exc).items())
    if isinstance(exc, DatabaseUnavailableError):
        return "the database is unavailable"
    if isinstance(exc, TicketNotFoundError):
        return "the ticket no longer exists"
    if isinstance(exc, PermissionDeniedError):
        return "your role does not allow this"
    return str(exc)


def list_summary(stats: TicketStats) -> str:
    """The one-line summary above the list, e.g. "42 tickets · 17 open · 7 critical"."""
    critical = stats.priority_breakdown.get(Priority.CRITICAL, 0)
    noun = "ticket" if stats.total_tickets == 1 else "tickets"
    return f"{stats.total_tickets:,} {noun} · {stats.open_tickets:,} open · {critical:,} critical"


def count_text(total: int, exact: bool, cap: int) -> str:
    """A list total for people: "1,204" when exact, else "10,000+" or "about 58,000".

    `total` and `exact` are a `TicketPage`'s `total` and `total_exact`; `cap` is
    `Settings.count_cap`. An inexact total is `max(estimate, cap)` (`services.counts.page_total`):
    at the cap it means "counted up to the cap and there are more", so it reads "10,000+";
    above, it is an estimate, shown rounded to two significant digits (and as "10,000+" when
    that rounding would not exceed the cap).
    """
    if exact:
        return f"{total:,}"
    rounded = round(total, -max(0, len(str(total)) - 2))
    return f"{cap:,}+" if rounded <= cap else f"about {rounded:,}"


_TYPED_WORD = re.compile(r"(?:^|\s)[^\W_]{2,}$")


def console_search(text: str) -> str:
    """The console's search box as the service searches it: the last word as a prefix.

    The box searches as the agent types, so its last word ("refu") may be unfinished; it is
    sent as `refu*` unless it is a number, follows a field prefix or closes a phrase.
    """
    stripped = text.strip()
    if _TYPED_WORD.search(stripped) and not stripped.split()[-1].isdigit():
        return stripped + "*"
    return stripped


def search_marks(ticket: TicketRead, search: str) -> dict[str, list[list[str]]]:
    """The title and a description snippet cut into `[text, "1" if matched else ""]` pieces.

    `search` is the box's text; with nothing searched both hold the whole text unmarked (the
    snippet is then the preview). The console renders the pieces as text, marked ones in
    `<mark>`.
    """
    query = parse(console_search(search))
    title = highlight(ticket.title, query, ticket.language)
    description = snippet(ticket.description, query, ticket.language)
    return {
        "title": [[text, "1" if marked else ""] for text, marked in title],
        "snippet": [[text, "1" if marked else ""] for text, marked in description],
    }


def ticket_number_search(text: str) -> str:
    """The ticket id when the search box holds only `#123`, else ""."""
    query = parse(text)
    return str(query.ticket_id) if query.number_only and query.ticket_id else ""
