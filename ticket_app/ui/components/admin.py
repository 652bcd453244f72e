"""The staff page (admins) and the API tokens page."""

from __future__ import annotations

import reflex as rx

from ticket_app.enums import Role
from ticket_app.ui.components.common import (
    field_label,
    local_time,
    native_select,
    screen_reader_text,
)
from ticket_app.ui.safe_events import toast_success
from ticket_app.ui.state.admin import StaffState, TokensState
from ticket_app.ui.state.session import SessionState

ROLES = [role.value for role in Role]


# Each control has a `name` (its key in the submitted form data; Reflex 0.11 drops `id` keys).
PHONE_MEDIA = "@media (max-width: 767px)"
CARDS_ON_PHONE = {
    # Below the tablet breakpoint (48em) each row is a card of "label: value" lines, so the
    # row's buttons stay inside a 340 px column instead of off screen to the right.
    PHONE_MEDIA: {
        "& table, & tbody, & tr, & td": {"display": "block", "width": "100%"},
        # Radix gives the table `height: 0` (a table grows to its rows; a block does not).
        "& table": {"height": "auto"},
        "& thead": {"display": "none"},
        "& tr": {"padding": "var(--space-2) 0", "borderBottom": "1px solid var(--gray-a6)"},
        "& td": {"boxShadow": "none", "padding": "var(--space-1) var(--space-2)"},
        "& td[data-label]::before": {
            "content": "attr(data-label) ': '",
            "fontWeight": "600",
        },
    },
}


def _text_input(label: str, field_id: str, name: str, value, on_change, input_type: str = "text"):
    return rx.vstack(
        field_label(label, field_id),
        rx.input(
            id=field_id, name=name, value=value, on_change=on_change, type=input_type, width="100%"
        ),
        spacing="1",
        width="100%",
    )


def _select(label: str, field_id: str, name: str, value, on_change, items: list[tuple[str, str]]):
    return rx.vstack(
        field_label(label, field_id),
        native_select(items, value=value, on_change=on_change, id=field_id, name=name),
        spacing="1",
        width="100%",
    )


def issued_link_callout() -> rx.Component:
    """The invitation or reset link just made, shown once with a copy button.

    It says first whether the link was e-mailed to the person (green), or why not and that the
    admin must pass it on (amber).
    """
    return rx.cond(
        StaffState.issued_link != "",
        rx.callout(
            rx.vstack(
                rx.text(
                    StaffState.issued_mail,
                    data_testid="issued-mail",
                    size="2",
                    weight="medium",
                ),
                rx.text(
                    StaffState.issued_note,
                    ". It works once and is not shown again:",
                    size="2",
                ),
                rx.code(
                    StaffState.issued_link,
                    data_testid="issued-link",
                    size="2",
                    style={"wordBreak": "break-all"},
                ),
                rx.hstack(
                    rx.button(
                        rx.icon("copy", size=14, aria_hidden=True),
                        "Copy link",
                        size="1",
                        on_click=[
                            rx.set_clipboard(StaffState.issued_link),
                            toast_success("Link copied."),
                        ],
                    ),
                    rx.button("Done", size="1", variant="soft", on_click=StaffState.dismiss_link),
                    spacing="2",
                ),
                spacing="2",
            ),
            color_scheme=rx.cond(StaffState.issued_emailed, "green", "amber"),
            role="status",
            width="100%",
        ),
    )


def invite_form() -> rx.Component:
    """Invite someone (email, name, role): their account and a one-time link to set a password."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Invite a staff member", size="4", as_="h2"),
                rx.text(
                    "They get a one-time link to choose their own password, by e-mail when a "
                    "mailbox is connected. It is also shown here once, to pass on if needed.",
                    size="2",
                ),
                rx.grid(
                    _text_input(
                        "Email",
                        "new-email",
                        "email",
                        StaffState.new_email,
                        StaffState.set_new_email,
                        "email",
                    ),
                    _text_input(
                        "Name", "new-name", "name", StaffState.new_name, StaffState.set_new_name
                    ),
                    _select(
                        "Role",
                        "new-role",
                        "role",
                        StaffState.new_role,
                        StaffState.set_new_role,
                        [(r, r.capitalize()) for r in ROLES],
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Invite", type="submit"),
                issued_link_callout(),
                spacing="3",
                width="100%",
            ),
            on_submit=StaffState.invite,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _user_row(user: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(user["name"], size="2"),
                rx.cond(
                    user["invited"] != "",
                    rx.badge(
                        "Invited",
                        color_scheme="amber",
                        variant="soft",
                        high_contrast=True,
                        title="Invited; has not set a password yet",
                        data_testid="invited-label",
                    ),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            data_label="Name",
        ),
        rx.table.cell(user["email"], data_label="Email", overflow_wrap="anywhere"),
        rx.table.cell(
            native_select(
                [(r, r.capitalize()) for r in ROLES],
                value=user["role"],
                on_change=lambda role: StaffState.change_role(user["email"], role),
                aria_label="Role of " + user["email"],
                style={"width": "auto"},
            ),
            data_label="Role",
        ),
        rx.table.cell(user["active"], data_label="Active"),
        rx.table.cell(_local_or_never(user["last_login_iso"]), data_label="Last sign-in"),
        rx.table.cell(
            rx.cond(
                user["email"] == SessionState.user_email,
                rx.text("You", size="1", color_scheme="gray"),
                rx.cond(
                    user["active"] == "yes",
                    rx.hstack(
                        rx.button(
                            "Reset link",
                            size="1",
                            variant="soft",
                            on_click=StaffState.reset_link(user["id"]),
                            aria_label="Reset link for " + user["email"],
                        ),
                        rx.button(
                            "Deactivate",
                            size="1",
                            variant="soft",
                            color_scheme="red",
                            on_click=StaffState.ask_deactivate(user["email"]),
                            aria_label="Deactivate " + user["email"],
                            aria_haspopup="dialog",
                            id="deactivate-" + user["id"],  # StaffState: toggle_id(...)
                        ),
                        spacing="2",
                    ),
                    rx.button(
                        "Reactivate",
                        size="1",
                        variant="soft",
                        on_click=StaffState.set_active(user["email"], True),
                        aria_label="Reactivate " + user["email"],
                        id="reactivate-" + user["id"],
                    ),
                ),
            )
        ),
        data_testid="staff-row",
    )


def deactivate_dialog() -> rx.Component:
    """Confirm deactivating the person whose "Deactivate" was pressed, naming them.

    Cancel has focus when it opens, so Enter alone never deactivates. There is no trigger to
    hand focus back to: when it has closed, `StaffState.return_focus` focuses that person's row.
    """
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Deactivate " + StaffState.confirm_label + "?"),
            rx.alert_dialog.description(
                "Their sessions and API tokens stop working at once.", size="2"
            ),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Cancel",
                        variant="soft",
                        color_scheme="gray",
                        disabled=StaffState.deactivating,
                    )
                ),
                rx.button(
                    "Deactivate",
                    color_scheme="red",
                    # Solid red with white text measures 3.9:1; the high-contrast shade passes
                    # AA in light and dark.
                    high_contrast=True,
                    on_click=StaffState.confirm_deactivate,
                    loading=StaffState.deactivating,
                    data_testid="confirm-deactivate",
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="28rem",
            on_close_auto_focus=StaffState.return_focus,
        ),
        open=StaffState.confirm_email != "",
        on_open_change=StaffState.confirm_dialog_changed,
    )


def staff_table() -> rx.Component:
    """Every staff account with its role, state and last sign-in."""
    return rx.card(
        rx.vstack(
            rx.heading("Staff", size="4", as_="h2"),
            deactivate_dialog(),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *(
                            rx.table.column_header_cell(name or screen_reader_text("Actions"))
                            for name in ("Name", "Email", "Role", "Active", "Last sign-in", "")
                        )
                    )
                ),
                rx.table.body(rx.foreach(StaffState.users, _user_row)),
                width="100%",
                style=CARDS_ON_PHONE,
            ),
            width="100%",
        ),
        width="100%",
    )


def new_token_form() -> rx.Component:
    """Name, scopes and expiry of a new personal token; the secret appears once."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New API token", size="4", as_="h2"),
                rx.text(
                    "Scripts send it as Authorization: Bearer <token>. It acts with your role.",
                    size="2",
                ),
                rx.grid(
                    _text_input(
                        "Name", "token-name", "name", TokensState.new_name, TokensState.set_new_name
                    ),
                    _select(
                        "Scopes",
                        "token-scopes",
                        "scopes",
                        TokensState.new_scope,
                        TokensState.set_new_scope,
                        [
                            ("read_write", "Read and write tickets"),
                            ("read", "Read tickets only"),
                            ("write", "Write tickets only"),
                        ],
                    ),
                    _select(
                        "Expires",
                        "token-expiry",
                        "expiry",
                        TokensState.new_expiry,
                        TokensState.set_new_expiry,
                        [
                            ("30", "In 30 days"),
                            ("90", "In 90 days"),
                            ("365", "In a year"),
                            ("never", "Never"),
                        ],
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Create token", type="submit"),
                rx.cond(
                    TokensState.created_secret != "",
                    rx.callout(
                        rx.vstack(
                            rx.text("Copy this token now; it will not be shown again:", size="2"),
                            rx.code(TokensState.created_secret, data_testid="new-token", size="2"),
                            rx.hstack(
                                rx.button(
                                    rx.icon("copy", size=14, aria_hidden="true"),
                                    "Copy token",
                                    size="1",
                                    type="button",
                                    on_click=[
                                        rx.set_clipboard(TokensState.created_secret),
                                        toast_success("Token copied to the clipboard."),
                                    ],
                                    data_testid="copy-token",
                                ),
                                rx.button(
                                    "Done",
                                    size="1",
                                    variant="soft",
                                    type="button",
                                    on_click=TokensState.dismiss_secret,
                                ),
                                spacing="2",
                            ),
                        ),
                        color_scheme="green",
                        role="status",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=TokensState.create,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _local_or_never(iso: rx.Var[str]) -> rx.Component:
    """A time in the viewer's zone (UTC on hover), or "never"."""
    return rx.cond(iso != "", local_time(iso), rx.text("never", as_="span"))


def _token_row(token: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(token["name"], data_label="Name"),
        rx.table.cell(token["owner"], data_label="Owner", overflow_wrap="anywhere"),
        rx.table.cell(rx.code(token["prefix"]), data_label="Prefix"),
        rx.table.cell(token["scopes"], data_label="Scopes"),
        rx.table.cell(token["expires"], data_label="Expires"),
        rx.table.cell(_local_or_never(token["last_used_iso"]), data_label="Last used"),
        rx.table.cell(token["state"], data_label="State"),
        rx.table.cell(
            rx.cond(
                token["state"] == "active",
                rx.button(
                    "Revoke",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=TokensState.revoke(token["id"]),
                    aria_label="Revoke token " + token["name"],
                ),
            )
        ),
        data_testid="token-row",
    )


def tokens_table() -> rx.Component:
    """Tokens with their prefix, scopes, expiry and last use; never the secret."""
    headers = ("Name", "Owner", "Prefix", "Scopes", "Expires", "Last used", "State", "")
    return rx.card(
        rx.vstack(
            rx.heading("Tokens", size="4", as_="h2"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *(
                            rx.table.column_header_cell(name or screen_reader_text("Actions"))
                            for name in headers
                        )
                    )
                ),
                rx.table.body(rx.foreach(TokensState.tokens, _token_row)),
                width="100%",
                style=CARDS_ON_PHONE,
            ),
            width="100%",
        ),
        width="100%",
    )
