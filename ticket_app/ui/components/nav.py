"""The left navigation: the built-in queues, the saved views and the dashboard link.

From the tablet breakpoint up it is a column beside the list; on a phone the same links wrap
into compact lines above the list, every one in sight (a row scrolling sideways hid the
Dashboard link and cut view names). The views
themselves are drawn by `components/views.py`.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.views import (
    NAV_ITEM_STYLE,
    delete_view_dialog,
    saved_view,
    view_link,
)
from ticket_app.ui.state.views import NavState

NAV_WIDTH = "15rem"
WRAP = rx.breakpoints(initial="wrap", md="nowrap")


def _section(title: str, *children: rx.Component) -> rx.Component:
    return rx.box(
        rx.text(
            title,
            size="1",
            weight="bold",
            color_scheme="gray",
            high_contrast=True,
            display=rx.breakpoints(initial="none", md="block"),
            padding_x="0.5rem",
            margin_bottom="0.25rem",
        ),
        *children,
    )


def side_nav() -> rx.Component:
    """The views with their counts, then the saved views, then the dashboard."""
    direction = rx.breakpoints(initial="row", md="column")
    return rx.el.nav(
        rx.flex(
            _section(
                "Views",
                rx.flex(
                    rx.foreach(NavState.builtin, lambda item: view_link(item, "nav-view")),
                    direction=direction,
                    wrap=WRAP,
                    spacing="1",
                ),
            ),
            rx.cond(
                NavState.saved.length() > 0,
                _section(
                    "Saved views",
                    rx.flex(
                        rx.foreach(NavState.saved, saved_view),
                        direction=direction,
                        wrap=WRAP,
                        spacing="1",
                    ),
                ),
            ),
            delete_view_dialog(),
            rx.link(
                rx.icon("chart-column", size=16, aria_hidden=True),
                rx.text("Dashboard", size="2"),
                href=NavState.dashboard_href,
                id="nav-dashboard",
                style=NAV_ITEM_STYLE,
                underline="none",
            ),
            rx.link(
                rx.icon("message-square-quote", size=16, aria_hidden=True),
                rx.text("Canned responses", size="2"),
                href="/canned-responses",
                id="nav-canned",
                style=NAV_ITEM_STYLE,
                underline="none",
            ),
            direction=direction,
            wrap=WRAP,
            spacing=rx.breakpoints(initial="1", md="4"),
            align=rx.breakpoints(initial="center", md="stretch"),
        ),
        aria_label="Views",
        on_mount=NavState.load,
        style={
            "width": "100%",
            # Phone: tighter links so the views take two or three short lines.
            "@media (max-width: 767px)": {"& a": {"minHeight": "2rem", "padding": "0 0.4rem"}},
        },
        width=rx.breakpoints(initial="100%", md=NAV_WIDTH),
        flex_shrink="0",
        padding_bottom=rx.breakpoints(initial="0.5rem", md="0"),
    )
