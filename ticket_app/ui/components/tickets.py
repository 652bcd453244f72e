"""The ticket list: summary, filters, sortable headers, rows linking to their ticket page.

Also inline edits and assignment, selection for bulk changes, and pagination.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.schemas import TicketSort
from ticket_app.ui.components.bulk import (
    bulk_bar,
    bulk_bar_room,
    row_checkbox,
    select_page_checkbox,
)
from ticket_app.ui.components.common import (
    CATEGORIES,
    CATEGORY_COLORS,
    FIELD_STYLE,
    PRIORITIES,
    PRIORITY_COLORS,
    STATUS_COLORS,
    STATUSES,
    choices,
    document_form,
    error_alert,
    local_time,
    native_select,
    screen_reader_text,
    tone_style,
)
from ticket_app.ui.components.keyboard import (
    shortcut_listener,
    shortcuts_button,
    shortcuts_dialog,
)
from ticket_app.ui.components.sla import sla_mark
from ticket_app.ui.components.triage import frustration_mark, language_mark
from ticket_app.ui.components.views import save_view_dialog
from ticket_app.ui.logic.triage import LANGUAGE_NAMES
from ticket_app.ui.state import SessionState, TicketListState
from ticket_app.ui.state.tickets import SEARCH_INPUT_ID

SKELETON_ROWS = 6
TITLE_LINK = {
    "color": "var(--accent-11)",
    "fontWeight": "500",
    "overflowWrap": "anywhere",
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "2px"},
}
# Columns shown from the tablet breakpoint up; on a phone their content moves into the title
# cell, so the table fits 390 px without scrolling sideways.
WIDE_ONLY = rx.breakpoints(initial="none", sm="table-cell")
DESKTOP_ONLY = rx.breakpoints(initial="none", lg="table-cell")
PHONE_ONLY = rx.breakpoints(initial="flex", sm="none")
HEADER_BUTTON = {
    "all": "unset",
    "cursor": "pointer",
    "display": "inline-flex",
    "alignItems": "center",
    "gap": "0.25rem",
    "fontWeight": "bold",
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "2px"},
}


def _filter_select(
    label: str,
    all_label: str,
    field_id: str,
    values: list[str],
    value: rx.Var[str],
    on_change: rx.EventHandler,
) -> rx.Component:
    """One filter select; the first choice switches the filter off."""
    return native_select(
        choices(values, first=("", all_label)),
        value=value,
        on_change=on_change,
        id=field_id,
        aria_label=label,
    )


def _assignee_filter() -> rx.Component:
    """Anyone / me / unassigned / one staff member."""
    state = TicketListState
    return rx.el.select(
        rx.el.option("Any assignee", value=""),
        rx.el.option("Assigned to me", value="me"),
        rx.el.option("Unassigned", value="none"),
        rx.foreach(state.staff, lambda user: rx.el.option(user["name"], value=user["id"])),
        value=state.assignee,
        on_change=state.filter_assignee,
        id="filter-assignee",
        aria_label="Filter by assignee",
        style=FIELD_STYLE,
    )


def _triage_filters() -> rx.Component:
    """Language and "Frustrated customers" (issue 14)."""
    state = TicketListState
    return rx.flex(
        native_select(
            [("", "All languages"), *LANGUAGE_NAMES.items()],
            value=state.language,
            on_change=state.filter_language,
            id="filter-language",
            aria_label="Filter by language",
            style={"width": "auto", "flex": "1 1 8rem"},
        ),
        native_select(
            [("", "Any service level"), ("due_soon", "Due soon"), ("breached", "Target broken")],
            value=state.sla,
            on_change=state.filter_sla,
            id="filter-sla",
            aria_label="Filter by service level",
            style={"width": "auto", "flex": "1 1 8rem"},
        ),
        rx.text(
            rx.flex(
                rx.checkbox(
                    checked=state.frustrated == "true",
                    on_change=state.filter_frustrated,
                    id="filter-frustrated",
                    aria_label="Frustrated customers",
                ),
                "Frustrated customers",
                spacing="2",
                align="center",
            ),
            as_="label",
            size="2",
            white_space="nowrap",
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        # Both columns on a phone: the language select beside the checkbox needs the width.
        grid_column=rx.breakpoints(initial="span 2", md="auto"),
    )


def filter_bar() -> rx.Component:
    """Search box, category/priority/status/assignee/language/mood/tag filters; all in the URL."""
    state = TicketListState
    return rx.grid(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            id=SEARCH_INPUT_ID,
            type="search",
            placeholder="Search tickets ( / )",
            aria_label="Search tickets",
            value=state.search,
            on_change=state.filter_search,
            on_key_down=state.search_key,
            debounce_timeout=500,
            width="100%",
        ),
        _filter_select(
            "Filter by category",
            "All categories",
            "filter-category",
            CATEGORIES,
            state.category,
            state.filter_category,
        ),
        _filter_select(
            "Filter by priority",
            "All priorities",
            "filter-priority",
            PRIORITIES,
            state.priority,
            state.filter_priority,
        ),
        _filter_select(
            "Filter by status",
            "All statuses",
            "filter-status",
            STATUSES,
            state.status,
            state.filter_status,
        ),
        _assignee_filter(),
        _triage_filters(),
        rx.input(
            rx.input.slot(rx.icon("tag", size=16)),
            id="filter-tag",
            placeholder="Tag (-tag excludes)",
            aria_label="Filter by tag; a leading minus excludes it",
            value=state.tag,
            on_change=state.filter_tag,
            debounce_timeout=600,
            width="100%",
        ),
        columns=rx.breakpoints(initial="2", md="3", xl="6"),
        spacing="2",
        width="100%",
    )


def _inline_select(
    row: rx.Var[dict[str, str]],
    field: str,
    values: list[str],
    colors: dict[str, str],
    test_id_suffix: str = "",
) -> rx.Component:
    """A coloured, badge-like select that saves the field at once.

    Out of the tab order (one tab stop per row); keyboard users edit on the ticket page.
    """
    return native_select(
        choices(values),
        value=row[field],
        on_change=lambda value: TicketListState.update_field(row["id"], field, value),
        disabled=~SessionState.can_edit,
        aria_label=f"{field.capitalize()} of ticket " + row["id"],
        data_testid=f"{field}-select{test_id_suffix}",
        tab_index=-1,
        style=tone_style(row[field], colors),
    )


def _assignee_select(row: rx.Var[dict[str, str]], test_id_suffix: str = "") -> rx.Component:
    """Who owns the ticket; choosing saves at once."""
    return rx.el.select(
        rx.el.option("Unassigned", value=""),
        rx.foreach(
            TicketListState.staff, lambda user: rx.el.option(user["name"], value=user["id"])
        ),
        value=row["assignee_id"],
        on_change=lambda value: TicketListState.update_field(row["id"], "assignee_id", value),
        disabled=~SessionState.can_edit,
        aria_label="Assignee of ticket " + row["id"],
        data_testid=f"assignee-select{test_id_suffix}",
        tab_index=-1,
        style={
            **FIELD_STYLE,
            "width": "auto",
            "maxWidth": "11rem",
            "height": "var(--space-5)",
            "fontSize": "var(--font-size-1)",
        },
    )


def _created(row: rx.Var[dict[str, str]]) -> rx.Component:
    """Relative creation time; the viewer's local time and UTC on hover."""
    return local_time(row["created_iso"], text=row["created_relative"])


def _compact_details(row: rx.Var[dict[str, str]]) -> rx.Component:
    """Status, priority, category, assignee and age under the title, for phones."""
    return rx.flex(
        _inline_select(row, "status", STATUSES, STATUS_COLORS, "-compact"),
        _inline_select(row, "priority", PRIORITIES, PRIORITY_COLORS, "-compact"),
        _inline_select(row, "category", CATEGORIES, CATEGORY_COLORS, "-compact"),
        _assignee_select(row, "-compact"),
        rx.text(_created(row), size="1"),
        display=PHONE_ONLY,
        wrap="wrap",
        spacing="2",
        align="center",
        margin_top="0.4rem",
    )


def _marked(pieces: rx.Var[list[list[str]]]) -> rx.Component:
    """Text pieces with the searched words in `<mark>` (each piece rendered as text)."""
    return rx.foreach(
        pieces,
        lambda piece: rx.cond(piece[1] != "", rx.el.mark(piece[0]), rx.el.span(piece[0])),
    )


def _ticket_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    """One row; its title is a real link to the ticket's page."""
    current = row["id"] == TicketListState.current_id
    return rx.table.row(
        rx.table.cell(row_checkbox(row), width="2.5rem"),
        rx.table.cell(
            rx.link(
                rx.cond(
                    TicketListState.marks.contains(row["id"]),
                    _marked(TicketListState.marks[row["id"]]["title"]),
                    row["title"],
                ),
                href="/tickets/" + row["id"],
                id="ticket-link-" + row["id"],
                data_ticket_id=row["id"],
                data_testid="ticket-link",
                style=TITLE_LINK,
            ),
            rx.cond(
                (row["frustrated"] != "") | (row["language"] != ""),
                rx.el.span(
                    rx.cond(row["frustrated"] != "", frustration_mark()),
                    language_mark(row["language"]),
                    style={"display": "inline-flex", "gap": "0.35rem", "marginLeft": "0.4rem"},
                ),
            ),
            rx.text(
                rx.cond(
                    TicketListState.marks.contains(row["id"]),
                    _marked(TicketListState.marks[row["id"]]["snippet"]),
                    row["preview"],
                ),
                size="1",
                display=rx.breakpoints(initial="none", md="block"),
                margin_top="0.15rem",
                # A long URL or token in a description must wrap, not widen every row.
                overflow_wrap="anywhere",
            ),
            rx.cond(row["sla_text"] != "", sla_mark(row["sla_text"], row["sla_tone"])),
            rx.cond(
                row["tags"] != "",
                rx.text(
                    rx.icon("tag", size=12, aria_hidden=True),
                    screen_reader_text("Tags: "),
                    row["tags"],
                    size="1",
                    margin_top="0.15rem",
                    style={"display": "flex", "alignItems": "center", "gap": "0.3rem"},
                    data_testid="row-tags",
                ),
            ),
            _compact_details(row),
            min_width="11rem",
        ),
        rx.table.cell(_inline_select(row, "status", STATUSES, STATUS_COLORS), display=WIDE_ONLY),
        rx.table.cell(
            _inline_select(row, "priority", PRIORITIES, PRIORITY_COLORS), display=WIDE_ONLY
        ),
        rx.table.cell(
            _inline_select(row, "category", CATEGORIES, CATEGORY_COLORS), display=DESKTOP_ONLY
        ),
        rx.table.cell(_assignee_select(row), display=WIDE_ONLY),
        rx.table.cell(_created(row), white_space="nowrap", display=WIDE_ONLY),
        data_testid="ticket-row",
        data_ticket_id=row["id"],
        data_current=rx.cond(current, "true", "false"),
        style={
            "background": rx.cond(current, "var(--accent-a3)", "transparent"),
            "&:focus-within": {"background": "var(--accent-a3)"},
        },
    )


def _sort_header(label: str, sort: TicketSort, reverse: TicketSort | None = None, **props):
    """A column header that sorts by `sort` when clicked (by `reverse` when already sorted).

    `aria-sort` tells screen readers which column sorts the list and in which direction.
    """
    state = TicketListState
    active = state.sort == sort.value
    if reverse is not None:
        active = active | (state.sort == reverse.value)
        target = rx.cond(state.sort == sort.value, reverse.value, sort.value)
    else:
        target = sort.value
    ascending = sort.value in (TicketSort.OLDEST.value, TicketSort.STATUS.value)
    direction = "ascending" if ascending else "descending"
    if reverse is not None:
        direction = rx.cond(state.sort == reverse.value, "ascending", "descending")
    return rx.table.column_header_cell(
        rx.el.button(
            label,
            rx.cond(
                active,
                rx.icon("arrow-down-up", size=14, aria_hidden=True),
                rx.icon("chevrons-up-down", size=14, aria_hidden=True, opacity="0.5"),
            ),
            type="button",
            on_click=state.sort_by(target),
            style=HEADER_BUTTON,
            data_testid=f"sort-{label.lower()}",
        ),
        aria_sort=rx.cond(active, direction, "none"),
        **props,
    )


def _skeleton() -> rx.Component:
    """Placeholder bars while the first page loads."""
    return rx.vstack(
        *[
            rx.skeleton(rx.box(height="2rem", width="100%"), loading=True)
            for _ in range(SKELETON_ROWS)
        ],
        width="100%",
        spacing="2",
        data_testid="table-skeleton",
    )


def _empty_state() -> rx.Component:
    """Shown when no ticket matches."""
    return rx.center(
        rx.vstack(
            rx.icon("inbox", size=32, color=rx.color("gray", 11)),
            rx.cond(
                TicketListState.has_filters,
                rx.vstack(
                    rx.text("No ticket matches these filters."),
                    rx.button(
                        "Clear filters", variant="soft", on_click=TicketListState.clear_filters
                    ),
                    align="center",
                ),
                rx.text("No tickets yet. New tickets appear here as they arrive."),
            ),
            align="center",
        ),
        padding="2rem",
        width="100%",
        data_testid="empty-state",
    )


def ticket_table() -> rx.Component:
    """The sorted table with a "Load more" button."""
    state = TicketListState
    header = rx.table.header(
        rx.table.row(
            rx.table.column_header_cell(select_page_checkbox(), width="2.5rem"),
            rx.table.column_header_cell("Title"),
            _sort_header("Status", TicketSort.STATUS, display=WIDE_ONLY),
            _sort_header("Priority", TicketSort.PRIORITY, display=WIDE_ONLY),
            rx.table.column_header_cell("Category", display=DESKTOP_ONLY),
            rx.table.column_header_cell("Assignee", display=WIDE_ONLY),
            _sort_header("Created", TicketSort.NEWEST, TicketSort.OLDEST, display=WIDE_ONLY),
        )
    )
    table = rx.box(
        rx.table.root(
            header,
            rx.table.body(rx.foreach(state.rows, _ticket_row)),
            variant="surface",
            size="1",
            width="100%",
            aria_label="Tickets",
        ),
        overflow_x="auto",
        width="100%",
    )
    return rx.vstack(
        error_alert(state.load_error, announce=False, width="100%"),
        rx.cond(
            state.close_matches & (state.rows.length() > 0),
            rx.text(
                "No exact matches; showing close matches for \u201c",
                rx.el.strong(state.search),
                "\u201d.",
                size="2",
                role="status",
                data_testid="close-matches",
            ),
        ),
        rx.cond(
            state.loading,
            _skeleton(),
            rx.cond(state.rows.length() > 0, table, _empty_state()),
        ),
        rx.hstack(
            rx.text(state.shown_text, size="2", data_testid="shown-text"),
            rx.spacer(),
            rx.cond(
                state.next_cursor != "",
                rx.button(
                    "Load more",
                    on_click=state.load_more,
                    loading=state.loading_more,
                    variant="soft",
                    id="load-more",
                ),
            ),
            width="100%",
            align="center",
        ),
        width="100%",
        spacing="3",
    )


def _sort_picker() -> rx.Component:
    """The sort as a select too: the way to every sort on a phone, where headers are hidden."""
    return native_select(
        [
            (TicketSort.RELEVANCE.value, "Best match"),
            (TicketSort.NEWEST.value, "Newest first"),
            (TicketSort.OLDEST.value, "Oldest first"),
            (TicketSort.UPDATED.value, "Recently updated"),
            (TicketSort.PRIORITY.value, "Priority"),
            (TicketSort.STATUS.value, "Status"),
        ],
        value=TicketListState.sort,
        on_change=TicketListState.sort_by,
        id="sort-select",
        aria_label="Sort tickets",
        style={"width": "auto"},
    )


def _toolbar() -> rx.Component:
    """Heading, the one-line summary, sort, "Save view", export and shortcuts."""
    return rx.flex(
        rx.vstack(
            rx.heading("Tickets", size="4", as_="h2"),
            rx.text(
                TicketListState.summary,
                size="2",
                data_testid="list-summary",
                aria_live="polite",
            ),
            spacing="0",
        ),
        rx.spacer(),
        rx.hstack(
            _sort_picker(),
            save_view_dialog(),
            rx.cond(
                SessionState.can_edit,
                document_form(
                    rx.button(
                        rx.icon("download", size=14),
                        "Export CSV",
                        variant="soft",
                        size="1",
                        type="submit",
                        aria_label="Export CSV: the tickets of this view",
                        id="export-csv",
                    ),
                    action=TicketListState.export_url,
                    method="post",
                    style={"display": "contents"},
                ),
            ),
            shortcuts_button(),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        wrap="wrap",
        spacing="2",
        align="center",
        width="100%",
    )


def tickets_section() -> rx.Component:
    """The queue: toolbar, filters, bulk bar, table, the shortcut listener and its dialog."""
    return rx.card(
        rx.vstack(
            _toolbar(),
            filter_bar(),
            bulk_bar(),
            ticket_table(),
            bulk_bar_room(),
            width="100%",
            spacing="3",
        ),
        shortcut_listener(),
        shortcuts_dialog(),
        width="100%",
        # Radix's card contains paint, which would pin the floating bulk bar to the card's
        # bottom instead of the window's.
        contain="none",
    )
