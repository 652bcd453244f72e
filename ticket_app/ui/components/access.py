"""Sign-in, first-admin and one-time password link forms, and the header's account links.

The forms are plain HTML forms posted to the API, so the server sets the session cookie as
`HttpOnly`; no script on the page ever holds the session token.
"""

from __future__ import annotations

import reflex as rx
from reflex.components.el.elements.base import BaseHTML

from ticket_app.ui.components.common import document_link, field_label, screen_reader_text
from ticket_app.ui.state import SessionState
from ticket_app.ui.state.access import SetupState, SignInState
from ticket_app.ui.state.account import PasswordLinkState


class NativeForm(BaseHTML):
    """A `<form>` the browser submits itself, for answers that set a cookie.

    Reflex's own form always cancels the submission and sends an event instead.
    """

    tag = "form"

    action: rx.Var[str]
    method: rx.Var[str]


native_form = NativeForm.create


WIDE_FLEX = rx.breakpoints(initial="none", md="flex")
PHONE_BLOCK = rx.breakpoints(initial="block", md="none")
MENU_SUMMARY = {
    "display": "inline-flex",
    "alignItems": "center",
    "gap": "0.35rem",
    "minHeight": "2rem",
    "padding": "0 0.6rem",
    "cursor": "pointer",
    "listStyle": "none",
    "borderRadius": "var(--radius-2)",
    "background": "var(--gray-a3)",
    "color": "var(--gray-12)",
    "fontSize": "var(--font-size-2)",
    "&::-webkit-details-marker": {"display": "none"},
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "2px"},
}


def _input(label: str, name: str, input_type: str = "text", **props) -> rx.Component:
    field_id = f"{name}-input"
    return rx.vstack(
        field_label(label, field_id),
        rx.el.input(
            id=field_id,
            name=name,
            type=input_type,
            required=True,
            class_name="rt-reset rt-TextFieldInput",
            style={
                "width": "100%",
                "padding": "0.5rem 0.75rem",
                "border": "1px solid var(--gray-a7)",
                "borderRadius": "var(--radius-2)",
                "background": "var(--color-surface)",
                "color": "var(--gray-12)",
            },
            **props,
        ),
        spacing="1",
        width="100%",
    )


def _message(text: rx.Var[str], tone: rx.Var[str] | str = "red") -> rx.Component:
    return rx.cond(
        text != "",
        rx.callout(text, color_scheme=tone, role="alert", size="1", data_testid="auth-message"),
    )


def _auth_card(title: str | rx.Var[str], *children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("life-buoy", size=24, color=rx.color("accent", 11), aria_hidden=True),
                    rx.text("Triage Desk", size="5", weight="bold"),
                    align="center",
                ),
                rx.heading(title, size="6", as_="h1"),
                *children,
                spacing="4",
                width="100%",
            ),
            width="100%",
            max_width="26rem",
        ),
        min_height="80vh",
        padding="1rem",
    )


def sign_in_form() -> rx.Component:
    """Email and password, posted to /api/auth/login."""
    return _auth_card(
        "Sign in",
        _message(SignInState.message, SignInState.message_tone),
        native_form(
            rx.vstack(
                _input("Email", "email", "email", auto_complete="username", auto_focus=True),
                _input("Password", "password", "password", auto_complete="current-password"),
                rx.el.input(type="hidden", name="next", value=SignInState.next_path),
                rx.button("Sign in", type="submit", size="3", width="100%"),
                spacing="3",
                width="100%",
            ),
            action="/api/auth/login",
            method="post",
            width="100%",
        ),
        rx.text(
            "No account? Ask an admin of your team to create one.",
            size="1",
            color_scheme="gray",
        ),
    )


def setup_form() -> rx.Component:
    """The one-time first-admin form, posted to /api/auth/setup."""
    return _auth_card(
        "Create the first admin",
        rx.text(
            "Nobody can sign in yet. Enter the setup token printed in the server log, then the "
            "admin account's details. This page closes once an admin exists.",
            size="2",
        ),
        _message(SetupState.message),
        native_form(
            rx.vstack(
                _input("Setup token (from the server log)", "setup_token", auto_complete="off"),
                _input(
                    "Email",
                    "email",
                    "email",
                    auto_complete="username",
                    default_value=SetupState.email,
                ),
                _input("Name", "name", auto_complete="name", default_value=SetupState.name),
                _input(
                    "Password (at least 12 characters)",
                    "password",
                    "password",
                    auto_complete="new-password",
                    min_length=12,
                ),
                rx.button("Create admin and sign in", type="submit", size="3", width="100%"),
                spacing="3",
                width="100%",
            ),
            action="/api/auth/setup",
            method="post",
            width="100%",
        ),
    )


def password_link_form() -> rx.Component:
    """An invitation or reset link's page: a new password posted to /api/auth/password-link.

    When the link cannot be used (unknown, used, expired) the page says so and offers sign-in.
    """
    return _auth_card(
        PasswordLinkState.heading,
        rx.cond(
            PasswordLinkState.problem != "",
            rx.vstack(
                rx.callout(
                    PasswordLinkState.problem,
                    color_scheme="red",
                    role="alert",
                    size="1",
                    data_testid="link-problem",
                ),
                rx.link("Go to sign-in", href="/login", size="2"),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                PasswordLinkState.token != "",
                rx.vstack(
                    rx.text(
                        rx.cond(
                            PasswordLinkState.purpose == "reset",
                            "Choose a new password for ",
                            "Choose a password for your account ",
                        ),
                        rx.el.strong(PasswordLinkState.email),
                        ". You are signed in when it is saved; the link then stops working.",
                        size="2",
                    ),
                    _message(PasswordLinkState.message),
                    native_form(
                        rx.vstack(
                            rx.el.input(
                                type="hidden",
                                name="username",
                                value=PasswordLinkState.email,
                                auto_complete="username",
                            ),
                            _input(
                                "New password (at least 12 characters)",
                                "password",
                                "password",
                                auto_complete="new-password",
                                min_length=12,
                                auto_focus=True,
                            ),
                            rx.el.input(type="hidden", name="token", value=PasswordLinkState.token),
                            rx.el.input(
                                type="hidden", name="page", value=PasswordLinkState.purpose
                            ),
                            rx.button(
                                "Save password and sign in", type="submit", size="3", width="100%"
                            ),
                            spacing="3",
                            width="100%",
                        ),
                        action="/api/auth/password-link",
                        method="post",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.text("Checking the link…", size="2"),
            ),
        ),
    )


def account_menu() -> rx.Component:
    """Header: tokens (and staff, mailboxes, quarantine for admins), who is in, sign-out.

    On a phone the same links fold into a "Menu" disclosure: spelled out they took three lines
    above the list (issue 25).
    """
    return rx.fragment(
        rx.box(_account_links(signed_in_test_id="signed-in-as"), display=WIDE_FLEX),
        rx.el.details(
            rx.el.summary(
                rx.icon("menu", size=18, aria_hidden=True),
                screen_reader_text("Menu"),
                style=MENU_SUMMARY,
            ),
            rx.box(
                _account_links(),
                position="absolute",
                right="0",
                margin_top="0.25rem",
                padding="0.75rem",
                z_index="30",
                width="max-content",
                max_width="calc(100vw - 1.5rem)",
                background="var(--color-panel-solid)",
                border="1px solid var(--gray-a6)",
                border_radius="var(--radius-3)",
                box_shadow="var(--shadow-4)",
            ),
            display=PHONE_BLOCK,
            position="relative",
            id="account-menu-phone",
        ),
    )


def _account_links(signed_in_test_id: str | None = None) -> rx.Component:
    """The header's links, who is signed in and the sign-out button."""
    return rx.flex(
        rx.link("My account", href="/account", size="2"),
        rx.link("API tokens", href="/tokens", size="2"),
        rx.link("Service levels", href="/service-levels", size="2"),
        rx.cond(
            SessionState.is_admin,
            rx.fragment(
                rx.link("Staff", href="/staff", size="2"),
                rx.link("Mailboxes", href="/mailboxes", size="2"),
                rx.link("Quarantine", href="/quarantine", size="2"),
            ),
        ),
        document_link(
            "API docs",
            href="/api/docs",
            style={"color": "var(--accent-11)", "fontSize": "var(--font-size-2)"},
        ),
        rx.text(
            "Signed in as ",
            rx.el.strong(SessionState.signed_in_as),
            size="2",
            data_testid=signed_in_test_id,
        ),
        native_form(
            rx.button("Sign out", type="submit", variant="soft", size="1", color_scheme="gray"),
            action="/api/auth/logout",
            method="post",
        ),
        spacing="3",
        align=rx.breakpoints(initial="start", md="center"),
        direction=rx.breakpoints(initial="column", md="row"),
        wrap="wrap",
    )
