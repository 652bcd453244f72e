"""My account (`/account`): change one's password, and one's signed-in sessions."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import field_label, local_time, screen_reader_text
from ticket_app.ui.state.account import AccountState


def _password_input(label: str, name: str, auto_complete: str) -> rx.Component:
    field_id = f"account-{name.replace('_', '-')}"
    return rx.vstack(
        field_label(label, field_id),
        rx.input(
            id=field_id,
            name=name,
            type="password",
            auto_complete=auto_complete,
            required=True,
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def password_form() -> rx.Component:
    """Current password, new password and its confirmation; the other sessions end on change."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Change your password", size="4", as_="h2"),
                rx.text(
                    "At least 12 characters; a few uncommon words work well. Your other "
                    "sessions are signed out; this one stays.",
                    size="2",
                ),
                rx.cond(
                    AccountState.password_error != "",
                    rx.callout(
                        AccountState.password_error,
                        color_scheme="red",
                        role="alert",
                        size="1",
                        data_testid="password-error",
                    ),
                ),
                rx.grid(
                    _password_input("Current password", "current_password", "current-password"),
                    _password_input("New password", "new_password", "new-password"),
                    _password_input("New password again", "confirm_password", "new-password"),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Change password", type="submit"),
                spacing="3",
                width="100%",
            ),
            id="password-form",
            on_submit=AccountState.change_password,
            reset_on_submit=True,
        ),
        width="100%",
    )


def _session_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(row["client"], size="2"),
            rx.cond(
                row["current"] == "yes",
                rx.badge("This session", color_scheme="green", margin_left="0.5rem"),
            ),
        ),
        rx.table.cell(local_time(row["created_iso"])),
        rx.table.cell(local_time(row["last_seen_iso"])),
        rx.table.cell(
            rx.cond(
                row["current"] == "yes",
                rx.fragment(),
                rx.button(
                    "Sign out",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=AccountState.sign_out_session(row["id"]),
                    aria_label="Sign out the session of "
                    + row["client"]
                    + ", since "
                    + row["created"],
                ),
            )
        ),
        data_testid="session-row",
    )


def sessions_table() -> rx.Component:
    """The user's signed-in sessions, this one marked, with "Sign out everywhere else"."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Your sessions", size="4", as_="h2"),
                rx.spacer(),
                rx.button(
                    "Sign out everywhere else",
                    size="2",
                    variant="soft",
                    color_scheme="red",
                    high_contrast=True,
                    on_click=AccountState.sign_out_others,
                    disabled=AccountState.sessions.length() <= 1,
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                AccountState.message != "",
                rx.callout(AccountState.message, color_scheme="red", role="alert", size="1"),
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *(
                            rx.table.column_header_cell(name or screen_reader_text("Actions"))
                            for name in ("Browser", "Signed in", "Last seen", "")
                        )
                    )
                ),
                rx.table.body(rx.foreach(AccountState.sessions, _session_row)),
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
    )


def account_page_content() -> rx.Component:
    """My account: the password form above the session list."""
    return rx.vstack(
        rx.heading("My account", size="5", as_="h2"),
        password_form(),
        sessions_table(),
        spacing="4",
        width="100%",
    )
