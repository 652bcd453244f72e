"""Ticket table state: filters mirrored in the URL, keyset pages, inline edits, live refresh."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import reflex as rx
from pydantic import ValidationError

from ticket_app.schemas import TicketFilters, TicketPage, TicketUpdate
from ticket_app.services.audit import Actor
from ticket_app.services.errors import (
    DatabaseUnavailableError,
    InvalidCursorError,
    PermissionDeniedError,
    ServiceError,
    TicketNotFoundError,
)
from ticket_app.services.permissions import Action
from ticket_app.services.tickets import (
    change_marker,
    list_ticket_events,
    list_tickets,
    update_ticket,
)
from ticket_app.ui.logic import (
    ALL,
    filters_from_params,
    filters_to_query,
    merge_first_page,
    replace_row,
    ticket_row,
    validation_messages,
)
from ticket_app.ui.state.session import SessionState, actor_of, authorize
from ticket_app.ui.state.stats import StatsState, fetch_stats_view

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
OUTAGE_NOTE = (
    "The database is unavailable, so this list may be out of date. It refreshes by itself "
    "when the database is back."
)
POLL_SECONDS = 3.0
EDITABLE_FIELDS = ("status", "category", "priority")


def load_page(filters: TicketFilters, cursor: str | None = None) -> TicketPage:
    """One page of the table (blocking; call it from a thread)."""
    return list_tickets(filters, limit=PAGE_SIZE, cursor=cursor)


def save_field(ticket_id: int, field: str, value: str, actor: Actor) -> dict[str, str]:
    """Save one inline edit by `actor` and return the stored row (blocking; use a thread).

    Raises ValueError for a field that is not editable inline, pydantic's ValidationError for
    a value outside the allowed set, and the service errors of `update_ticket`.
    """
    if field not in EDITABLE_FIELDS:
        raise ValueError(f"{field} cannot be edited here")
    changes = TicketUpdate.model_validate({field: value})
    return ticket_row(update_ticket(ticket_id, changes, actor=actor))


def event_rows(ticket_id: int) -> list[dict[str, str]]:
    """The ticket's audit trail for the detail dialog, oldest first (blocking; use a thread).

    Each row: `when` (UTC, minutes), `who`, `what` (e.g. "status: open → closed").
    """
    rows = []
    for event in list_ticket_events(ticket_id, limit=200).items:
        if event.field and event.kind.value == "changed":
            old = (event.old_value or "").replace("_", " ")
            new = (event.new_value or "").replace("_", " ")
            what = f"{event.field.replace('_', ' ')}: {old} → {new}"
        else:
            what = event.kind.value.replace("_", " ").capitalize()
        rows.append(
            {
                "id": str(event.id),
                "when": event.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                "who": event.actor,
                "what": what,
            }
        )
    return rows


def save_error_message(exc: Exception) -> str:
    """Why an inline edit was not saved, in words for the toast."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{k}: {v}" for k, v in validation_messages(exc).items())
    if isinstance(exc, DatabaseUnavailableError):
        return "the database is unavailable"
    if isinstance(exc, TicketNotFoundError):
        return "the ticket no longer exists"
    if isinstance(exc, PermissionDeniedError):
        return "your role does not allow this"
    return str(exc)


class TicketListState(rx.State):
    """The filtered, newest-first ticket table with cursor pagination."""

    rows: list[dict[str, str]] = rx.field(default_factory=list)
    total: int = 0
    next_cursor: str = ""
    loading: bool = True
    loading_more: bool = False
    load_error: str = ""

    category: str = ALL
    priority: str = ALL
    status: str = ALL
    search: str = ""

    detail: dict[str, str] = rx.field(default_factory=dict)
    detail_events: list[dict[str, str]] = rx.field(default_factory=list)

    _saving: int = 0
    _seen_marker: str = ""

    @rx.var
    def has_filters(self) -> bool:
        """Whether any filter or search is active."""
        return bool(self.search.strip()) or any(
            value != ALL for value in (self.category, self.priority, self.status)
        )

    @rx.var
    def shown_text(self) -> str:
        """Summary such as "Showing 25 of 1,204 tickets"."""
        return f"Showing {len(self.rows):,} of {self.total:,} tickets"

    def _filters(self) -> TicketFilters:
        """The active filters as the service layer takes them."""
        return filters_from_params(
            {
                "category": self.category,
                "priority": self.priority,
                "status": self.status,
                "q": self.search,
            }
        )

    @rx.var
    def export_url(self) -> str:
        """The REST export of the current filtered view, as a CSV download link."""
        filters = self._filters().model_dump(mode="json", exclude_none=True)
        query = urlencode(filters)
        return "/api/tickets/export/" + (f"?{query}" if query else "")

    def _show_filters(self, filters: TicketFilters) -> None:
        """Put `filters` into the filter controls."""
        self.category = filters.category.value if filters.category else ALL
        self.priority = filters.priority.value if filters.priority else ALL
        self.status = filters.status.value if filters.status else ALL
        if self.search.strip() != (filters.search or ""):  # keep spaces still being typed
            self.search = filters.search or ""

    def _show_page(self, page: TicketPage) -> None:
        """Replace the table with a freshly loaded first page."""
        self.rows = [ticket_row(t) for t in page.items]
        self.total = page.total
        self.next_cursor = page.next_cursor or ""

    @rx.event
    async def on_load(self) -> AsyncIterator:
        """Check the session, read the URL's filters, load the first page, start the refresh."""
        refusal = await (await self.get_state(SessionState)).require(Action.TICKETS_READ)
        if refusal is not None:
            yield refusal
            return
        self._show_filters(filters_from_params(self.router.url.query_parameters))
        self.loading = True
        self.load_error = ""
        yield
        await self._reload()
        self.loading = False
        yield [StatsState.refresh, TicketListState.poll]

    async def _reload(self) -> None:
        """Load the first page for the active filters (keeps the old rows if that fails)."""
        try:
            marker = await asyncio.to_thread(change_marker)
            self._show_page(await asyncio.to_thread(load_page, self._filters()))
            self._seen_marker = marker
            self.load_error = ""
        except ServiceError as exc:
            logger.warning("ticket list not loaded: %s", exc)
            self.load_error = "Tickets could not be loaded: the database is unavailable. Retrying."

    @rx.event
    async def refresh(self):
        """Reload the newest tickets, keeping the older pages already shown."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        try:
            page = await asyncio.to_thread(load_page, self._filters())
        except ServiceError as exc:
            logger.warning("ticket list not refreshed: %s", exc)
            return None
        self._merge(page)
        return None

    def _merge(self, page: TicketPage) -> None:
        """Fold a fresh first page into the rows shown."""
        fresh = [ticket_row(t) for t in page.items]
        self.rows, cursor = merge_first_page(
            self.rows, self.next_cursor or None, fresh, page.next_cursor
        )
        self.next_cursor = cursor or ""
        self.total = page.total
        self.load_error = ""

    @rx.event(background=True, supersedes=True)
    async def poll(self) -> None:
        """Every few seconds, pick up changes made elsewhere (runs while this page is open).

        Started by `on_load`, so Reflex cancels it when the page unloads or loads again. Each
        round first asks for the cheap change marker and reloads the page and stats only when
        it moved, so idle consoles cost one index lookup per round even with millions of
        tickets. Skips a round while an inline edit is being saved so the edit is not
        overwritten.
        """
        while True:
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                filters = self._filters()
                busy = self._saving > 0
                seen = self._seen_marker
                actor = await actor_of(self)
            if actor is None or not actor.can(Action.TICKETS_READ):
                return  # signed out, expired or deactivated: stop showing changes
            if busy:
                continue
            try:
                marker = await asyncio.to_thread(change_marker)
                if marker == seen:
                    async with self:
                        await self._show_outage(False)
                    continue
                page = await asyncio.to_thread(load_page, filters)
            except ServiceError:
                async with self:
                    await self._show_outage(True)
                continue
            view = await fetch_stats_view()
            async with self:
                if self._saving == 0 and self._filters() == filters:
                    self._merge(page)
                    self._seen_marker = marker
                stats = await self.get_state(StatsState)
                stats._apply(view)

    async def _show_outage(self, down: bool) -> None:
        """Say on the list and the stats whether what they show may be out of date."""
        if down:
            self.load_error = OUTAGE_NOTE
        elif self.load_error == OUTAGE_NOTE:
            self.load_error = ""
        stats = await self.get_state(StatsState)
        stats.unavailable = down

    def _url(self, **changes: str) -> str:
        """The console URL for the active filters with `changes` applied."""
        params = {
            "category": self.category,
            "priority": self.priority,
            "status": self.status,
            "q": self.search,
        }
        params.update(changes)
        return "/" + filters_to_query(filters_from_params(params))

    @rx.event
    def filter_category(self, value: str):
        """Show only one category (or all); the URL follows."""
        return rx.redirect(self._url(category=value), replace=True)

    @rx.event
    def filter_priority(self, value: str):
        """Show only one priority (or all); the URL follows."""
        return rx.redirect(self._url(priority=value), replace=True)

    @rx.event
    def filter_status(self, value: str):
        """Show only one status (or all); the URL follows."""
        return rx.redirect(self._url(status=value), replace=True)

    @rx.event
    def filter_search(self, value: str):
        """Search titles and descriptions (the input is debounced); the URL follows."""
        self.search = value
        return rx.redirect(self._url(q=value), replace=True)

    @rx.event
    def clear_filters(self):
        """Show every ticket again."""
        return rx.redirect("/", replace=True)

    @rx.event
    async def load_more(self) -> AsyncIterator:
        """Append the next page after the last row shown."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            yield refusal
            return
        if not self.next_cursor:
            return
        self.loading_more = True
        yield
        try:
            page = await asyncio.to_thread(load_page, self._filters(), self.next_cursor)
        except InvalidCursorError:
            await self._reload()
        except ServiceError as exc:
            yield rx.toast.error(f"More tickets could not be loaded: {save_error_message(exc)}")
        else:
            known = {row["id"] for row in self.rows}
            self.rows = self.rows + [ticket_row(t) for t in page.items if str(t.id) not in known]
            self.next_cursor = page.next_cursor or ""
            self.total = page.total
        finally:
            self.loading_more = False

    @rx.event
    async def update_field(self, ticket_id: str, field: str, value: str) -> AsyncIterator:
        """Save an inline status/category/priority change at once; revert the cell on failure."""
        before = next((row for row in self.rows if row["id"] == ticket_id), None)
        if before is None or before.get(field) == value:
            return
        actor, refusal = await authorize(self, Action.TICKETS_EDIT)
        if actor is None:
            yield refusal
            return
        self.rows = replace_row(self.rows, {**before, field: value})
        self._saving += 1
        yield
        try:
            saved = await asyncio.to_thread(save_field, int(ticket_id), field, value, actor)
        except (ServiceError, ValidationError, ValueError) as exc:
            self.rows = replace_row(self.rows, before)
            yield rx.toast.error(f"Ticket #{ticket_id} not saved: {save_error_message(exc)}")
        else:
            self.rows = replace_row(self.rows, saved)
            if self.detail.get("id") == ticket_id:
                self.detail = saved
                self.detail_events = await asyncio.to_thread(event_rows, int(ticket_id))
            label = field.replace("_", " ")
            yield [
                rx.toast.success(f"Ticket #{ticket_id}: {label} set to {value.replace('_', ' ')}"),
                StatsState.refresh,
            ]
        finally:
            self._saving -= 1

    @rx.event
    async def show_detail(self, ticket_id: str, is_open: bool = True):
        """Fill the ticket's dialog as it opens, with its audit trail as a timeline."""
        if not is_open:
            return None
        actor, refusal = await authorize(self, Action.AUDIT_READ)
        if actor is None:
            return refusal
        self.detail = next((row for row in self.rows if row["id"] == ticket_id), {})
        self.detail_events = []
        if self.detail:
            try:
                self.detail_events = await asyncio.to_thread(event_rows, int(ticket_id))
            except ServiceError as exc:
                logger.warning("ticket history not loaded: %s", exc)
        return None
