"""The quarantine: mail held because it could not be taken in, to retry or discard.

Subjects, senders and reasons are hostile input, rendered as text only; the held message is a
download link (`document_link`), never shown in the page.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    PRE_WRAP,
    confirm_dialog,
    document_link,
    error_alert,
    local_time,
    section_heading,
    table_headers,
)
from ticket_app.ui.components.mail import PAGE_LINK, WRAP
from ticket_app.ui.state.mail import QUARANTINE_HEADING_ID, QuarantineState


def _quarantine_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    busy = QuarantineState.busy == row["id"]
    return rx.table.row(
        rx.table.cell(rx.text(local_time(row["received_iso"]), size="1")),
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
            section_heading("Quarantine", QUARANTINE_HEADING_ID),
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
                    table_headers("Received", "Message", "Reason", ""),
                    rx.table.body(rx.foreach(QuarantineState.entries, _quarantine_row)),
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )
