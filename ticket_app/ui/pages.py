"""Pages of the staff console, composed from the components."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.access import account_menu, setup_form, sign_in_form
from ticket_app.ui.components.admin import invite_form, new_token_form, staff_table, tokens_table
from ticket_app.ui.components.form import ticket_form
from ticket_app.ui.components.stats import stats_panel
from ticket_app.ui.components.tickets import tickets_section
from ticket_app.ui.state import SessionState


def _frame(*content: rx.Component, heading: str = "Triage Desk") -> rx.Component:
    """Header (name, navigation, who is signed in) above the page's main content."""
    return rx.box(
        rx.el.header(
            rx.hstack(
                rx.link(
                    rx.hstack(
                        rx.icon(
                            "life-buoy", size=24, color=rx.color("accent", 11), aria_hidden=True
                        ),
                        rx.heading(heading, size="6", as_="h1"),
                        align="center",
                    ),
                    href="/",
                    underline="none",
                    color_scheme="gray",
                    high_contrast=True,
                ),
                rx.spacer(),
                rx.cond(SessionState.signed_in, account_menu()),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            margin_bottom="1rem",
        ),
        rx.el.main(*content),
        padding=rx.breakpoints(initial="0.75rem", md="1.5rem"),
        max_width="1400px",
        margin_x="auto",
    )


def console() -> rx.Component:
    """The console: form (agents and admins) and stats above the ticket table."""
    return _frame(
        rx.grid(
            rx.cond(SessionState.can_edit, ticket_form()),
            stats_panel(),
            columns=rx.cond(SessionState.can_edit, rx.breakpoints(initial="1", lg="2fr 3fr"), "1"),
            spacing="4",
            width="100%",
        ),
        rx.box(tickets_section(), margin_top="1rem"),
    )


def sign_in_page() -> rx.Component:
    """Sign-in."""
    return rx.el.main(sign_in_form())


def setup_page() -> rx.Component:
    """The one-time first-admin page."""
    return rx.el.main(setup_form())


def staff_page() -> rx.Component:
    """Admins: the staff list and new accounts."""
    return _frame(rx.vstack(invite_form(), staff_table(), spacing="4", width="100%"))


def tokens_page() -> rx.Component:
    """Personal API tokens (admins see everyone's)."""
    return _frame(rx.vstack(new_token_form(), tokens_table(), spacing="4", width="100%"))
