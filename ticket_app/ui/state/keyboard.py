"""Keyboard shortcuts of the ticket list, and the dialog that lists them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import reflex as rx

from ticket_app.services.permissions import Action
from ticket_app.ui.state.bulk import BulkState
from ticket_app.ui.state.session import authorize
from ticket_app.ui.state.tickets import (
    SEARCH_INPUT_ID,
    TicketListState,
    focus_element,
    row_link_id,
)

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("j / k", "Next / previous ticket"),
    ("Enter", "Open the ticket"),
    ("x", "Select or unselect the ticket"),
    ("a", "Assign the ticket to me"),
    ("/", "Search"),
    ("n", "New ticket"),
    ("?", "Show these shortcuts"),
)
"""(keys, what they do), as the shortcuts dialog lists them."""


class KeyboardState(rx.State):
    """Runs the list's shortcuts; the page sends only keys pressed outside text fields."""

    shortcuts_open: bool = False

    @rx.event
    async def shortcut(self, key: str, focused_ticket: str) -> AsyncIterator:
        """Run the shortcut `key`.

        `focused_ticket` is the id of the row whose link has focus ("" when none): it becomes
        the current row first, so keys act on the row the user sees focused. Unknown keys do
        nothing.
        """
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            yield refusal
            return
        listing = await self.get_state(TicketListState)
        if focused_ticket:
            listing.current_id = focused_ticket
            listing._keyboard_in_list = True
        current = listing.current_id
        if key in ("j", "k"):
            yield listing._step(1 if key == "j" else -1)
        elif key == "Enter" and current:
            yield rx.redirect(f"/tickets/{current}")
        elif key == "x" and current:
            yield BulkState.toggle_current(current)
        elif key == "a" and current:
            yield TicketListState.assign_to_me(current)
        elif key == "/":
            yield focus_element(SEARCH_INPUT_ID)
        elif key == "n":
            yield rx.redirect("/tickets/new")
        elif key == "?":
            self.shortcuts_open = True

    @rx.event
    async def show_shortcuts(self, is_open: bool):
        """Open the shortcuts dialog, or close it and put focus back on the current row."""
        self.shortcuts_open = is_open
        if is_open:
            return None
        current = (await self.get_state(TicketListState)).current_id
        return focus_element(row_link_id(current)) if current else None
