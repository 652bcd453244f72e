"""Requesters in the console: their other tickets beside a ticket, and the requester's page."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import error_alert, local_time, table_headers
from ticket_app.ui.components.mail import LIST_STYLE, WRAP
from ticket_app.ui.state.mail import FAILED, NOT_FOUND, READY, RequesterState


def _requester_ticket(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.link(
            "#" + row["id"] + " " + row["title"],
            href="/tickets/" + row["id"],
            size="2",
            style=WRAP,
        ),
        rx.text(
            row["status_label"] + " · ",
            local_time(row["created_iso"]),
            size="1",
            color_scheme="gray",
        ),
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


def _requester_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link("#" + row["id"] + " " + row["title"], href="/tickets/" + row["id"], style=WRAP)
        ),
        rx.table.cell(row["status_label"]),
        rx.table.cell(row["priority_label"]),
        rx.table.cell(local_time(row["created_iso"])),
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
                table_headers("Ticket", "Status", "Priority", "Created"),
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
