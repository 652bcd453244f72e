"""The left navigation: built-in queues and saved views with live counts, and the dashboard.

From the tablet breakpoint up it is a column beside the list; on a phone the same links form
one row above the list that scrolls sideways, so the list still comes first.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.state import SessionState
from ticket_app.ui.state.views import NavState

NAV_WIDTH = "15rem"
ITEM_STYLE = {
    "display": "flex",
    "alignItems": "center",
    "gap": "var(--space-2)",
    "padding": "var(--space-1) var(--space-2)",
    "borderRadius": "var(--radius-2)",
    "color": "var(--gray-12)",
    "textDecoration": "none",
    "whiteSpace": "nowrap",
    "minHeight": "2.25rem",
    "&:hover": {"background": "var(--gray-a3)"},
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "1px"},
    "&[aria-current='page']": {"background": "var(--accent-a4)", "fontWeight": "600"},
}


def _count(value: rx.Var[str], test_id: str) -> rx.Component:
    return rx.text(
        value,
        size="1",
        color_scheme="gray",
        high_contrast=True,
        margin_left="auto",
        padding_left="0.75rem",
        data_testid=test_id,
    )


def _view_link(item: rx.Var[dict[str, str]], test_id: str) -> rx.Component:
    """One view: icon, name and count; marked as current when the list shows it."""
    return rx.link(
        rx.icon(item["icon"].to(str), size=16, aria_hidden=True),
        rx.text(item["label"], size="2"),
        _count(item["count"], f"{test_id}-count"),
        href=item["href"].to(str),
        aria_current=rx.cond(item["href"] == NavState.active_href, "page", "false"),
        style=ITEM_STYLE,
        underline="none",
        data_testid=test_id,
        data_view=item["label"],
    )


def _saved_view(item: rx.Var[dict[str, str]]) -> rx.Component:
    """A saved view with a delete button for its owner (and admins)."""
    return rx.hstack(
        rx.box(_view_link(item, "saved-view"), flex="1", min_width="0"),
        rx.cond(
            (item["own"] == "yes") | SessionState.is_admin,
            rx.icon_button(
                rx.icon("trash-2", size=14),
                size="1",
                variant="ghost",
                color_scheme="gray",
                high_contrast=True,
                aria_label="Delete view " + item["label"].to(str),
                on_click=NavState.delete(item["id"].to(str)),
            ),
        ),
        spacing="1",
        align="center",
        width="100%",
    )


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
                    rx.foreach(NavState.builtin, lambda item: _view_link(item, "nav-view")),
                    direction=direction,
                    spacing="1",
                ),
            ),
            rx.cond(
                NavState.saved.length() > 0,
                _section(
                    "Saved views",
                    rx.flex(
                        rx.foreach(NavState.saved, _saved_view), direction=direction, spacing="1"
                    ),
                ),
            ),
            rx.link(
                rx.icon("chart-column", size=16, aria_hidden=True),
                rx.text("Dashboard", size="2"),
                href=NavState.dashboard_href,
                id="nav-dashboard",
                style=ITEM_STYLE,
                underline="none",
            ),
            direction=direction,
            spacing=rx.breakpoints(initial="2", md="4"),
            align=rx.breakpoints(initial="center", md="stretch"),
        ),
        aria_label="Views",
        on_mount=NavState.load,
        style={
            "overflowX": "auto",
            "width": "100%",
        },
        width=rx.breakpoints(initial="100%", md=NAV_WIDTH),
        flex_shrink="0",
        padding_bottom=rx.breakpoints(initial="0.5rem", md="0"),
    )
