"""The ticket list: summary, filters, sortable headers, rows linking to their ticket page.

Also inline edits and assignment, selection for bulk changes, and pagination.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.schemas import TicketSort
from ticket_app.ui.components.bulk import bulk_bar, bulk_bar_room, select_page_checkbox
from ticket_app.ui.components.common import (
    CATEGORIES,
    FIELD_STYLE,
    PRIORITIES,
    STATUSES,
    choices,
    document_form,
    error_alert,
    native_select,
)
from ticket_app.ui.components.keyboard import (
    shortcut_listener,
    shortcuts_button,
    shortcuts_dialog,
)
from ticket_app.ui.components.ticket_row import DESKTOP_ONLY, WIDE_ONLY, ticket_rows
from ticket_app.ui.components.views import save_view_dialog
from ticket_app.ui.logic.triage import LANGUAGE_NAMES
from ticket_app.ui.state import SessionState, TicketListState
from ticket_app.ui.state.tickets import MORE_SLOTS, SEARCH_INPUT_ID

SKELETON_ROWS = 6
WIDE_FLEX = rx.breakpoints(initial="none", sm="flex")
# `minWidth: 0` lets a select shrink below its longest option, so three share a phone's line.
FILTER_STYLE = {"width": "auto", "flex": "1 1 6.5rem", "maxWidth": "13rem", "minWidth": "0"}
# Cells 6 px apart on each side instead of Radix's 8: with nine columns that is the room the
# title needs at 1280 px (issue 25). Compact density: tighter cells too (the description line
# is hidden in the row itself).
TABLE_STYLE = {
    "& td, & th": {"paddingLeft": "0.375rem", "paddingRight": "0.375rem"},
    "&[data-density='compact'] td": {"paddingTop": "2px", "paddingBottom": "2px"},
}
HEADER_BUTTON = {
    "all": "unset",
    "cursor": "pointer",
    "display": "inline-flex",
    "alignItems": "center",
    "gap": "0.125rem",
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
        style=FILTER_STYLE,
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
        style={**FIELD_STYLE, **FILTER_STYLE},
    )


def _more_filters() -> rx.Component:
    """The less-used filters: category, language, service level, mood and tag (issue 25)."""
    state = TicketListState
    return rx.flex(
        _filter_select(
            "Filter by category",
            "All categories",
            "filter-category",
            CATEGORIES,
            state.category,
            state.filter_category,
        ),
        native_select(
            [("", "All languages"), *LANGUAGE_NAMES.items()],
            value=state.language,
            on_change=state.filter_language,
            id="filter-language",
            aria_label="Filter by language",
            style=FILTER_STYLE,
        ),
        native_select(
            [("", "Any service level"), ("due_soon", "Due soon"), ("breached", "Target broken")],
            value=state.sla,
            on_change=state.filter_sla,
            id="filter-sla",
            aria_label="Filter by service level",
            style=FILTER_STYLE,
        ),
        rx.box(
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
            flex="1 1 10rem",
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
        id="more-filters",
        spacing="2",
        align="center",
        wrap="wrap",
        width="100%",
    )


def _more_filters_button() -> rx.Component:
    """Shows or hides the less-used filters; says how many of them are on."""
    state = TicketListState
    return rx.button(
        rx.icon("sliders-horizontal", size=14, aria_hidden=True),
        # Icon only on a phone, so the filters take two lines there.
        # The trailing space keeps the visible text "More filters 1", which the name repeats.
        rx.el.span("More filters ", display=rx.breakpoints(initial="none", sm="inline")),
        rx.cond(state.more_filters_on > 0, rx.badge(state.more_filters_on, radius="full")),
        rx.cond(
            state.show_more_filters,
            rx.icon("chevron-up", size=14, aria_hidden=True),
            rx.icon("chevron-down", size=14, aria_hidden=True),
        ),
        type="button",
        variant="soft",
        color_scheme="gray",
        high_contrast=True,
        on_click=state.toggle_more_filters,
        # The name includes the visible count (WCAG 2.5.3, label in name).
        aria_label=rx.cond(
            state.more_filters_on > 0,
            "More filters " + state.more_filters_on.to_string() + " on",
            "More filters",
        ),
        aria_expanded=rx.cond(state.show_more_filters, "true", "false"),
        aria_controls="more-filters",
        id="more-filters-button",
    )


def _density_switch() -> rx.Component:
    """Compact rows: no description line, tighter padding (kept in this browser)."""
    return rx.text(
        rx.flex(
            rx.switch(
                checked=TicketListState.compact,
                on_change=TicketListState.set_compact,
                id="density-compact",
                size="1",
            ),
            "Compact",
            spacing="2",
            align="center",
        ),
        as_="label",
        size="2",
        white_space="nowrap",
        display=WIDE_FLEX,
    )


def filter_bar() -> rx.Component:
    """Search, status, priority and assignee in one row; the rest behind "More filters".

    Every filter is in the URL.
    """
    state = TicketListState
    return rx.vstack(
        rx.flex(
            rx.box(
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
                flex="2 1 12rem",
            ),
            _filter_select(
                "Filter by status",
                "All statuses",
                "filter-status",
                STATUSES,
                state.status,
                state.filter_status,
            ),
            _filter_select(
                "Filter by priority",
                "All priorities",
                "filter-priority",
                PRIORITIES,
                state.priority,
                state.filter_priority,
            ),
            _assignee_filter(),
            _more_filters_button(),
            _density_switch(),
            spacing="2",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(state.show_more_filters, _more_filters()),
        spacing="2",
        width="100%",
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
                rx.icon("arrow-down-up", size=12, aria_hidden=True),
                rx.icon("chevrons-up-down", size=12, aria_hidden=True, opacity="0.5"),
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
            rx.cond(
                SessionState.can_edit,
                rx.table.column_header_cell(select_page_checkbox(), width="2.5rem"),
            ),
            _sort_header("Number", TicketSort.NEWEST, TicketSort.OLDEST, display=DESKTOP_ONLY),
            rx.table.column_header_cell("Title"),
            rx.table.column_header_cell("Requester", display=DESKTOP_ONLY),
            _sort_header("Status", TicketSort.STATUS, display=WIDE_ONLY),
            _sort_header("Priority", TicketSort.PRIORITY, display=WIDE_ONLY),
            rx.table.column_header_cell("Category", display=DESKTOP_ONLY),
            rx.table.column_header_cell("Assignee", display=WIDE_ONLY),
            _sort_header("Updated", TicketSort.UPDATED, display=WIDE_ONLY),
        )
    )
    table = rx.box(
        rx.table.root(
            header,
            # One foreach per page var (see PAGE_SLOTS), each row a memoised component: a
            # loaded page renders its own rows, and the rows already shown are not rendered again.
            rx.table.body(*(ticket_rows(getattr(state, name)) for name in ("rows", *MORE_SLOTS))),
            variant="surface",
            size="1",
            width="100%",
            aria_label="Tickets",
            data_density=rx.cond(state.compact, "compact", "comfortable"),
            style=TABLE_STYLE,
        ),
        overflow_x="auto",
        width="100%",
    )
    return rx.vstack(
        error_alert(state.load_error, announce=False, width="100%"),
        rx.cond(
            state.close_matches & (state.shown_count > 0),
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
            rx.cond(state.shown_count > 0, table, _empty_state()),
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
                        rx.el.span(
                            "Export CSV", display=rx.breakpoints(initial="none", sm="inline")
                        ),
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
            rx.box(shortcuts_button(), display=WIDE_FLEX),
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
