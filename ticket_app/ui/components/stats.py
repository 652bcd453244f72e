"""The stats panel: headline numbers and breakdown charts."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import CATEGORIES
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
            rx.recharts.x_axis(data_key="name"),
            # Counts are written on the bars with thousands separators, so no y-axis labels
            # can be clipped however large the numbers get.
            rx.recharts.y_axis(hide=True),
            rx.recharts.bar(
                rx.recharts.label_list(data_key="label", position="top", fill="var(--gray-12)"),
                data_key="count",
                fill="var(--accent-9)",
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
                name_key="name",
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


def stats_panel() -> rx.Component:
    """Totals, per-day average, AI override share and the two breakdown charts."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Stats", size="4", as_="h2"),
                rx.cond(
                    StatsState.unavailable,
                    rx.badge("stale: database unavailable", color_scheme="red"),
                ),
                align="center",
            ),
            rx.grid(
                _number("Total", StatsState.total_text, "stat-total"),
                _number("Open", StatsState.open_text, "stat-open"),
                _number("Per day", StatsState.avg_per_day, "stat-avg"),
                _number(
                    "AI overridden",
                    StatsState.override_rate,
                    "stat-override",
                    StatsState.override_text,
                ),
                columns=rx.breakpoints(initial="2", sm="4"),
                spacing="2",
                width="100%",
            ),
            rx.grid(
                _priority_chart(),
                _category_chart(),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )
