"""Pages of the staff console, composed from the components."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.form import ticket_form
from ticket_app.ui.components.stats import stats_panel
from ticket_app.ui.components.tickets import tickets_section


def console() -> rx.Component:
    """The single-page console: form and stats side by side above the ticket table."""
    return rx.box(
        rx.el.header(
            rx.hstack(
                rx.icon("life-buoy", size=24, color=rx.color("accent", 9)),
                rx.heading("Triage Desk", size="6", as_="h1"),
                rx.spacer(),
                rx.link("API", href="/api/openapi.json", size="2", color_scheme="gray"),
                align="center",
                width="100%",
            ),
            margin_bottom="1rem",
        ),
        rx.el.main(
            rx.grid(
                ticket_form(),
                stats_panel(),
                columns=rx.breakpoints(initial="1", lg="2fr 3fr"),
                spacing="4",
                width="100%",
            ),
            rx.box(tickets_section(), margin_top="1rem"),
        ),
        padding=rx.breakpoints(initial="0.75rem", md="1.5rem"),
        max_width="1400px",
        margin_x="auto",
    )
