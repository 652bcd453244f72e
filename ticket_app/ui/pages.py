"""Pages of the staff console, composed from the components."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.access import (
    account_menu,
    password_link_form,
    setup_form,
    sign_in_form,
)
from ticket_app.ui.components.account import account_page_content
from ticket_app.ui.components.admin import invite_form, new_token_form, staff_table, tokens_table
from ticket_app.ui.components.canned import canned_responses_page_content
from ticket_app.ui.components.dashboard import dashboard
from ticket_app.ui.components.form import ticket_form
from ticket_app.ui.components.mailboxes import mailbox_form, mailboxes_table
from ticket_app.ui.components.nav import side_nav
from ticket_app.ui.components.notifications import (
    notification_bell,
    notification_email_choices,
    notifications_list,
)
from ticket_app.ui.components.quarantine import quarantine_table
from ticket_app.ui.components.requesters import requester_page_content
from ticket_app.ui.components.sla_policies import service_levels_page_content
from ticket_app.ui.components.ticket_page import ticket_page_content
from ticket_app.ui.components.tickets import tickets_section
from ticket_app.ui.state import SessionState

WIDE_INLINE = rx.breakpoints(initial="none", sm="inline")


def _new_ticket_button(**props) -> rx.Component:
    """The link to the new-ticket page, styled as the page's main button."""
    return rx.link(
        rx.button(
            rx.icon("plus", size=16),
            # "New" alone on a phone, so the header keeps to one line.
            rx.el.span("New", rx.el.span(" ticket", display=WIDE_INLINE)),
            tab_index=-1,
            **props,
        ),
        href="/tickets/new",
        id="new-ticket",
        underline="none",
        aria_label="New ticket (n)",
    )


def _header(heading: str, *, new_ticket: bool) -> rx.Component:
    """Name, the new-ticket button (unless `new_ticket` is False) and who is signed in.

    The button sits in the header on a phone too: floating over the page it covered the
    controls under it (issue 25).
    """
    return rx.el.header(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.icon("life-buoy", size=24, color=rx.color("accent", 11), aria_hidden=True),
                    rx.heading(heading, size=rx.breakpoints(initial="4", sm="5"), as_="h1"),
                    align="center",
                ),
                href="/",
                underline="none",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.cond(SessionState.can_edit, _new_ticket_button()) if new_ticket else rx.fragment(),
            rx.spacer(),
            rx.cond(SessionState.signed_in, notification_bell()),
            rx.cond(SessionState.signed_in, account_menu()),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        margin_bottom="0.75rem",
    )


def page_frame(
    *content: rx.Component, heading: str = "Triage Desk", new_ticket: bool = True
) -> rx.Component:
    """The console's frame: header, the views navigation, and `content` as the main area.

    Every signed-in page uses it (the ticket page too), so the views and their counts are
    one click away everywhere. `new_ticket=False` leaves out the "New ticket" button (on the
    new-ticket page itself).
    """
    return rx.box(
        _header(heading, new_ticket=new_ticket),
        rx.flex(
            side_nav(),
            rx.el.main(*content, style={"flex": "1", "minWidth": "0"}),
            direction=rx.breakpoints(initial="column", md="row"),
            spacing=rx.breakpoints(initial="2", md="5"),
            width="100%",
        ),
        padding=rx.breakpoints(initial="0.75rem", md="1.25rem"),
        max_width="1600px",
        margin_x="auto",
    )


def console() -> rx.Component:
    """The queue: the ticket list owns the main area."""
    return page_frame(tickets_section())


def new_ticket_page() -> rx.Component:
    """The new-ticket form on a page of its own (agents and admins)."""
    return page_frame(rx.box(ticket_form(), max_width="48rem"), new_ticket=False)


def dashboard_page() -> rx.Component:
    """Stats for the list's filters."""
    return page_frame(dashboard())


def ticket_page() -> rx.Component:
    """One ticket at /tickets/{id}: its page content inside the console's frame."""
    return page_frame(ticket_page_content())


def sign_in_page() -> rx.Component:
    """Sign-in."""
    return rx.el.main(sign_in_form())


def setup_page() -> rx.Component:
    """The one-time first-admin page."""
    return rx.el.main(setup_form())


def password_link_page() -> rx.Component:
    """An invitation or reset link (`/invite/<token>`, `/reset/<token>`): set a password."""
    return rx.el.main(password_link_form())


def account_page() -> rx.Component:
    """My account: one's password and signed-in sessions, at /account."""
    return page_frame(account_page_content())


def staff_page() -> rx.Component:
    """Admins: the staff list and new accounts."""
    return page_frame(rx.vstack(invite_form(), staff_table(), spacing="4", width="100%"))


def tokens_page() -> rx.Component:
    """Personal API tokens (admins see everyone's)."""
    return page_frame(rx.vstack(new_token_form(), tokens_table(), spacing="4", width="100%"))


def mailboxes_page() -> rx.Component:
    """Admins: connected mailboxes with their fetch health, and a new one."""
    return page_frame(rx.vstack(mailboxes_table(), mailbox_form(), spacing="4", width="100%"))


def quarantine_page() -> rx.Component:
    """Admins: mail that could not be taken in."""
    return page_frame(quarantine_table())


def notifications_page() -> rx.Component:
    """What the signed-in person was told, newest first, at /notifications."""
    return page_frame(rx.vstack(notifications_list(), notification_email_choices(), spacing="4"))


def canned_responses_page() -> rx.Component:
    """Canned responses: one's own and the shared ones, kept at /canned-responses."""
    return page_frame(canned_responses_page_content())


def service_levels_page() -> rx.Component:
    """Service levels: SLA policies and business calendars, at /service-levels."""
    return page_frame(service_levels_page_content())


def requester_page() -> rx.Component:
    """A requester and their tickets, at /requesters/{id}."""
    return page_frame(requester_page_content())
