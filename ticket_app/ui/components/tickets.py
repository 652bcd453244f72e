"""The ticket table: filters, inline edits, pagination and the detail dialog."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    CATEGORIES,
    CATEGORY_COLORS,
    PRIORITIES,
    PRIORITY_COLORS,
    STATUS_COLORS,
    STATUSES,
    choices,
    document_link,
    native_select,
    tone_style,
)
from ticket_app.ui.state import SessionState, TicketListState

SKELETON_ROWS = 6
# The title opens the ticket's dialog: a button (it opens a dialog, it goes nowhere) that reads
# like a link.
TITLE_BUTTON = {
    "all": "unset",
    "cursor": "pointer",
    "color": "var(--accent-11)",
    "fontWeight": "500",
    "textAlign": "left",
    "overflowWrap": "anywhere",
    "&:hover": {"textDecoration": "underline"},
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
    """One filter select; "all" switches the filter off."""
    return native_select(
        choices(values, first=("all", all_label)),
        value=value,
        on_change=on_change,
        id=field_id,
        aria_label=label,
    )


def filter_bar() -> rx.Component:
    """Search box and category/priority/status filters; all combine and live in the URL."""
    state = TicketListState
    return rx.grid(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            id="filter-search",
            type="search",
            placeholder="Search title or description",
            aria_label="Search tickets",
            value=state.search,
            on_change=state.filter_search,
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
        columns=rx.breakpoints(initial="1", sm="2", md="4"),
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

    Out of the tab order: keyboard users edit in the ticket dialog (one tab stop per row).
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


# Columns shown from the tablet breakpoint up; on a phone their content moves into the title
# cell, so the table fits 390 px without scrolling sideways.
WIDE_ONLY = rx.breakpoints(initial="none", sm="table-cell")
PHONE_ONLY = rx.breakpoints(initial="flex", sm="none")


def _created(row: rx.Var[dict[str, str]]) -> rx.Component:
    """Relative creation time with the exact time on hover."""
    return rx.el.time(
        row["created_relative"],
        date_time=row["created_iso"],
        title=row["created_exact"],
    )


def _compact_details(row: rx.Var[dict[str, str]]) -> rx.Component:
    """Status, priority, category and age under the title, for phones."""
    return rx.flex(
        _inline_select(row, "status", STATUSES, STATUS_COLORS, "-compact"),
        _inline_select(row, "priority", PRIORITIES, PRIORITY_COLORS, "-compact"),
        _inline_select(row, "category", CATEGORIES, CATEGORY_COLORS, "-compact"),
        rx.text(_created(row), size="1", color_scheme="gray"),
        display=PHONE_ONLY,
        wrap="wrap",
        gap="2",
        align="center",
        margin_top="0.4rem",
    )


def _ticket_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    """One table row."""
    return rx.table.row(
        rx.table.cell(
            # One dialog per row, opened by its title: closing it returns focus to that title.
            rx.dialog.root(
                rx.dialog.trigger(
                    rx.el.button(
                        row["title"],
                        aria_label="Open ticket " + row["id"] + ": " + row["title"],
                        data_testid="ticket-link",
                        style=TITLE_BUTTON,
                    ),
                ),
                detail_content(row),
                on_open_change=lambda is_open: TicketListState.show_detail(row["id"], is_open),
            ),
            _compact_details(row),
            min_width="11rem",
            max_width="22rem",
        ),
        rx.table.cell(
            rx.text(row["preview"], size="2", color_scheme="gray"),
            display=rx.breakpoints(initial="none", md="table-cell"),
            max_width="26rem",
        ),
        rx.table.cell(_inline_select(row, "status", STATUSES, STATUS_COLORS), display=WIDE_ONLY),
        rx.table.cell(
            _inline_select(row, "priority", PRIORITIES, PRIORITY_COLORS), display=WIDE_ONLY
        ),
        rx.table.cell(
            _inline_select(row, "category", CATEGORIES, CATEGORY_COLORS), display=WIDE_ONLY
        ),
        rx.table.cell(_created(row), white_space="nowrap", display=WIDE_ONLY),
        data_testid="ticket-row",
        data_ticket_id=row["id"],
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
            rx.icon("inbox", size=32, color=rx.color("gray", 9)),
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
    """The newest-first table with a "Load more" button."""
    state = TicketListState
    header = rx.table.header(
        rx.table.row(
            rx.table.column_header_cell("Title"),
            rx.table.column_header_cell(
                "Description", display=rx.breakpoints(initial="none", md="table-cell")
            ),
            rx.table.column_header_cell("Status", display=WIDE_ONLY),
            rx.table.column_header_cell("Priority", display=WIDE_ONLY),
            rx.table.column_header_cell("Category", display=WIDE_ONLY),
            rx.table.column_header_cell("Created", display=WIDE_ONLY),
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
        rx.cond(
            state.load_error != "",
            rx.callout(state.load_error, icon="triangle_alert", color_scheme="red", width="100%"),
        ),
        rx.cond(
            state.loading,
            _skeleton(),
            rx.cond(state.rows.length() > 0, table, _empty_state()),
        ),
        rx.hstack(
            rx.text(state.shown_text, size="2", color_scheme="gray", data_testid="shown-text"),
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


def _detail_field(label: str, field: str, values: list[str], colors: dict[str, str]):
    """A labelled select in the ticket dialog: the keyboard path to an inline edit."""
    detail = TicketListState.detail
    field_id = f"detail-{field}"
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", weight="medium"), html_for=field_id),
        native_select(
            choices(values),
            value=detail[field].to(str),
            on_change=lambda value: TicketListState.update_field(
                detail["id"].to(str), field, value
            ),
            disabled=~SessionState.can_edit,
            id=field_id,
            style=tone_style(detail[field].to(str), colors),
        ),
        spacing="1",
    )


def detail_content(row: rx.Var[dict[str, str]]) -> rx.Component:
    """Full text, editable status/priority/category and the history of the row's ticket.

    The fields appear only once the dialog holds this row's ticket, so a quick change right
    after opening can never land on the ticket opened before.
    """
    detail = TicketListState.detail
    loaded = rx.fragment(
        rx.flex(
            _detail_field("Status", "status", STATUSES, STATUS_COLORS),
            _detail_field("Priority", "priority", PRIORITIES, PRIORITY_COLORS),
            _detail_field("Category", "category", CATEGORIES, CATEGORY_COLORS),
            rx.text("Created " + detail["created_exact"].to(str), size="1"),
            wrap="wrap",
            gap="3",
            align="end",
        ),
        rx.dialog.description(
            detail["description"],
            white_space="pre-wrap",
            margin_y="1rem",
            data_testid="detail-description",
        ),
        rx.cond(
            detail["suggested_category"] != "",
            rx.text(
                "AI suggested: "
                + detail["suggested_category"].to(str)
                + " / "
                + detail["suggested_priority"].to(str),
                size="1",
            ),
        ),
        history_timeline(),
    )
    return rx.dialog.content(
        rx.dialog.title("#" + row["id"] + " " + row["title"]),
        rx.cond(
            detail["id"].to(str) == row["id"],
            loaded,
            rx.dialog.description("Loading the ticket…", margin_y="1rem", role="status"),
        ),
        rx.flex(
            rx.dialog.close(rx.button("Close", variant="soft", high_contrast=True)),
            justify="end",
            margin_top="1rem",
        ),
        max_width="40rem",
    )


def _history_entry(event: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.text(event["what"], size="2", weight="medium"),
        rx.text(event["who"] + " · " + event["when"], size="1", color_scheme="gray"),
        data_testid="history-entry",
    )


def history_timeline() -> rx.Component:
    """The ticket's audit trail: who created, imported or changed what, oldest first."""
    return rx.box(
        rx.heading("History", size="2", as_="h2", margin_bottom="0.25rem", id="history-heading"),
        rx.el.ol(
            rx.foreach(TicketListState.detail_events, _history_entry),
            aria_labelledby="history-heading",
            style={"listStyle": "none", "padding": 0, "margin": 0},
        ),
        margin_top="1rem",
    )


def tickets_section() -> rx.Component:
    """Heading, filters, table and dialog together."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Tickets", size="4", as_="h2"),
                rx.cond(
                    SessionState.can_edit,
                    document_link(
                        rx.button(
                            rx.icon("download", size=14),
                            "Export CSV",
                            variant="soft",
                            size="1",
                            tab_index=-1,
                        ),
                        href=TicketListState.export_url,
                        download="tickets.csv",
                        aria_label="Export CSV: the tickets of this view",
                        id="export-csv",
                    ),
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            filter_bar(),
            ticket_table(),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )
