"""The dashboard page: the list's stats for the same filters, saying which."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.sla_report import sla_report_section
from ticket_app.ui.components.stats import stats_panel
from ticket_app.ui.state import StatsState


def dashboard() -> rx.Component:
    """Heading, what the numbers cover (with the way to that list), and the stats."""
    return rx.vstack(
        rx.hstack(
            rx.heading("Dashboard", size="4", as_="h2"),
            rx.cond(
                StatsState.unavailable,
                rx.badge("Stale: database unavailable", color_scheme="red"),
            ),
            align="center",
        ),
        rx.hstack(
            rx.text(
                "Covers: ",
                rx.el.strong(StatsState.described, data_testid="dashboard-scope"),
                size="2",
            ),
            rx.link("Show these tickets", href=StatsState.list_href, size="2"),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        stats_panel(),
        sla_report_section(),
        width="100%",
        spacing="3",
    )
