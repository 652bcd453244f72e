"""Keyboard shortcuts of the ticket list, and the dialog that lists them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import reflex as rx

from ticket_app.services.access import Action
from ticket_app.ui.safe_events import redirect
from ticket_app.ui.state.bulk import BulkState
from ticket_app.ui.state.focus import focus_element
from ticket_app.ui.state.session import authorize, session_setter
from ticket_app.ui.state.tickets import SEARCH_INPUT_ID, TicketListState

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
    async def shortcut(self, key: str, focused_ticket: str, focus_mark: str) -> AsyncIterator:
        """Run the shortcut `key`.

        `focused_ticket` is the id of the row whose link had focus when the key was pressed
        ("" when none) and `focus_mark` the mark of the last row-focus script the browser had
        run then. The focused row becomes current first, so keys act on the row the user sees
        focused, unless the press came before the last j/k move reached the browser: then the
        row moved to stays current, so fast presses move one row each. Unknown keys do nothing.
        """
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            yield refusal
            return
        listing = await self.get_state(TicketListState)
        listing._focus_base(focused_ticket, focus_mark)
        current = listing.current_id
        if key in ("j", "k"):
            yield listing._step(1 if key == "j" else -1)
        elif key == "Enter" and current:
            yield redirect(f"/tickets/{current}")
        elif key == "x" and current:
            yield BulkState.toggle_current(current)
        elif key == "a" and current:
            yield TicketListState.assign_to_me(current)
        elif key == "/":
            yield focus_element(SEARCH_INPUT_ID)
        elif key == "n":
            yield redirect("/tickets/new")
        elif key == "?":
            self.shortcuts_open = True

    @rx.event
    @session_setter
    def show_shortcuts(self, is_open: bool) -> None:
        """Open or close the shortcuts dialog.

        Closing moves no focus from here: the dialog puts it back on the element it was opened
        from (the keyboard button, or the row "?" was pressed on); see `shortcuts_dialog`.
        """
        self.shortcuts_open = is_open
