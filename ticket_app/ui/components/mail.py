"""The e-mail channel in the console: mail on the ticket page, mailboxes, quarantine, requesters.

Mail is hostile input: subjects, senders, bodies, file names and server errors are rendered as
text only, never as HTML. Files and raw messages are plain links to the API's download routes
(`document_link`), which check the session cookie and answer with `Content-Disposition:
attachment` and `nosniff`, so the browser saves them instead of showing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from ticket_app.ui.components.common import (
    FIELD_STYLE,
    document_link,
    error_alert,
    screen_reader_text,
)
from ticket_app.ui.components.keyboard import remember_opener, return_focus
from ticket_app.ui.logic.mail import FIELD_LABELS, TLS_CHOICES
from ticket_app.ui.state.mail import (
    FAILED,
    MAILBOX_FORM_ID,
    MAILBOXES_HEADING_ID,
    NOT_FOUND,
    QUARANTINE_HEADING_ID,
    READY,
    MailboxesState,
    QuarantineState,
    RequesterState,
)
from ticket_app.ui.state.session import SessionState

WRAP = {"overflowWrap": "anywhere"}
PRE_WRAP = {"whiteSpace": "pre-wrap", "overflowWrap": "anywhere"}
# Links inside a message's tinted box: the scale's darkest step, always underlined, so they pass
# 4.5:1 on the tint in light and dark themes and do not rely on colour alone.
MESSAGE_LINK = {
    "color": "var(--accent-12)",
    "textDecoration": "underline",
    "fontSize": "var(--font-size-1)",
    "overflowWrap": "anywhere",
}
PAGE_LINK = {
    "color": "var(--accent-11)",
    "textDecoration": "underline",
    "overflowWrap": "anywhere",
}
LIST_STYLE = {"listStyle": "none", "padding": 0, "margin": 0}


def _badge(text: Any, color: str, icon: str, **props) -> rx.Component:
    return rx.badge(
        rx.icon(icon, size=12, aria_hidden=True),
        text,
        color_scheme=color,
        variant="soft",
        high_contrast=True,
        **props,
    )


# The ticket page -------------------------------------------------------------------------


def channel_badge(row: rx.Var[dict[str, str]]) -> rx.Component:
    """How a comment arrived or was written: E-mail, Console or API."""
    return rx.badge(
        screen_reader_text("Channel: "),
        rx.match(
            row["channel"],
            ("email", rx.icon("mail", size=12, aria_hidden=True)),
            ("api", rx.icon("code", size=12, aria_hidden=True)),
            rx.icon("monitor", size=12, aria_hidden=True),
        ),
        row["channel_label"],
        color_scheme="gray",
        variant="surface",
        high_contrast=True,
        data_testid="comment-channel",
        data_channel=row["channel"],
    )


def delivery_line(
    row: rx.Var[dict[str, str]], *, resending: rx.Var[str], on_resend: Callable[[Any], Any]
) -> rx.Component:
    """An outbound reply's mail: queued, sending, sent or failed (with the server's words).

    A failed one offers "Resend e-mail" to agents and admins. The line can take focus (it
    gets it after a resend, when the button it replaced is gone).
    """
    failed = row["delivery"] == "failed"
    return rx.flex(
        rx.text(
            rx.match(
                row["delivery"],
                ("failed", _badge("Failed", "red", "triangle-alert")),
                ("sent", _badge("Sent", "green", "check")),
                ("sending", _badge("Sending", "blue", "send")),
                _badge("Queued", "gray", "clock"),
            ),
            " ",
            row["delivery_text"],
            id="delivery-" + row["comment_id"],
            tab_index=-1,
            size="1",
            style={**WRAP, "outline": "none"},
            data_testid="delivery-state",
            data_delivery=row["delivery"],
        ),
        rx.cond(
            failed & SessionState.can_edit,
            rx.button(
                rx.icon("rotate-cw", size=12, aria_hidden=True),
                "Resend e-mail",
                on_click=on_resend(row["comment_id"]),
                loading=resending == row["comment_id"],
                size="1",
                variant="soft",
                high_contrast=True,
                id="resend-" + row["comment_id"],
                data_testid="resend-mail",
            ),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        margin_top="0.25rem",
    )


def _file_item(file: rx.Var[dict[str, str]], link_style: dict) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.icon("paperclip", size=12, aria_hidden=True, flex_shrink="0"),
            rx.text(
                document_link(file["name"], href=file["url"], style=link_style),
                " (" + file["size"] + ", " + file["type"] + ")",
                size="1",
            ),
            spacing="1",
            align="center",
        ),
        data_testid="file",
    )


def file_list(
    files: rx.Var[list[dict[str, str]]], label: str, test_id: str, *, on_tint: bool = True
) -> rx.Component:
    """Files as download links with their size and type (`label` names the list)."""
    link_style = MESSAGE_LINK if on_tint else PAGE_LINK
    return rx.box(
        rx.text(label, size="1", weight="medium"),
        rx.el.ul(
            rx.foreach(files, lambda file: _file_item(file, link_style)),
            aria_label=label,
            style=LIST_STYLE,
        ),
        margin_top="0.25rem",
        data_testid=test_id,
    )


def raw_mail_link(url: rx.Var[str]) -> rx.Component:
    """The link that downloads the message exactly as received or sent."""
    return rx.text(
        document_link("View original (.eml)", href=url, style=MESSAGE_LINK),
        size="1",
        margin_top="0.25rem",
        data_testid="raw-mail",
    )


def _requester_ticket(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.link(
            "#" + row["id"] + " " + row["title"],
            href="/tickets/" + row["id"],
            size="2",
            style=WRAP,
        ),
        rx.text(row["status_label"] + " · " + row["created"], size="1", color_scheme="gray"),
        style={"marginBottom": "0.5rem"},
        data_testid="requester-ticket",
    )


def requester_panel(
    requester_id: rx.Var[str], count: rx.Var[str], others: rx.Var[list[dict[str, str]]]
) -> rx.Component:
    """The requester's other tickets beside a ticket, and a link to all of them."""
    return rx.cond(
        requester_id != "",
        rx.card(
            rx.vstack(
                rx.heading(
                    "The requester's other tickets",
                    id="requester-tickets-heading",
                    size="3",
                    as_="h3",
                ),
                rx.cond(
                    others.length() > 0,
                    rx.el.ul(
                        rx.foreach(others, _requester_ticket),
                        aria_labelledby="requester-tickets-heading",
                        style={**LIST_STYLE, "width": "100%"},
                    ),
                    rx.text("None: this is their only ticket.", size="2"),
                ),
                rx.link(
                    "All tickets of this requester (" + count + ")",
                    href="/requesters/" + requester_id,
                    size="2",
                    data_testid="requester-link",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            data_testid="requester-panel",
        ),
    )


# Shared by the admin pages ---------------------------------------------------------------


def confirm_dialog(
    *,
    name: str,
    title: rx.Var[str],
    description: str,
    confirm_text: str,
    is_open: rx.Var[bool],
    on_open_change: Any,
    on_confirm: Any,
    busy: rx.Var[bool],
    fallback_id: str,
    test_id: str,
) -> rx.Component:
    """A destructive action's confirmation, opened from state (no trigger).

    Cancel has focus when it opens, so Enter alone never confirms; when it closes, focus goes
    back to the button that opened it, or to `fallback_id` when that button is gone.
    """
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button("Cancel", variant="soft", color_scheme="gray", disabled=busy)
                ),
                rx.button(
                    confirm_text,
                    color_scheme="red",
                    high_contrast=True,
                    on_click=on_confirm,
                    loading=busy,
                    data_testid=test_id,
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="28rem",
            on_open_auto_focus=remember_opener(name),
            on_close_auto_focus=return_focus(name, fallback_id),
        ),
        open=is_open,
        on_open_change=on_open_change,
    )


def _section_heading(text: str, heading_id: str) -> rx.Component:
    return rx.heading(
        text, size="4", as_="h2", id=heading_id, tab_index=-1, style={"outline": "none"}
    )


def _headers(*names: str) -> rx.Component:
    return rx.table.header(
        rx.table.row(
            *(rx.table.column_header_cell(name or screen_reader_text("Actions")) for name in names)
        )
    )


# Mailboxes -------------------------------------------------------------------------------

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
            ("OK", _badge("OK", "green", "check")),
            ("Failing", _badge("Failing", "red", "triangle-alert")),
            ("Paused", _badge("Paused", "gray", "pause")),
            _badge(row["health"], "gray", "clock"),
        ),
        rx.text(
            "Last fetch: ",
            rx.cond(
                row["last_fetch_iso"] != "",
                rx.el.time(row["last_fetch"], date_time=row["last_fetch_iso"]),
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
                                        _badge("Passed", "green", "check"),
                                        _badge("Failed", "red", "x"),
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
            _section_heading("Mailboxes", MAILBOXES_HEADING_ID),
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
                    _headers("Mailbox", "Incoming (IMAP)", "Outgoing (SMTP)", "Fetch health", ""),
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


# Quarantine ------------------------------------------------------------------------------


def _quarantine_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    busy = QuarantineState.busy == row["id"]
    return rx.table.row(
        rx.table.cell(
            rx.text(rx.el.time(row["received"], date_time=row["received_iso"]), size="1")
        ),
        rx.table.row_header_cell(
            rx.text(row["subject"], weight="medium", size="2", style=WRAP),
            rx.text(row["sender"], size="1", style=WRAP),
        ),
        rx.table.cell(rx.text(row["reason"], size="1", style=PRE_WRAP)),
        rx.table.cell(
            rx.flex(
                rx.text(
                    document_link(
                        "Download .eml",
                        href=row["raw_url"],
                        style=PAGE_LINK,
                        aria_label="Download .eml of " + row["subject"],
                    ),
                    " (" + row["size"] + ")",
                    size="1",
                ),
                rx.flex(
                    rx.button(
                        "Retry",
                        size="1",
                        variant="soft",
                        on_click=QuarantineState.retry(row["id"]),
                        loading=busy,
                        aria_label="Retry " + row["subject"],
                        id="retry-" + row["id"],
                    ),
                    rx.button(
                        "Discard",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=QuarantineState.ask_discard(row["id"]),
                        disabled=busy,
                        aria_label="Discard " + row["subject"],
                        aria_haspopup="dialog",
                        id="discard-" + row["id"],
                    ),
                    spacing="2",
                ),
                direction="column",
                spacing="2",
            )
        ),
        data_testid="quarantine-row",
    )


def quarantine_table() -> rx.Component:
    """Mail held because it could not be taken in, newest first, with the reason."""
    return rx.card(
        rx.vstack(
            _section_heading("Quarantine", QUARANTINE_HEADING_ID),
            rx.text(
                "Messages that could not become a ticket or a reply. Retry takes one in again "
                "(the sender's hourly limit does not apply); Discard keeps its file for the "
                "record but no longer lists it.",
                size="2",
            ),
            error_alert(QuarantineState.load_error, width="100%"),
            confirm_dialog(
                name="discard-mail",
                title="Discard " + QuarantineState.confirm_label + "?",
                description="It will no longer be listed here or taken in.",
                confirm_text="Discard message",
                is_open=QuarantineState.confirm_id != "",
                on_open_change=QuarantineState.discard_dialog_changed,
                on_confirm=QuarantineState.confirm_discard,
                busy=QuarantineState.busy != "",
                fallback_id=QUARANTINE_HEADING_ID,
                test_id="confirm-discard",
            ),
            rx.cond(
                QuarantineState.loaded & (QuarantineState.entries.length() == 0),
                rx.text("No mail is held.", size="2", data_testid="no-quarantine"),
                rx.table.root(
                    _headers("Received", "Message", "Reason", ""),
                    rx.table.body(rx.foreach(QuarantineState.entries, _quarantine_row)),
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# Requesters ------------------------------------------------------------------------------


def _requester_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link("#" + row["id"] + " " + row["title"], href="/tickets/" + row["id"], style=WRAP)
        ),
        rx.table.cell(row["status_label"]),
        rx.table.cell(row["priority_label"]),
        rx.table.cell(rx.el.time(row["created"], date_time=row["created_iso"])),
        data_testid="requester-ticket-row",
    )


def _requester_view() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(
                RequesterState.label,
                as_="h2",
                size="5",
                id="requester-heading",
                tab_index=-1,
                style={**WRAP, "outline": "none"},
            ),
            rx.text("Requester · " + RequesterState.count_text, size="2"),
            rx.table.root(
                _headers("Ticket", "Status", "Priority", "Created"),
                rx.table.body(rx.foreach(RequesterState.tickets, _requester_row)),
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def requester_page_content() -> rx.Component:
    """A requester and their tickets, whatever state the page is in."""
    return rx.match(
        RequesterState.page,
        (READY, _requester_view()),
        (
            NOT_FOUND,
            rx.vstack(
                rx.heading(
                    "Requester not found", as_="h2", size="5", data_testid="requester-not-found"
                ),
                rx.link("Go to the ticket list", href="/"),
                padding="2rem 0",
            ),
        ),
        (
            FAILED,
            error_alert(
                RequesterState.load_error,
                rx.button("Try again", on_click=RequesterState.retry, size="1", variant="soft"),
            ),
        ),
        rx.skeleton(rx.box(height="8rem", width="100%"), loading=True),
    )
