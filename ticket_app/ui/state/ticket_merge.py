"""The ticket page's merge: close this ticket as a duplicate of a similar open one (issue 14).

A mixin of `TicketPageState` (`ticket_page.py`): its vars and events are that state's. The
similar tickets and the duplicates are shown by the page's load and poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import reflex as rx

from ticket_app.enums import CommentChannel
from ticket_app.services.access import Action
from ticket_app.services.errors import ServiceError
from ticket_app.services.rate_limits import WRITES
from ticket_app.services.similarity import merge_ticket
from ticket_app.ui.logic.ticket_page import READY
from ticket_app.ui.logic.triage import merge_error_message
from ticket_app.ui.safe_events import toast_success
from ticket_app.ui.state.session import authorize, session_setter


class TicketMergeMixin(rx.State, mixin=True):
    """Similar open tickets, this ticket's duplicates, and the merge confirmation."""

    similar: list[dict[str, str]] = rx.field(default_factory=list)
    duplicates: list[str] = rx.field(default_factory=list)
    merge_into: str = ""
    merge_into_title: str = ""
    merge_error: str = ""
    merging: bool = False

    @rx.event
    async def ask_merge(self, into: str) -> AsyncIterator:
        """Open the confirmation for merging this ticket into similar ticket `into`."""
        actor, refusal = await authorize(self, Action.TICKETS_EDIT)
        if actor is None:
            yield refusal
            return
        row = next((row for row in self.similar if row["id"] == into), None)
        if row is None:
            return
        self.merge_error = ""
        self.merge_into, self.merge_into_title = row["id"], row["title"]

    @rx.event
    @session_setter
    def merge_dialog_changed(self, is_open: bool) -> None:
        """The dialog asked to close (Esc, a click outside): cancel unless a merge is running."""
        if not is_open and not self.merging:
            self.merge_into = self.merge_into_title = ""

    @rx.event
    async def confirm_merge(self) -> AsyncIterator:
        """Close this ticket as a duplicate of the one being confirmed, then show both links.

        A refusal (409: either ticket already merged; 404; no permission) is shown as an alert
        and nothing changes.
        """
        actor, refusal = await authorize(self, Action.TICKETS_EDIT, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        if not self.merge_into or self.merging or self.page != READY:
            return
        ticket_id, into = self._ticket_id(), int(self.merge_into)
        self.merging = True
        self.merge_error = ""
        yield
        try:
            await asyncio.to_thread(
                merge_ticket, ticket_id, into, actor=actor, channel=CommentChannel.CONSOLE
            )
        except ServiceError as exc:
            self.merge_error = merge_error_message(exc, ticket_id, into)
            self.merging = False
            self.merge_into = self.merge_into_title = ""
            return
        self.merging = False
        self.merge_into = self.merge_into_title = ""
        view = await self._reread(ticket_id, actor, "a merge")
        if view is not None:
            self._show(view)
        yield [
            toast_success(f"Merged #{ticket_id} into #{into}."),
            rx.set_focus("ticket-heading"),
        ]
