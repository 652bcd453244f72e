"""The header's bell with its unread count, and the /notifications list."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import error_alert, local_time
from ticket_app.ui.state.notifications import NotificationPreferencesState, NotificationsState

NOTIFICATIONS_HEADING_ID = "notifications-heading"
EMAIL_HEADING_ID = "notification-email-heading"


def notification_bell() -> rx.Component:
    """A link to /notifications: a bell, and the unread count as text beside it (not colour)."""
    return rx.link(
        rx.icon("bell", size=18, aria_hidden=True),
        rx.cond(
            NotificationsState.unread > 0,
            rx.badge(
                NotificationsState.unread_text,
                color_scheme="red",
                variant="solid",
                # Solid red-9 behind white text measures 3.9:1; the high-contrast pair (red-12
                # and red-1) passes AA in both themes.
                high_contrast=True,
                radius="full",
                data_testid="unread-count",
                aria_hidden=True,
            ),
        ),
        href="/notifications",
        aria_label=NotificationsState.bell_label,
        id="notification-bell",
        on_mount=NotificationsState.start,
        underline="none",
        style={"display": "inline-flex", "alignItems": "center", "gap": "0.25rem"},
    )


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    unread = row["unread"] == "true"
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(
                    rx.cond(unread, rx.el.strong(row["headline"]), row["headline"]),
                    rx.cond(unread, rx.text.span(" · unread", color_scheme="gray", size="1")),
                    size="2",
                ),
                rx.button(
                    row["ticket"],
                    variant="ghost",
                    size="2",
                    on_click=NotificationsState.open_ticket(row["id"], row["ticket_id"]),
                    data_testid="open-notification",
                    style={"whiteSpace": "normal", "textAlign": "left", "height": "auto"},
                ),
                rx.cond(row["excerpt"] != "", rx.text(row["excerpt"], size="2")),
                rx.text(
                    "by ",
                    row["actor"],
                    " · ",
                    local_time(row["when_iso"], text=row["when"]),
                    size="1",
                    color_scheme="gray",
                    high_contrast=True,
                ),
                spacing="1",
                align="start",
            ),
            width="100%",
        ),
        data_testid="notification",
        data_unread=row["unread"],
        style={"padding": "0.5rem 0", "borderBottom": "1px solid var(--gray-a5)"},
    )


def notifications_list() -> rx.Component:
    """The signed-in person's newest notifications, with "Mark all read"."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(
                    "Notifications",
                    size="4",
                    as_="h2",
                    id=NOTIFICATIONS_HEADING_ID,
                    tab_index=-1,
                    style={"outline": "none"},
                ),
                rx.spacer(),
                rx.button(
                    "Mark all read",
                    variant="soft",
                    size="2",
                    on_click=NotificationsState.mark_all_read,
                    disabled=NotificationsState.unread == 0,
                    data_testid="mark-all-read",
                ),
                width="100%",
                align="center",
            ),
            error_alert(
                rx.cond(
                    NotificationsState.unavailable,
                    "Notifications could not be loaded. The page tries again by itself.",
                    "",
                ),
                width="100%",
            ),
            rx.cond(
                NotificationsState.loaded & (NotificationsState.rows.length() == 0),
                rx.text("Nothing yet.", size="2", data_testid="no-notifications"),
                rx.el.ul(
                    rx.foreach(NotificationsState.rows, _row),
                    style={"listStyle": "none", "padding": "0", "margin": "0", "width": "100%"},
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _preference(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(row["label"], size="2"),
            rx.spacer(),
            rx.el.label(
                rx.checkbox(
                    checked=row["email"] == "true",
                    on_change=lambda email: NotificationPreferencesState.set_email(
                        row["kind"], email
                    ),
                    aria_label="Also e-mail me: " + row["label"],
                    data_testid="email-" + row["kind"],
                ),
                rx.text("Also e-mail me", size="2"),
                style={"display": "inline-flex", "alignItems": "center", "gap": "0.5rem"},
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        style={"padding": "0.5rem 0", "borderBottom": "1px solid var(--gray-a5)"},
    )


def notification_email_choices() -> rx.Component:
    """Per kind of notification, an "Also e-mail me" checkbox (the signed-in person's own)."""
    return rx.card(
        rx.vstack(
            rx.heading("E-mail", size="4", as_="h2", id=EMAIL_HEADING_ID),
            rx.text(
                "Every notification is listed here. Choose which are also sent to your e-mail "
                "address; mail goes out only while the team has a mailbox connected.",
                size="2",
            ),
            error_alert(
                rx.cond(
                    NotificationPreferencesState.unavailable,
                    "Your e-mail choices could not be loaded. Reload the page to try again.",
                    "",
                ),
                width="100%",
            ),
            rx.el.ul(
                rx.foreach(NotificationPreferencesState.rows, _preference),
                aria_labelledby=EMAIL_HEADING_ID,
                style={"listStyle": "none", "padding": "0", "margin": "0", "width": "100%"},
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="notification-email-choices",
    )
