"""Bulk changes from the list: selection, one call for all selected tickets, and undo.

Rows are ticked one by one, as shift-click ranges, or as "all N matching"; one request sets
status, priority, category and/or assignee, and adds or removes tags, for all of them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx
from pydantic import ValidationError

from ticket_app.schemas import BulkRequest, TicketFilters
from ticket_app.services.access import Action
from ticket_app.services.bulk import (
    BulkInterruptedError,
    bulk_update,
    count_matching,
    undo_bulk,
)
from ticket_app.services.errors import ServiceError
from ticket_app.services.rate_limits import WRITES
from ticket_app.ui.logic.tickets import UNASSIGNED, save_error_message, select_range
from ticket_app.ui.safe_events import toast_error, toast_success
from ticket_app.ui.state.session import authorize, session_setter
from ticket_app.ui.state.tags import suggested_tags
from ticket_app.ui.state.tickets import TicketListState
from ticket_app.ui.state.views import NavState

logger = logging.getLogger(__name__)

BULK_FIELDS = ("status", "priority", "category", "assignee", "add_tag", "remove_tag")
BULK_FILTER_FIELDS = ("category", "priority", "status", "search", "assignee", "tag")
TAG_CHOICES = {"add_tag": "add_tags", "remove_tag": "remove_tags"}


def typed_tags(text: str) -> list[str]:
    """The tags typed in a bulk bar input: comma-separated, blanks skipped (checked later)."""
    return [part for part in text.split(",") if part.strip()]


def bulk_changes(choices: dict[str, str]) -> dict[str, Any]:
    """The `changes` of a bulk request from the bulk bar's selects ("" leaves a field alone).

    The assignee select holds "none" (unassign) or a staff user id in digits; `add_tag` and
    `remove_tag` hold tags typed comma-separated (`add_tags`, `remove_tags`).
    """
    changes: dict[str, Any] = {
        field: value
        for field, value in choices.items()
        if value and field != "assignee" and field not in TAG_CHOICES
    }
    for field, name in TAG_CHOICES.items():
        tags = typed_tags(choices.get(field, ""))
        if tags:
            changes[name] = tags
    assignee = choices.get("assignee", "")
    if assignee:
        changes["assignee_id"] = None if assignee == UNASSIGNED else int(assignee)
    return changes


def bulk_request(
    changes: dict[str, Any],
    *,
    ids: list[str] | None = None,
    filters: TicketFilters | None = None,
    confirm_count: int | None = None,
) -> BulkRequest:
    """A bulk request for the selected `ids`, or for every ticket matching `filters`.

    Raises pydantic's ValidationError for values outside the allowed sets.
    """
    body: dict[str, Any] = {"changes": changes}
    if filters is not None:
        dumped = filters.model_dump(mode="json", exclude_none=True)
        body["filters"] = {k: v for k, v in dumped.items() if k in BULK_FILTER_FIELDS}
        body["confirm_count"] = confirm_count
    else:
        body["ids"] = [int(ticket_id) for ticket_id in ids or []]
    return BulkRequest.model_validate(body)


class BulkState(rx.State):
    """The selected rows, the bulk bar's choices, and the last bulk change (for undo)."""

    selected: list[str] = rx.field(default_factory=list)
    anchor: str = ""
    all_matching: bool = False
    matching_count: int = 0
    confirm_open: bool = False

    status: str = ""
    priority: str = ""
    category: str = ""
    assignee: str = ""
    add_tag: str = ""
    remove_tag: str = ""

    tag_suggestions: list[str] = rx.field(default_factory=list)

    undo_note: str = ""
    _previous: dict[int, dict[str, Any]] = rx.field(default_factory=dict)

    @rx.var
    def selected_count(self) -> int:
        """How many rows are ticked (the whole page when "all matching" is on)."""
        return len(self.selected)

    @rx.var
    def has_changes(self) -> bool:
        """Whether the bulk bar says what to change."""
        return any((self.status, self.priority, self.category, self.assignee)) or any(
            typed_tags(text) for text in (self.add_tag, self.remove_tag)
        )

    def _choices(self) -> dict[str, str]:
        return {
            "status": self.status,
            "priority": self.priority,
            "category": self.category,
            "assignee": self.assignee,
            "add_tag": self.add_tag,
            "remove_tag": self.remove_tag,
        }

    async def _row_ids(self) -> list[str]:
        """Ids of the rows the list shows, in display order."""
        return (await self.get_state(TicketListState)).shown_ids()

    def _toggle(self, ids: list[str], ticket_id: str, *, extend: bool) -> None:
        """Flip `ticket_id`; with `extend`, every row from the anchor to it takes its new state.

        Only a row the list shows can be ticked: any other id a tab sends is ignored.
        """
        if ticket_id not in ids:
            return
        checked = ticket_id not in self.selected
        anchor = self.anchor if extend else ""
        self.selected = select_range(ids, self.selected, anchor, ticket_id, checked=checked)
        self.anchor = ticket_id
        self.all_matching = False

    @rx.event
    async def toggle(self, ticket_id: str, pointer: dict) -> None:
        """Tick or untick a row; with Shift held, every row from the last one clicked too."""
        self._toggle(await self._row_ids(), ticket_id, extend=bool(pointer.get("shift_key")))

    @rx.event
    async def toggle_current(self, ticket_id: str) -> None:
        """Tick or untick the current row (the `x` shortcut)."""
        self._toggle(await self._row_ids(), ticket_id, extend=False)

    @rx.event
    async def toggle_page(self, checked: bool) -> None:
        """Tick or untick every row shown."""
        self.selected = await self._row_ids() if checked else []
        self.all_matching = False

    @rx.var
    def matching_text(self) -> str:
        """How many tickets "all matching" covers, with thousands separators."""
        return f"{self.matching_count:,}"

    @rx.event
    async def select_all_matching(self):
        """Act on every ticket that matches the list's filters, not only the rows shown.

        The matches are counted exactly here (the list's own total may be an estimate beyond
        the count cap), so the count shown, confirmed and sent as `confirm_count` is the real
        one.
        """
        actor, refusal = await authorize(self, Action.TICKETS_EDIT)
        if actor is None:
            return refusal
        listing = await self.get_state(TicketListState)
        try:
            self.matching_count = await asyncio.to_thread(count_matching, listing._filters())
        except ServiceError as exc:
            return toast_error(f"Could not count the matching tickets: {exc}")
        self.all_matching = True
        return None

    @rx.event
    def clear(self) -> None:
        """Untick everything and forget the bar's choices."""
        self.selected, self.anchor, self.all_matching = [], "", False
        self.status = self.priority = self.category = self.assignee = ""
        self.add_tag = self.remove_tag = ""

    @rx.event
    @session_setter
    def set_choice(self, field: str, value: str) -> None:
        """What the bar will set for `field` ("" leaves it alone)."""
        if field in BULK_FIELDS:
            setattr(self, field, value)

    @rx.event
    async def suggest_tags(self, typed: str):
        """Offer the tags in use that start with the last tag typed in a tag input."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        found = await suggested_tags(actor, typed)
        if found is not None:
            self.tag_suggestions = found
        return None

    @rx.event
    @session_setter
    def show_confirm(self, is_open: bool) -> None:
        """Open or close the "change all N matching" confirmation."""
        self.confirm_open = is_open

    @rx.event
    async def apply(self):
        """Apply the bar's choices to the ticked rows; for all matching, ask first."""
        actor, refusal = await authorize(self, Action.TICKETS_EDIT, counts_as=WRITES)
        if actor is None:
            return refusal
        if not self.has_changes:
            return toast_error("Choose what to change first.")
        if self.all_matching:
            self.confirm_open = True
            return None
        try:
            request = bulk_request(bulk_changes(self._choices()), ids=self.selected)
        except (ValidationError, ValueError) as exc:
            return toast_error(f"Nothing changed: {save_error_message(exc)}")
        return await self._run(request, actor)

    @rx.event
    async def apply_to_all_matching(self):
        """Apply the bar's choices to every ticket matching the list (after the confirm).

        The count the user confirmed goes along: if the matching set changed size since, the
        service refuses and nothing changes.
        """
        self.confirm_open = False
        actor, refusal = await authorize(self, Action.TICKETS_EDIT, counts_as=WRITES)
        if actor is None:
            return refusal
        listing = await self.get_state(TicketListState)
        try:
            request = bulk_request(
                bulk_changes(self._choices()),
                filters=listing._filters(),
                confirm_count=self.matching_count,
            )
        except (ValidationError, ValueError) as exc:
            return toast_error(f"Nothing changed: {save_error_message(exc)}")
        return await self._run(request, actor)

    async def _run(self, request: BulkRequest, actor) -> list:
        """Send one bulk request; remember its old values for undo; say what happened."""
        try:
            outcome = await asyncio.to_thread(bulk_update, request, actor=actor)
        except BulkInterruptedError as exc:
            # Part of the change committed: keep its old values so Undo can put them back, and
            # leave the bar's choices so Apply can finish (changed tickets are skipped).
            self._previous = dict(exc.applied.previous)
            noun = "ticket" if exc.applied.updated == 1 else "tickets"
            self.undo_note = f"{exc.applied.updated:,} {noun} changed before the database failed."
            return [
                toast_error(
                    f"Only part was applied: {exc.applied.updated:,} {noun} changed, "
                    f"{exc.remaining:,} not yet. Apply again to finish, or Undo."
                ),
                TicketListState.refresh,
                NavState.refresh_counts,
            ]
        except ServiceError as exc:
            return [toast_error(f"Nothing changed: {save_error_message(exc)}")]
        self._previous = dict(outcome.previous)
        noun = "ticket" if outcome.updated == 1 else "tickets"
        self.undo_note = f"{outcome.updated:,} {noun} changed."
        self.clear()
        return [
            toast_success(self.undo_note),
            TicketListState.refresh,
            NavState.refresh_counts,
        ]

    @rx.event
    async def undo(self):
        """Put back the values the last bulk change replaced."""
        actor, refusal = await authorize(self, Action.TICKETS_EDIT, counts_as=WRITES)
        if actor is None:
            return refusal
        if not self._previous:
            return None
        try:
            restored = await asyncio.to_thread(undo_bulk, self._previous, actor=actor)
        except BulkInterruptedError as exc:
            noun = "ticket" if exc.applied.updated == 1 else "tickets"
            return [
                toast_error(
                    f"Only part was undone: {exc.applied.updated:,} {noun} restored, "
                    f"{exc.remaining:,} not yet. Undo again to finish."
                ),
                TicketListState.refresh,
                NavState.refresh_counts,
            ]
        except ServiceError as exc:
            return toast_error(f"Not undone: {save_error_message(exc)}")
        self._previous = {}
        self.undo_note = ""
        noun = "ticket" if restored == 1 else "tickets"
        return [
            toast_success(f"Undone: {restored:,} {noun} restored."),
            TicketListState.refresh,
            NavState.refresh_counts,
        ]
