"""The ticket page's tag chips: tags added and removed through the page's own save, suggestions.

A mixin of `TicketPageState` (`ticket_page.py`): its vars and events are that state's, so a
tag change goes through the page's ETag-checked save like any other field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import reflex as rx

from ticket_app.schemas import tags_of_text
from ticket_app.services.access import Action
from ticket_app.ui.logic.ticket_page import READY, TAGS_FIELD, tags_added, tags_removed
from ticket_app.ui.state.session import authorize
from ticket_app.ui.state.tags import suggested_tags

TAG_INPUT_ID = "ticket-tag-input"


class TicketTagsMixin(rx.State, mixin=True):
    """Adding, removing and suggesting tags on one ticket's page (see the module docstring)."""

    tag_suggestions: list[str] = rx.field(default_factory=list)
    """Tags in use that start with what the tag input holds, most used first."""

    @rx.event
    async def add_tags(self, form_data: dict) -> AsyncIterator:
        """Add the tags typed in the tag input (comma-separated) to the ticket's tags."""
        typed = str(form_data.get("tag", ""))
        if self.page != READY or not tags_of_text(typed):
            return
        current = self.fields.get(TAGS_FIELD, "")
        async for update in self._save(TAGS_FIELD, tags_added(current, typed), self._etag):
            yield update
        if not self.field_errors.get(TAGS_FIELD):
            yield rx.set_focus(TAG_INPUT_ID)

    @rx.event
    async def remove_tag(self, tag: str) -> AsyncIterator:
        """Take one tag off the ticket (its chip's remove button)."""
        current = self.fields.get(TAGS_FIELD, "")
        if self.page != READY or tag not in tags_of_text(current):
            return
        async for update in self._save(TAGS_FIELD, tags_removed(current, tag), self._etag):
            yield update
        yield rx.set_focus(TAG_INPUT_ID)

    @rx.event
    async def suggest_tags(self, typed: str):
        """Offer the tags in use that start with what the tag input holds."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        found = await suggested_tags(actor, typed)
        if found is not None:
            self.tag_suggestions = found
        return None
