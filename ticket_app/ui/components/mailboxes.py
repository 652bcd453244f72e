"""The mailboxes page: connect a support address, and each mailbox's settings and fetch health.

Server errors are mail servers' words, rendered as text only.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    FIELD_STYLE,
    confirm_dialog,
    error_alert,
    local_time,
    section_heading,
    table_headers,
)
from ticket_app.ui.components.mail import LIST_STYLE, WRAP, state_badge
from ticket_app.ui.logic.mail import FIELD_LABELS, TLS_CHOICES
from ticket_app.ui.state.mail import MAILBOX_FORM_ID, MAILBOXES_HEADING_ID, MailboxesState

State = MailboxesState


def _field_error(field: str) -> rx.Component:
    return rx.cond(
        State.field_errors.contains(field),
        rx.text(
            State.field_errors[field],
            id=f"mailbox-{field}-error",
            size="1",
            color_scheme="red",
            role="alert",
        ),
    )


def _label(text: str, field_id: str, hint: str = "") -> rx.Component:
    return rx.el.label(
        rx.text(
            text,
            *([rx.el.span(" " + hint, style={"fontWeight": "normal"})] if hint else []),
            size="2",
            weight="medium",
        ),
        html_for=field_id,
    )


def _input(
    field: str,
    *,
    input_type: str = "text",
    hint: str = "",
    required: bool = True,
    **props,
) -> rx.Component:
    """A labelled, uncontrolled input of the add form; its error shows under it."""
    field_id = f"mailbox-{field.replace('_', '-')}"
    return rx.vstack(
        _label(FIELD_LABELS[field], field_id, hint),
        rx.input(
            id=field_id,
            name=field,
            type=input_type,
            required=required,
            aria_invalid=rx.cond(State.field_errors.contains(field), "true", "false"),
            aria_describedby=f"mailbox-{field}-error",
            width="100%",
            **props,
        ),
        _field_error(field),
        spacing="1",
        width="100%",
    )


def _tls_select(field: str, default: str) -> rx.Component:
    field_id = f"mailbox-{field.replace('_', '-')}"
    return rx.vstack(
        _label(FIELD_LABELS[field], field_id),
        rx.el.select(
            *(rx.el.option(label, value=value) for value, label in TLS_CHOICES),
            id=field_id,
            name=field,
            default_value=default,
            style=FIELD_STYLE,
        ),
        _field_error(field),
        spacing="1",
        width="100%",
    )


def _checkbox(name: str, label: str) -> rx.Component:
    field_id = f"mailbox-{name.replace('_', '-')}"
    return rx.el.label(
        rx.hstack(
            rx.el.input(
                type="checkbox",
                id=field_id,
                name=name,
                style={"width": "1rem", "height": "1rem", "accentColor": "var(--accent-9)"},
            ),
            rx.text(label, size="2"),
            spacing="2",
            align="center",
        ),
        html_for=field_id,
    )


def _fieldset(legend: str, *children: rx.Component, columns: str = "2") -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(rx.text(legend, size="3", weight="bold")),
        rx.grid(
            *children,
            columns=rx.breakpoints(initial="1", md=columns),
            spacing="3",
            width="100%",
        ),
        style={
            "border": "1px solid var(--gray-a6)",
            "borderRadius": "var(--radius-3)",
            "padding": "0.75rem",
            "margin": 0,
            "width": "100%",
            "minWidth": 0,
        },
    )


def mailbox_form() -> rx.Component:
    """Connect a support address: IMAP to read it, SMTP to answer from it.

    Passwords are password inputs and never enter the page's state; they are encrypted when
    stored and never shown again. A refusal keeps what was typed.
    """
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Connect a mailbox", size="4", as_="h2"),
                rx.text(
                    "Passwords are stored encrypted and never shown again. For Gmail or "
                    "Microsoft 365 use an app password.",
                    size="2",
                ),
                error_alert(State.form_error, test_id="mailbox-form-error", width="100%"),
                _fieldset(
                    "Mailbox",
                    _input("name", max_length=100, placeholder="Support"),
                    _input("address", input_type="email", max_length=254, auto_complete="off"),
                    _input("from_name", max_length=100, placeholder="Example Support"),
                    columns="3",
                ),
                _fieldset(
                    "Incoming mail (IMAP)",
                    _input("imap_host", max_length=255, placeholder="imap.example.com"),
                    _input(
                        "imap_port",
                        input_type="number",
                        required=False,
                        min=1,
                        max=65535,
                        placeholder="993",
                    ),
                    _tls_select("imap_tls", "tls"),
                    _input("imap_folder", required=False, max_length=255, placeholder="INBOX"),
                    _input("imap_username", max_length=255, auto_complete="off"),
                    _input(
                        "imap_password",
                        input_type="password",
                        max_length=1000,
                        auto_complete="new-password",
                    ),
                ),
                _fieldset(
                    "Outgoing mail (SMTP)",
                    _input("smtp_host", max_length=255, placeholder="smtp.example.com"),
                    _input(
                        "smtp_port",
                        input_type="number",
                        required=False,
                        min=1,
                        max=65535,
                        placeholder="587",
                    ),
                    _tls_select("smtp_tls", "starttls"),
                    rx.box(),
                    _input(
                        "smtp_username",
                        required=False,
                        hint="(empty: the IMAP login)",
                        max_length=255,
                        auto_complete="off",
                    ),
                    _input(
                        "smtp_password",
                        input_type="password",
                        required=False,
                        hint="(empty: the IMAP password)",
                        max_length=1000,
                        auto_complete="new-password",
                    ),
                    _checkbox("smtp_no_login", "The SMTP server needs no login"),
                ),
                _checkbox(
                    "acknowledge_new", "Acknowledge each new ticket from mail once, with its number"
                ),
                rx.button(
                    rx.icon("plus", size=16, aria_hidden=True),
                    "Connect mailbox",
                    type="submit",
                    loading=State.adding,
                    id="mailbox-submit",
                ),
                spacing="3",
                width="100%",
            ),
            id=MAILBOX_FORM_ID,
            on_submit=State.add_mailbox,
            reset_on_submit=False,
            aria_label="Connect a mailbox",
        ),
        width="100%",
    )


def _health(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.vstack(
        rx.match(
            row["health"],
            ("OK", state_badge("OK", "green", "check")),
            ("Failing", state_badge("Failing", "red", "triangle-alert")),
            ("Paused", state_badge("Paused", "gray", "pause")),
            state_badge(row["health"], "gray", "clock"),
        ),
        rx.text(
            "Last fetch: ",
            rx.cond(
                row["last_fetch_iso"] != "",
                local_time(row["last_fetch_iso"]),
                "never",
            ),
            size="1",
        ),
        rx.cond(
            row["last_error"] != "",
            rx.text("Last error: " + row["last_error"], size="1", style=WRAP),
        ),
        spacing="1",
        data_testid="mailbox-health",
    )


def _mailbox_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.text(row["name"], weight="medium"),
            rx.text(row["address"], size="1", style=WRAP),
            rx.text("Sender name: " + row["from_name"], size="1", style=WRAP),
        ),
        rx.table.cell(rx.text(row["imap"], size="1", style=WRAP)),
        rx.table.cell(rx.text(row["smtp"], size="1", style=WRAP)),
        rx.table.cell(_health(row)),
        rx.table.cell(
            rx.flex(
                rx.button(
                    "Test connection",
                    size="1",
                    variant="soft",
                    on_click=State.test_connection(row["id"]),
                    loading=State.testing == row["id"],
                    aria_label="Test connection of " + row["address"],
                    aria_controls="mailbox-test-result",
                    id="test-mailbox-" + row["id"],
                ),
                rx.button(
                    "Remove",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=State.ask_remove(row["id"]),
                    aria_label="Remove " + row["address"],
                    aria_haspopup="dialog",
                    id="remove-mailbox-" + row["id"],
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        data_testid="mailbox-row",
    )


def _test_result() -> rx.Component:
    """What "Test connection" found, step by step (announced politely as it arrives)."""
    return rx.box(
        rx.cond(
            State.testing != "",
            rx.text("Testing the connection of " + State.tested_name + "…", size="2"),
            rx.cond(
                State.test_rows.length() > 0,
                rx.vstack(
                    rx.text(
                        "Connection test of " + State.tested_name + ":", size="2", weight="bold"
                    ),
                    rx.el.ul(
                        rx.foreach(
                            State.test_rows,
                            lambda step: rx.el.li(
                                rx.hstack(
                                    rx.cond(
                                        step["ok"] == "yes",
                                        state_badge("Passed", "green", "check"),
                                        state_badge("Failed", "red", "x"),
                                    ),
                                    rx.text(step["text"], size="2", style=WRAP),
                                    spacing="2",
                                    align="start",
                                ),
                                data_testid="test-step",
                                data_ok=step["ok"],
                                style={"marginBottom": "0.25rem"},
                            ),
                        ),
                        style=LIST_STYLE,
                    ),
                    spacing="1",
                ),
            ),
        ),
        rx.cond(
            State.test_error != "",
            rx.text(State.test_error, size="2", color_scheme="red", style=WRAP),
        ),
        id="mailbox-test-result",
        role="status",
        aria_live="polite",
        data_testid="mailbox-test-result",
        width="100%",
    )


def mailboxes_table() -> rx.Component:
    """Every connected mailbox with its settings (no password) and fetch health."""
    return rx.card(
        rx.vstack(
            section_heading("Mailboxes", MAILBOXES_HEADING_ID),
            rx.text(
                "Each active mailbox is fetched every 30 seconds or so; a failing one shows "
                "the server's last error here.",
                size="2",
            ),
            error_alert(State.load_error, width="100%"),
            confirm_dialog(
                name="remove-mailbox",
                title="Remove " + State.confirm_label + "?",
                description="Its mail is no longer fetched and replies are no longer sent "
                "from it. The mail it brought stays on its tickets.",
                confirm_text="Remove mailbox",
                is_open=State.confirm_id != "",
                on_open_change=State.remove_dialog_changed,
                on_confirm=State.confirm_remove,
                busy=State.removing,
                fallback_id=MAILBOXES_HEADING_ID,
                test_id="confirm-remove-mailbox",
            ),
            rx.cond(
                State.loaded & (State.mailboxes.length() == 0),
                rx.text("No mailbox is connected yet.", size="2", data_testid="no-mailboxes"),
                rx.table.root(
                    table_headers(
                        "Mailbox", "Incoming (IMAP)", "Outgoing (SMTP)", "Fetch health", ""
                    ),
                    rx.table.body(rx.foreach(State.mailboxes, _mailbox_row)),
                    width="100%",
                ),
            ),
            _test_result(),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )
