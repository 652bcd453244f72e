"""Ticket list state: filters and sort mirrored in the URL, keyset pages, live refresh.

Also inline edits and assignment, and the current row that keyboard shortcuts act on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import reflex as rx
from pydantic import ValidationError

from ticket_app.schemas import (
    TicketFilters,
    TicketPage,
    TicketRead,
    TicketSort,
    TicketStats,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import (
    InvalidCursorError,
    InvalidInputError,
    ServiceError,
)
from ticket_app.services.rate_limits import WRITES, expensive_turn
from ticket_app.services.stats import ticket_stats
from ticket_app.services.tickets import change_marker
from ticket_app.settings import get_settings
from ticket_app.ui.logic.tickets import (
    CONSOLE_FILTERS,
    SORT_LABELS,
    ListQuery,
    count_text,
    list_query,
    list_summary,
    merge_first_page_into_pages,
    named_row,
    page_slots,
    replace_row,
    save_error_message,
    search_marks,
    ticket_number_search,
    ticket_row,
)
from ticket_app.ui.safe_events import redirect, toast_error, toast_success
from ticket_app.ui.state.focus import focus_row
from ticket_app.ui.state.session import (
    Watched,
    actor_of,
    authorize,
    open_page,
    session_setter,
    watch_changes,
)
from ticket_app.ui.state.ticket_io import (
    fetch_fresh_list,
    load_page,
    save_field,
    staff_choices,
)
from ticket_app.ui.state.views import NavData, NavState, resolved_filters

logger = logging.getLogger(__name__)

PAGE_SLOTS = 20
"""How many list vars carry the rows to the browser: `rows` (the first page), then `more_1` to
`more_19`, one loaded page each, the last also holding every page beyond. Reflex sends a var
whole whenever it changes, so with one list of every row each "Load more" sent (and React
re-read) all the rows shown; with a var per page it sends only the page just loaded."""
MORE_SLOTS = tuple(f"more_{slot}" for slot in range(1, PAGE_SLOTS))
OUTAGE_NOTE = (
    "The database is unavailable, so this list may be out of date. It refreshes by itself "
    "when the database is back."
)
POLL_SECONDS = 3.0
SEARCH_INPUT_ID = "filter-search"


class TicketListState(rx.State):
    """The filtered, sorted ticket list with cursor pagination."""

    rows: list[dict[str, str]] = rx.field(default_factory=list)
    # The pages after the first (see PAGE_SLOTS), declared in a loop: nineteen alike lines.
    for _slot in MORE_SLOTS:
        __annotations__[_slot] = "list[dict[str, str]]"
        vars()[_slot] = rx.field(default_factory=list)
    del _slot
    shown_count: int = 0
    # Per row id, the title and a description snippet with the searched words marked.
    marks: dict[str, dict[str, list[list[str]]]] = rx.field(default_factory=dict)
    close_matches: bool = False
    total: int = 0
    total_exact: bool = True
    next_cursor: str = ""
    loading: bool = True
    loading_more: bool = False
    load_error: str = ""
    summary: str = ""

    category: str = ""
    priority: str = ""
    status: str = ""
    search: str = ""
    assignee: str = ""
    language: str = ""
    frustrated: str = ""
    sla: str = ""
    tag: str = ""
    sort: str = TicketSort.NEWEST.value

    staff: list[dict[str, str]] = rx.field(default_factory=list)
    current_id: str = ""
    show_more_filters: bool = False
    # Kept in this browser: "compact" or "comfortable" rows.
    density: str = rx.LocalStorage("comfortable", name="triage_list_density", sync=True)

    # Every row shown, as the pages they were loaded in (the browser's copy is in the slots).
    _pages: list[list[dict[str, str]]] = rx.field(default_factory=list)
    _filters_cache: TicketFilters | None = None
    _keyboard_in_list: bool = False
    _focus_moves: int = 0
    _focus_pending: str = ""
    # The ticket whose page this tab showed last: coming back to the list returns to its row.
    _opened_id: str = ""
    _saving: int = 0
    _seen_marker: str = ""

    @rx.var
    def has_filters(self) -> bool:
        """Whether any filter or search is active."""
        return bool(self._query().params(with_sort=False))

    @rx.var
    def compact(self) -> bool:
        """Whether rows are compact: no description line, tighter padding."""
        return self.density == "compact"

    @rx.var
    def more_filters_on(self) -> int:
        """How many of the filters behind "More filters" are on."""
        # Named one by one: Reflex finds a computed var's inputs in its code.
        return sum(map(bool, (self.category, self.language, self.sla, self.frustrated, self.tag)))

    @rx.var
    def shown_text(self) -> str:
        """Summary such as "Showing 25 of 1,204 tickets" (or "of about 58,000", see count_text)."""
        total = count_text(self.total, self.total_exact, get_settings().count_cap)
        return f"Showing {self.shown_count:,} of {total} tickets"

    @rx.var
    def list_url(self) -> str:
        """The list's own URL (filters, search, sort): the nav marks the view it matches."""
        return self._query().url()

    @rx.var
    def described(self) -> str:
        """The filters and sort in words, e.g. "status: open · sorted by priority"."""
        query = self._query()
        names = {user["id"]: user["name"] for user in self.staff}
        return f"{query.describe(names)} · sorted by {SORT_LABELS[query.sort]}"

    @rx.var
    def query_string(self) -> str:
        """The list's query string ("?status=open…" or ""), for links that keep the filters."""
        return self._query().url("")

    @rx.var
    def export_url(self) -> str:
        """The REST export of the current filtered, sorted list, as a CSV download link."""
        params = self._query().params()
        return "/api/tickets/export/" + (f"?{urlencode(params)}" if params else "")

    def _query(self) -> ListQuery:
        """The list's filters, search and sort (the search box is `q`)."""
        values = {
            item.name: getattr(self, item.name) for item in CONSOLE_FILTERS if item.name != "q"
        }
        return ListQuery(**values, q=self.search, sort=self.sort)

    def _filters(self) -> TicketFilters:
        """The service filters resolved when the page loaded (no filter before that)."""
        return self._filters_cache or TicketFilters()

    def _show_query(self, query: ListQuery) -> None:
        """Put `query` into the filter controls (one var per console filter, `search` for `q`)."""
        for item in CONSOLE_FILTERS:
            if item.name != "q":
                setattr(self, item.name, getattr(query, item.name))
        self.sort = query.sort
        if self.search.strip() != query.q:  # keep spaces still being typed
            self.search = query.q

    def shown_rows(self) -> list[dict[str, str]]:
        """Every row the list shows, in display order."""
        return [row for page in self._pages for row in page]

    def shown_ids(self) -> list[str]:
        """The ids of the rows the list shows, in display order."""
        return [row["id"] for page in self._pages for row in page]

    def _set_pages(self, pages: list[list[dict[str, str]]]) -> None:
        """Show `pages` of rows, setting (and so sending) only the slots whose rows changed."""
        self._pages = pages
        for name, rows in zip(("rows", *MORE_SLOTS), page_slots(pages, PAGE_SLOTS), strict=True):
            if getattr(self, name) != rows:
                setattr(self, name, rows)
        count = sum(len(page) for page in pages)
        if self.shown_count != count:
            self.shown_count = count

    def _staff_names(self) -> dict[str, str]:
        return {user["id"]: user["name"] for user in self.staff}

    def _row(self, ticket: TicketRead) -> dict[str, str]:
        """`ticket` as a row of this list, its assignee named."""
        return ticket_row(ticket, staff_names=self._staff_names())

    def _marks(self, page: TicketPage) -> dict[str, dict[str, list[list[str]]]]:
        """The searched words marked in `page`'s titles and snippets (none without a search)."""
        if not self.search.strip():
            return {}
        return {str(ticket.id): search_marks(ticket, self.search) for ticket in page.items}

    def _show_page(self, page: TicketPage) -> None:
        """Replace the list with a freshly loaded first page."""
        self._set_pages([[self._row(t) for t in page.items]])
        self.marks = self._marks(page)
        self.close_matches = page.close_matches
        self.total, self.total_exact = page.total, page.total_exact
        self.next_cursor = page.next_cursor or ""
        ids = self.shown_ids()
        if self.current_id not in ids:
            self.current_id = ids[0] if ids else ""

    @rx.event
    async def on_load(self) -> AsyncIterator:
        """Check the session, read the URL's query, load the first page, start the refresh."""
        actor, refusal = await open_page(self, Action.TICKETS_READ)
        if actor is None:
            yield refusal
            return
        query = list_query(self.router.url.query_parameters)
        self._show_query(query)
        self.show_more_filters = self.show_more_filters or self.more_filters_on > 0
        # A fresh page starts keyboard moves at the top row, whatever was current before
        # (this state outlives page loads in the same tab), unless it comes back from a
        # ticket page: then the ticket's row is current and focused, where the agent left.
        returning, self._opened_id = self._opened_id, ""
        self.current_id = ""
        self._keyboard_in_list = False
        self._focus_pending = ""
        (await self.get_state(NavState)).active_href = query.url()
        self.loading = True
        self.load_error = ""
        yield
        try:
            self._filters_cache = await asyncio.to_thread(resolved_filters, query, actor)
            self.staff = await asyncio.to_thread(staff_choices)
        except InvalidInputError:
            yield redirect(query.changed(assignee="").url(), replace=True)
            return
        except ServiceError as exc:
            logger.warning("ticket list not loaded: %s", exc)
        await self._reload(actor)
        self.loading = False
        if returning and returning in self.shown_ids():
            self.current_id, self._keyboard_in_list = returning, True
            yield [self._focus_current(), TicketListState.poll]
            return
        yield TicketListState.poll

    def _remember_opened(self, ticket_id: str) -> None:
        """Note the ticket whose page this tab shows, so the list comes back to its row."""
        self._opened_id = ticket_id

    async def _reload(self, actor: Actor | None = None) -> None:
        """Load the first page and the summary (keeps the old rows if that fails).

        In one of the reader's expensive-read turns; `actor` is the tab's, read again if not given.
        """
        actor = actor or await actor_of(self)
        if actor is None:
            return
        try:
            marker = await asyncio.to_thread(change_marker)
            async with expensive_turn(actor.user_id):
                page = await asyncio.to_thread(
                    load_page, self._filters(), None, self._query().ticket_sort()
                )
                stats = await asyncio.to_thread(ticket_stats, self._filters())
        except ServiceError as exc:
            logger.warning("ticket list not loaded: %s", exc)
            self.load_error = "Tickets could not be loaded: the database is unavailable. Retrying."
            return
        self._show_page(page)
        self.summary = list_summary(stats)
        self._seen_marker = marker
        self.load_error = ""

    @rx.event
    async def refresh(self):
        """Reload the first page and the summary, keeping the older pages already shown."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        try:
            async with expensive_turn(actor.user_id):
                page = await asyncio.to_thread(
                    load_page, self._filters(), None, self._query().ticket_sort()
                )
                stats = await asyncio.to_thread(ticket_stats, self._filters())
        except ServiceError as exc:
            logger.warning("ticket list not refreshed: %s", exc)
            return None
        self._merge(page)
        self.summary = list_summary(stats)
        return NavState.refresh_counts

    def _merge(self, page: TicketPage) -> None:
        """Fold a fresh first page into the rows shown."""
        fresh = [self._row(t) for t in page.items]
        pages, cursor = merge_first_page_into_pages(
            self._pages, self.next_cursor or None, fresh, page.next_cursor, self.sort
        )
        self._set_pages(pages)
        self.next_cursor = cursor or ""
        self.marks = {**self.marks, **self._marks(page)}
        self.close_matches = page.close_matches
        self.total, self.total_exact = page.total, page.total_exact
        self.load_error = ""

    @rx.event(background=True, supersedes=True)
    async def poll(self) -> None:
        """Every few seconds, pick up changes made elsewhere (runs while this page is open).

        Started by `on_load`, so Reflex cancels it when the page unloads or loads again. Each
        round first asks for the cheap change marker and reloads the page, the summary and
        the nav's counts only when it moved, so idle consoles cost one index lookup per round
        even with millions of tickets. Skips a round while an inline edit is being saved so
        the edit is not overwritten.
        """
        await watch_changes(
            self,
            POLL_SECONDS,
            watched=self._watched,
            fetch=fetch_fresh_list,
            show=self._show_fresh,
            outage=self._show_outage,
        )

    def _watched(self) -> Watched[tuple[TicketFilters, TicketSort]]:
        """The filters and sort shown, for a round of `poll`."""
        return Watched(
            (self._filters(), self._query().ticket_sort()),
            self._seen_marker,
            busy=self._saving > 0,
        )

    async def _show_fresh(
        self,
        actor: Actor,
        watched: Watched[tuple[TicketFilters, TicketSort]],
        fresh: tuple[TicketPage, TicketStats, NavData],
        marker: str,
    ) -> bool:
        """Fold a round's fresh first page in, unless an edit or new filters overtook it."""
        page, stats, nav = fresh
        if self._saving == 0 and self._filters() == watched.shown[0]:
            self._merge(page)
            self.summary = list_summary(stats)
            self._seen_marker = marker
        (await self.get_state(NavState))._show(nav)
        return True

    def _show_outage(self, down: bool) -> None:
        """Say on the list whether what it shows may be out of date."""
        if down:
            self.load_error = OUTAGE_NOTE
        elif self.load_error == OUTAGE_NOTE:
            self.load_error = ""

    def _go(self, **changes: str) -> rx.event.EventSpec:
        """Show the list for the active query with `changes` applied; the URL follows."""
        return redirect(self._query().changed(**changes).url(), replace=True)

    @rx.event
    @session_setter
    def filter_category(self, value: str):
        """Show only one category (or all)."""
        return self._go(category=value)

    @rx.event
    @session_setter
    def filter_priority(self, value: str):
        """Show only one priority (or all)."""
        return self._go(priority=value)

    @rx.event
    @session_setter
    def filter_status(self, value: str):
        """Show only one status (or all)."""
        return self._go(status=value)

    @rx.event
    @session_setter
    def filter_assignee(self, value: str):
        """Show only one assignee's tickets, the unassigned ones, or all."""
        return self._go(assignee=value)

    @rx.event
    @session_setter
    def filter_language(self, value: str):
        """Show only tickets in one language (an ISO 639-1 code), or all."""
        return self._go(language=value)

    @rx.event
    @session_setter
    def filter_frustrated(self, checked: bool):
        """Show only tickets whose customer was frustrated, or all again."""
        return self._go(frustrated="true" if checked else "")

    @rx.event
    @session_setter
    def filter_sla(self, value: str):
        """Show only tickets due soon, or with a broken service-level target, or all."""
        return self._go(sla=value)

    @rx.event
    @session_setter
    def filter_tag(self, value: str):
        """Show only tickets with a tag (`-tag`: without it; several comma-separated), or all."""
        self.tag = value
        return self._go(tag=value)

    @rx.event
    @session_setter
    def filter_search(self, value: str):
        """Search the tickets' words (the input is debounced), best matches first.

        Starting a search under the default sort switches to relevance; clearing it switches
        a relevance sort back to newest first.
        """
        self.search = value
        if value.strip() and self.sort == TicketSort.NEWEST.value:
            return self._go(q=value, sort=TicketSort.RELEVANCE.value)
        if not value.strip() and self.sort == TicketSort.RELEVANCE.value:
            return self._go(q=value, sort=TicketSort.NEWEST.value)
        return self._go(q=value)

    @rx.event
    @session_setter
    def search_key(self, key: str):
        """Enter on `#123` in the search box opens ticket 123."""
        ticket_number = ticket_number_search(self.search)
        if key == "Enter" and ticket_number:
            self._remember_opened(ticket_number)
            return redirect(f"/tickets/{ticket_number}")
        return None

    @rx.event
    @session_setter
    def sort_by(self, value: str):
        """Sort by one of the five `TicketSort` values (a column header was clicked)."""
        return self._go(sort=value)

    @rx.event
    def toggle_more_filters(self) -> None:
        """Show or hide the less-used filters."""
        self.show_more_filters = not self.show_more_filters

    @rx.event
    def set_compact(self, compact: bool) -> None:
        """Switch between compact and comfortable rows."""
        self.density = "compact" if compact else "comfortable"

    @rx.event
    def clear_filters(self):
        """Show every ticket again (the sort stays)."""
        return redirect(ListQuery(sort=self.sort).url(), replace=True)

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
            async with expensive_turn(actor.user_id):
                page = await asyncio.to_thread(
                    load_page, self._filters(), self.next_cursor, self._query().ticket_sort()
                )
        except InvalidCursorError:
            await self._reload(actor)
        except ServiceError as exc:
            yield toast_error(f"More tickets could not be loaded: {save_error_message(exc)}")
        else:
            known = set(self.shown_ids())
            added = [self._row(t) for t in page.items if str(t.id) not in known]
            if added:
                self._set_pages([*self._pages, added])
            self.marks = {**self.marks, **self._marks(page)}
            self.next_cursor = page.next_cursor or ""
            self.total, self.total_exact = page.total, page.total_exact
        finally:
            self.loading_more = False

    @rx.event
    async def update_field(self, ticket_id: str, field: str, value: str) -> AsyncIterator:
        """Save an inline status/category/priority/assignee change; revert it on failure."""
        before = next((row for row in self.shown_rows() if row["id"] == ticket_id), None)
        if before is None or before.get(field) == value:
            return
        actor, refusal = await authorize(self, Action.TICKETS_EDIT, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        self._replace_row(named_row({**before, field: value}, self._staff_names()))
        self._saving += 1
        yield
        try:
            saved = await asyncio.to_thread(save_field, int(ticket_id), field, value, actor)
        except (ServiceError, ValidationError, ValueError) as exc:
            self._replace_row(before)
            yield toast_error(f"Ticket #{ticket_id} not saved: {save_error_message(exc)}")
        else:
            self._replace_row(named_row(saved, self._staff_names()))
            note = self._saved_note(ticket_id, field, value)
            yield [toast_success(note), NavState.refresh_counts]
        finally:
            self._saving -= 1

    def _replace_row(self, row: dict[str, str]) -> None:
        """Show `row` in place of the shown row with its id (only its page is sent again)."""
        self._set_pages([replace_row(page, row) for page in self._pages])

    def _saved_note(self, ticket_id: str, field: str, value: str) -> str:
        """The toast after an inline edit, e.g. "Ticket #4: assigned to Ana Diaz"."""
        if field == "assignee_id":
            name = next((s["name"] for s in self.staff if s["id"] == value), "")
            return f"Ticket #{ticket_id}: " + (f"assigned to {name}" if name else "unassigned")
        label = field.replace("_", " ")
        return f"Ticket #{ticket_id}: {label} set to {value.replace('_', ' ')}"

    @rx.event
    async def assign_to_me(self, ticket_id: str) -> AsyncIterator:
        """Assign the ticket to the signed-in user (the `a` shortcut and the row's button)."""
        actor, refusal = await authorize(self, Action.TICKETS_EDIT)
        if actor is None:
            yield refusal
            return
        async for update in self.update_field(ticket_id, "assignee_id", str(actor.user_id)):
            yield update

    def _focus_base(self, focused_ticket: str, seen_mark: str) -> None:
        """Make the row the browser reports focused current, unless that report is stale.

        `focused_ticket` is the id on the focused element ("" when it is not a row) and
        `seen_mark` the focus mark the browser held when the key was pressed. Keys are sent as
        they are pressed, so one pressed before the last move's focus script ran reports the
        row before that move; then the row last moved to stays current. Once the browser has
        run that script, its report is the truth (the user may have clicked or tabbed since).
        """
        if self._focus_pending and seen_mark != self._focus_pending:
            return
        if focused_ticket:
            self.current_id = focused_ticket
            self._keyboard_in_list = True

    def _step(self, offset: int) -> rx.event.EventSpec | None:
        """Move the current row by `offset` (clamped to the rows shown) and focus its link.

        The first move after the page loads lands on the current row itself (the first one),
        so j from outside the list starts at the top rather than skipping a row.
        """
        ids = self.shown_ids()
        if not ids:
            return None
        if not self._keyboard_in_list:
            offset, self._keyboard_in_list = 0, True
        position = ids.index(self.current_id) + offset if self.current_id in ids else 0
        self.current_id = ids[max(0, min(len(ids) - 1, position))]
        return self._focus_current()

    def _focus_current(self) -> rx.event.EventSpec:
        """Focus the current row's link, as a move later key presses wait for."""
        # A counter that is never reset, so a mark left in the window by an earlier page
        # visit cannot match a move still on its way.
        self._focus_moves += 1
        self._focus_pending = str(self._focus_moves)
        return focus_row(self.current_id, self._focus_pending)
