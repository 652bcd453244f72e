"""The dashboard's pieces: numbers, charts, created versus resolved, assignee load, tags."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    CATEGORIES,
    PRIORITIES,
    PRIORITY_COLORS,
    field_label,
    native_select,
)
from ticket_app.ui.logic.stats import FLOW_PERIODS
from ticket_app.ui.state import StatsState

CATEGORY_FILLS = {
    "billing": "var(--teal-9)",
    "technical": "var(--violet-9)",
    "account": "var(--cyan-9)",
    "general": "var(--gray-9)",
}


def _number(label: str, value: rx.Var, test_id: str, hint: rx.Var | str = "") -> rx.Component:
    """One headline figure."""
    return rx.card(
        rx.vstack(
            rx.text(label, size="1"),
            rx.text(value, size="6", weight="bold", data_testid=test_id),
            rx.cond(hint != "", rx.text(hint, size="1")),
            spacing="0",
        ),
        size="1",
    )


def _priority_chart() -> rx.Component:
    """Tickets per priority as bars."""
    return rx.vstack(
        rx.text("By priority", size="2", weight="medium"),
        rx.recharts.bar_chart(
            # Recharts' default tick grey is too faint to read as text (WCAG 1.4.3).
            rx.recharts.x_axis(data_key="name", tick={"fill": "var(--gray-12)"}),
            # Counts are written on the bars with thousands separators, so no y-axis labels
            # can be clipped however large the numbers get.
            rx.recharts.y_axis(hide=True),
            rx.recharts.bar(
                rx.recharts.label_list(data_key="label", position="top", fill="var(--gray-12)"),
                # Each priority in the list's colour (Critical red, High orange, ...).
                *[rx.recharts.cell(fill=f"var(--{PRIORITY_COLORS[p]}-9)") for p in PRIORITIES],
                data_key="count",
                name="Tickets",
                is_animation_active=False,
            ),
            data=StatsState.priority_rows,
            height=180,
            width="100%",
            margin={"top": 20, "right": 8, "left": 8, "bottom": 0},
            custom_attrs={"accessibilityLayer": False},
        ),
        width="100%",
        aria_label=StatsState.priority_summary,
        role="img",
    )


def _category_chart() -> rx.Component:
    """Tickets per category as a pie."""
    return rx.vstack(
        rx.text("By category", size="2", weight="medium"),
        rx.recharts.pie_chart(
            rx.recharts.pie(
                *[rx.recharts.cell(fill=CATEGORY_FILLS[c]) for c in CATEGORIES],
                data=StatsState.category_rows,
                data_key="count",
                # The legend names each slice with its count, as the bars carry theirs.
                name_key="legend",
                inner_radius="45%",
                outer_radius="80%",
                is_animation_active=False,
            ),
            rx.recharts.legend(),
            height=180,
            width="100%",
            custom_attrs={"accessibilityLayer": False},
        ),
        width="100%",
        aria_label=StatsState.category_summary,
        role="img",
        # The legend's text takes each slice's colour by default, too faint to read as text.
        style={"& .recharts-legend-item-text": {"color": "var(--gray-12) !important"}},
    )


def _flow_chart() -> rx.Component:
    """Tickets created and resolved on each day of the chosen period, as two lines."""
    tick = {"fill": "var(--gray-12)"}
    return rx.vstack(
        rx.flex(
            rx.heading("Created and resolved per day", size="3", as_="h3"),
            rx.spacer(),
            rx.hstack(
                field_label("Period", "flow-period"),
                native_select(
                    [(str(days), f"Last {days} days") for days in FLOW_PERIODS],
                    value=StatsState.period,
                    on_change=StatsState.set_period,
                    id="flow-period",
                    style={"width": "auto"},
                ),
                align="center",
                spacing="2",
            ),
            align="center",
            wrap="wrap",
            gap="2",
            width="100%",
        ),
        rx.text(StatsState.flow_summary, size="2", data_testid="flow-summary"),
        rx.box(
            rx.recharts.line_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="var(--gray-a5)"),
                rx.recharts.x_axis(data_key="day", tick=tick, min_tick_gap=16),
                rx.recharts.y_axis(allow_decimals=False, tick=tick, width=40),
                rx.recharts.line(
                    data_key="created",
                    name="Created",
                    stroke="var(--blue-9)",
                    stroke_width=2,
                    dot=False,
                    is_animation_active=False,
                ),
                rx.recharts.line(
                    data_key="resolved",
                    name="Resolved",
                    stroke="var(--green-9)",
                    stroke_width=2,
                    stroke_dasharray="6 3",
                    dot=False,
                    is_animation_active=False,
                ),
                rx.recharts.legend(),
                rx.recharts.graphing_tooltip(),
                data=StatsState.flow_rows,
                height=200,
                width="100%",
                margin={"top": 8, "right": 16, "left": 0, "bottom": 0},
                custom_attrs={"accessibilityLayer": False},
            ),
            width="100%",
            aria_label=StatsState.flow_summary,
            role="img",
            data_testid="flow-chart",
            style={"& .recharts-legend-item-text": {"color": "var(--gray-12) !important"}},
        ),
        width="100%",
        spacing="2",
    )


def _assignee_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]),
        rx.table.cell(row["open"], text_align="right"),
        data_testid="assignee-load",
    )


def assignee_table() -> rx.Component:
    """Open tickets per assignee (unassigned included), most first."""
    return rx.vstack(
        rx.heading("Open tickets by assignee", size="3", as_="h3", id="assignee-load-heading"),
        rx.cond(
            StatsState.assignee_rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Assignee"),
                        rx.table.column_header_cell("Open", text_align="right"),
                    )
                ),
                rx.table.body(rx.foreach(StatsState.assignee_rows, _assignee_row)),
                size="1",
                variant="surface",
                width="100%",
                aria_labelledby="assignee-load-heading",
            ),
            rx.text("No open tickets.", size="2"),
        ),
        width="100%",
        spacing="2",
    )


def _tag_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.link(row["tag"], href=row["href"]),
        rx.text(row["count"], as_="span", size="2", weight="medium"),
        style={"display": "flex", "justifyContent": "space-between", "gap": "0.75rem"},
        data_testid="tag-count",
    )


def tag_counts() -> rx.Component:
    """The most used tags among the tickets counted, most first, each linking to its list."""
    return rx.vstack(
        rx.heading("Tags", size="3", as_="h3", id="tag-counts-heading"),
        rx.cond(
            StatsState.tag_rows.length() > 0,
            rx.el.ul(
                rx.foreach(StatsState.tag_rows, _tag_row),
                aria_labelledby="tag-counts-heading",
                style={
                    "listStyle": "none",
                    "padding": "0",
                    "margin": "0",
                    "width": "100%",
                    "display": "grid",
                    "gap": "0.3rem",
                },
            ),
            rx.text("No tagged tickets.", size="2"),
        ),
        width="100%",
        spacing="2",
    )


def stats_panel() -> rx.Component:
    """Totals, per-day average, first-reply time, AI override share and the breakdowns."""
    return rx.vstack(
        rx.grid(
            _number("Total", StatsState.total_text, "stat-total"),
            _number("Open", StatsState.open_text, "stat-open"),
            _number("Per day", StatsState.avg_per_day, "stat-avg"),
            _number(
                "Median first reply",
                StatsState.median_first_reply,
                "stat-first-reply",
                "from creation to the first public reply",
            ),
            _number(
                "AI overridden",
                StatsState.override_rate,
                "stat-override",
                StatsState.override_text,
            ),
            columns=rx.breakpoints(initial="2", sm="3", lg="5"),
            spacing="2",
            width="100%",
        ),
        rx.grid(
            rx.card(_priority_chart()),
            rx.card(_category_chart()),
            rx.card(assignee_table()),
            rx.card(tag_counts()),
            columns=rx.breakpoints(initial="1", md="2", xl="3"),
            spacing="3",
            width="100%",
        ),
        rx.card(_flow_chart(), width="100%"),
        width="100%",
        spacing="3",
    )
