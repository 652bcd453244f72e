"""The page of one ticket, laid out: the back link, the ticket's head, conversation and details.

Conversation first: the customer's message, the replies, notes and changes, and the composer
under the newest; the properties in a side panel (below the conversation on phones). The parts
have their own modules: `ticket_fields` (the details panel with the triage reading, the Edit
dialog, the save feedback and the conflict warning), `ticket_duplicates` (duplicate links,
similar open tickets, the merge dialog) and `ticket_conversation` (conversation and composer).
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import error_alert
from ticket_app.ui.components.followers import followers_panel
from ticket_app.ui.components.requesters import requester_panel
from ticket_app.ui.components.ticket_conversation import composer, timeline
from ticket_app.ui.components.ticket_duplicates import (
    duplicate_links,
    merge_dialog,
    similar_section,
)
from ticket_app.ui.components.ticket_fields import (
    conflict_warning,
    details_panel,
    edit_button,
    edit_dialog,
    save_feedback,
)
from ticket_app.ui.logic.ticket_page import FAILED, NOT_FOUND, READY
from ticket_app.ui.state import SessionState
from ticket_app.ui.state.ticket_page import TicketPageState

State = TicketPageState

# Esc and "Back to list" go back in the browser's history when the page before was the list, so
# it comes back with its filters and scroll position; otherwise the link is followed to the
# list. The Navigation API tells what the previous entry was; without it the link is followed.
# Esc is left alone while typing, in menus and in dialogs (Esc closes those first).
BACK_NAVIGATION_HOOK = """
useEffect(() => {
    const previousIsList = () => {
        const nav = window.navigation;
        if (!nav || !nav.currentEntry || nav.currentEntry.index < 1) return false;
        const previous = nav.entries()[nav.currentEntry.index - 1];
        return Boolean(previous && previous.url) && new URL(previous.url).pathname === '/';
    };
    const onClick = (event) => {
        const link = event.target.closest ? event.target.closest('#back-to-list') : null;
        if (!link || event.button !== 0) return;
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        if (previousIsList()) {
            event.preventDefault();
            event.stopPropagation();
            window.history.back();
        }
    };
    const onKeyDown = (event) => {
        if (event.key !== 'Escape' || event.defaultPrevented) return;
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        const typing = 'input:not([type=radio]):not([type=checkbox]), textarea, '
            + '[contenteditable=""], [contenteditable="true"], [role=menu], [role=listbox]';
        if (event.target.closest && event.target.closest(typing)) return;
        if (document.querySelector('[role=dialog], [role=alertdialog]')) return;
        const link = document.getElementById('back-to-list');
        if (link) link.click();
    };
    document.addEventListener('click', onClick, true);
    document.addEventListener('keydown', onKeyDown);
    return () => {
        document.removeEventListener('click', onClick, true);
        document.removeEventListener('keydown', onKeyDown);
    };
}, []);
"""


def back_link() -> rx.Component:
    """The "Back to list" link: history back when the list came before (see the hook)."""
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=16, aria_hidden=True), "Back to list", spacing="1"),
        href="/",
        id="back-to-list",
        size="2",
        aria_keyshortcuts="Escape",
    )


# Wide screens: the conversation on the left, the details beside it. Phones: the conversation
# first, the details below it.
VIEW_AREAS = rx.breakpoints(initial='"head" "talk" "side"', md='"head side" "talk side"')
VIEW_COLUMNS = rx.breakpoints(initial="minmax(0, 1fr)", md="minmax(0, 2fr) minmax(16rem, 1fr)")


def _ticket_view() -> rx.Component:
    """The loaded ticket: heading, warnings, the conversation with its composer, the details."""
    fields = State.fields
    head = rx.vstack(
        rx.flex(
            rx.heading(
                "#" + fields["id"] + " " + fields["title"],
                as_="h2",
                size="6",
                id="ticket-heading",
                tab_index=-1,
                style={"overflowWrap": "anywhere", "outline": "none"},
            ),
            rx.cond(SessionState.can_edit, edit_button()),
            justify="between",
            align="start",
            gap="3",
            width="100%",
        ),
        duplicate_links(),
        conflict_warning(),
        error_alert(State.load_error, announce=False, width="100%"),
        save_feedback(),
        spacing="3",
        width="100%",
        grid_area="head",
    )
    talk = rx.vstack(
        timeline(),
        rx.cond(SessionState.can_edit, composer()),
        spacing="4",
        width="100%",
        grid_area="talk",
    )
    return rx.grid(
        head,
        talk,
        rx.vstack(
            details_panel(),
            followers_panel(),
            requester_panel(
                State.fields["requester_id"],
                State.requester_count,
                State.other_tickets,
            ),
            similar_section(),
            spacing="4",
            width="100%",
            grid_area="side",
        ),
        edit_dialog(),
        grid_template_areas=VIEW_AREAS,
        grid_template_columns=VIEW_COLUMNS,
        grid_template_rows=rx.breakpoints(initial="auto", md="auto 1fr"),
        gap="1.25rem",
        width="100%",
        align_items="start",
    )


def _not_found() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("search-x", size=32, aria_hidden=True, color=rx.color("gray", 11)),
            rx.heading(
                "Ticket #" + State.shown_id + " not found",
                as_="h2",
                size="5",
                data_testid="not-found",
            ),
            rx.text("It may have been deleted or merged, or the link is wrong."),
            rx.link("Go to the ticket list", href="/"),
            align="center",
        ),
        padding="3rem 1rem",
    )


def _failed() -> rx.Component:
    return error_alert(
        State.load_error, rx.button("Try again", on_click=State.retry, size="1", variant="soft")
    )


def ticket_page_content() -> rx.Component:
    """The whole page below the header, whatever state the ticket is in."""
    return rx.vstack(
        rx.window_event_listener(hooks=[BACK_NAVIGATION_HOOK]),
        back_link(),
        merge_dialog(),
        rx.match(
            State.page,
            (READY, _ticket_view()),
            (NOT_FOUND, _not_found()),
            (FAILED, _failed()),
            rx.skeleton(rx.box(height="12rem", width="100%"), loading=True),
        ),
        spacing="3",
        width="100%",
    )
