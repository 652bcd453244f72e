"""Duplicates on the ticket page: merged tickets' links, similar tickets, the merge dialog.

A merged ticket links to the one it was merged into and the kept one lists its duplicates;
similar open tickets each offer "Merge into #N", confirmed in a dialog, when they are similar
enough to be likely duplicates (`triage.similarity.MERGE_MIN_SCORE`); less similar ones are
marked "Related" only.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import error_alert
from ticket_app.ui.components.keyboard import remember_opener, return_focus
from ticket_app.ui.components.ticket_fields import SECTION_HEADING
from ticket_app.ui.state import SessionState
from ticket_app.ui.state.ticket_page import TicketPageState

State = TicketPageState


def duplicate_links() -> rx.Component:
    """The "Duplicate of #N" link on a merged ticket, "Duplicates: #M, …" on the kept one."""
    duplicate_of = State.fields["duplicate_of"]
    return rx.fragment(
        rx.cond(
            duplicate_of != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("copy", aria_hidden=True)),
                rx.callout.text(
                    "Duplicate of ",
                    rx.link(
                        "#" + duplicate_of,
                        href="/tickets/" + duplicate_of,
                        data_testid="duplicate-of-link",
                        underline="always",
                        weight="medium",
                    ),
                    " (closed when it was merged).",
                ),
                color_scheme="gray",
                data_testid="duplicate-of",
                width="100%",
            ),
        ),
        rx.cond(
            State.duplicates.length() > 0,
            rx.text(
                "Duplicates: ",
                rx.foreach(
                    State.duplicates,
                    lambda ticket_id: rx.link(
                        "#" + ticket_id,
                        href="/tickets/" + ticket_id,
                        data_testid="duplicate-link",
                        underline="always",
                        margin_right="0.5rem",
                    ),
                ),
                size="2",
                data_testid="duplicates",
            ),
        ),
    )


def _similar_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    """A similar ticket: link, status, score, and "Merge into #N" or "Related".

    Agents and admins get "Merge into #N" from the merge threshold up; below it, "Related".
    """
    return rx.el.li(
        rx.vstack(
            rx.link(
                "#" + row["id"] + " " + row["title"],
                href="/tickets/" + row["id"],
                data_testid="similar-link",
                size="2",
                weight="medium",
                style={"overflowWrap": "anywhere"},
            ),
            rx.flex(
                rx.text(row["status_label"], size="1"),
                rx.text("·", size="1", aria_hidden=True),
                rx.text(row["score"] + " similar", size="1", data_testid="similar-score"),
                rx.spacer(),
                rx.cond(
                    row["mergeable"] == "",
                    rx.badge(
                        "Related",
                        color_scheme="gray",
                        variant="soft",
                        title="Not similar enough to suggest a merge",
                        data_testid="similar-related",
                    ),
                ),
                rx.cond(
                    SessionState.can_edit
                    & (State.fields["duplicate_of"] == "")
                    & (row["mergeable"] != ""),
                    rx.button(
                        "Merge into #" + row["id"],
                        on_click=State.ask_merge(row["id"]),
                        size="1",
                        variant="soft",
                        aria_haspopup="dialog",
                        id="merge-into-" + row["id"],
                        data_testid="merge-button",
                    ),
                ),
                spacing="2",
                align="center",
                width="100%",
                wrap="wrap",
            ),
            spacing="1",
            width="100%",
        ),
        data_testid="similar-ticket",
        data_ticket_id=row["id"],
        style={"marginBottom": "0.75rem"},
    )


def similar_section() -> rx.Component:
    """Up to five similar open tickets with their scores; merge refusals show as an alert."""
    return rx.card(
        rx.vstack(
            rx.heading("Similar open tickets", id="similar-heading", **SECTION_HEADING),
            error_alert(State.merge_error, test_id="merge-error", width="100%"),
            rx.cond(
                State.similar.length() > 0,
                rx.el.ul(
                    rx.foreach(State.similar, _similar_row),
                    aria_labelledby="similar-heading",
                    style={"listStyle": "none", "padding": 0, "margin": 0, "width": "100%"},
                ),
                rx.text("None found.", size="2", data_testid="no-similar"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid="similar-section",
    )


def merge_dialog() -> rx.Component:
    """Confirm merging this ticket into the chosen one, naming both.

    Opened from state (no trigger), by the row's "Merge into #N". Cancel has focus when it opens
    (Radix's alert dialog focuses its `cancel`), so Enter alone never merges, and Tab stays
    inside. When it closes, focus goes back to that "Merge into #N" button; after a merge that
    button is gone, and the ticket's heading (followed by the "Duplicate of" banner) gets it.
    """
    this = "#" + State.fields["id"] + " (" + State.fields["title"] + ")"
    into = "#" + State.merge_into + " (" + State.merge_into_title + ")"
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                "Merge #" + State.fields["id"] + " into #" + State.merge_into + "?"
            ),
            rx.alert_dialog.description(
                "Ticket " + this + " will be closed as a duplicate of " + into + ". Its "
                "requester follows the conversation of #" + State.merge_into + ".",
                size="2",
            ),
            rx.flex(
                # No on_click here: Reflex would wrap the button in a <div>, which Radix would
                # then try to focus. Cancel closes through on_open_change (merge_dialog_changed).
                rx.alert_dialog.cancel(
                    rx.button(
                        "Cancel",
                        variant="soft",
                        color_scheme="gray",
                        disabled=State.merging,
                    ),
                ),
                rx.button(
                    "Merge into #" + State.merge_into,
                    on_click=State.confirm_merge,
                    loading=State.merging,
                    data_testid="confirm-merge",
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            on_open_auto_focus=remember_opener("merge"),
            on_close_auto_focus=return_focus("merge", "ticket-heading"),
        ),
        open=State.merge_into != "",
        on_open_change=State.merge_dialog_changed,
    )
