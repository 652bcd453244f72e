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
    color_of,
    document_link,
    option_items,
)
from ticket_app.ui.state import SessionState, TicketListState

SKELETON_ROWS = 6


def _filter_select(
    label: str,
    all_label: str,
    field_id: str,
    values: list[str],
    value: rx.Var[str],
    on_change: rx.EventHandler,
) -> rx.Component:
    """One filter select; "all" switches the filter off."""
    return rx.select.root(
        rx.select.trigger(id=field_id, aria_label=label, width="100%"),
        option_items(values, with_all=all_label),
        value=value,
        on_change=on_change,
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
    """A colored, badge-like select that saves the field at once."""
    return rx.select.root(
        rx.select.trigger(
            variant="soft",
            color=color_of(row[field], colors),
            aria_label=f"{field.capitalize()} of ticket " + row["id"],
            data_testid=f"{field}-select{test_id_suffix}",
            radius="full",
        ),
        option_items(values),
        value=row[field],
        on_change=lambda value: TicketListState.update_field(row["id"], field, value),
        disabled=~SessionState.can_edit,
        size="1",
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
            rx.link(
                row["title"],
                href="#",
                on_click=TicketListState.show_detail(row["id"]).prevent_default,
                weight="medium",
                aria_label="Open ticket " + row["id"] + ": " + row["title"],
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


def detail_dialog() -> rx.Component:
    """Full text and metadata of the ticket whose title was clicked."""
    detail = TicketListState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("#" + detail["id"].to(str) + " " + detail["title"].to(str)),
            rx.hstack(
                rx.badge(detail["category"], color_scheme="gray"),
                rx.badge(
                    detail["priority"], color=color_of(detail["priority"].to(str), PRIORITY_COLORS)
                ),
                rx.badge(detail["status"].to(str).replace("_", " ")),
                rx.text(detail["created_exact"], size="1", color_scheme="gray"),
                wrap="wrap",
                align="center",
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
                    color_scheme="gray",
                ),
            ),
            history_timeline(),
            rx.flex(
                rx.dialog.close(rx.button("Close", variant="soft")),
                justify="end",
                margin_top="1rem",
            ),
            max_width="40rem",
        ),
        open=TicketListState.detail_open,
        on_open_change=TicketListState.set_detail_open,
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
        rx.heading("History", size="2", as_="h3", margin_bottom="0.25rem"),
        rx.el.ol(
            rx.foreach(TicketListState.detail_events, _history_entry),
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
            detail_dialog(),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )
