"""Dashboard state: the ticket list's stats for the same filters (read from the URL).

Totals, breakdowns, per-assignee load, median time to first public reply, AI override share.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import reflex as rx

from ticket_app.schemas import TicketFilters
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import InvalidInputError, ServiceError
from ticket_app.services.identity.users import assignable_staff
from ticket_app.services.rate_limits import expensive_turn
from ticket_app.services.stats import (
    created_and_resolved_per_day,
    ticket_stats,
    triage_override_stats,
)
from ticket_app.services.tickets import change_marker
from ticket_app.ui.logic.stats import FLOW_PERIODS, StatsView, stats_view
from ticket_app.ui.logic.tickets import list_query
from ticket_app.ui.safe_events import redirect
from ticket_app.ui.state.session import Watched, authorize, open_page, watch_changes
from ticket_app.ui.state.views import resolved_filters

logger = logging.getLogger(__name__)

POLL_SECONDS = 5.0


def load_stats_view(filters: TicketFilters | None = None, days: int = FLOW_PERIODS[0]) -> StatsView:
    """Run the aggregate queries for `filters` and format them (blocking; use a thread).

    `days` is the created-versus-resolved chart's period, ending today (UTC).
    """
    return stats_view(
        ticket_stats(filters, workload=True),
        triage_override_stats(filters),
        created_and_resolved_per_day(filters, days=days),
    )


class StatsState(rx.State):
    """The dashboard's aggregates for the filters in its URL, refreshed when tickets change."""

    described: str = "All tickets"
    list_href: str = "/"
    loaded: bool = False
    total_count: int = 0
    open_count: int = 0
    total_text: str = "0"
    open_text: str = "0"
    avg_per_day: str = "0.00"
    priority_summary: str = ""
    category_summary: str = ""
    priority_rows: list[dict[str, str | int]] = rx.field(default_factory=list)
    category_rows: list[dict[str, str | int]] = rx.field(default_factory=list)
    override_text: str = ""
    override_rate: str = "0%"
    assignee_rows: list[dict[str, str]] = rx.field(default_factory=list)
    median_first_reply: str = "—"
    tag_rows: list[dict[str, str]] = rx.field(default_factory=list)
    flow_rows: list[dict[str, str | int]] = rx.field(default_factory=list)
    flow_summary: str = ""
    period: str = str(FLOW_PERIODS[0])
    unavailable: bool = False

    _filters: TicketFilters | None = None
    _seen_marker: str = ""

    def _apply(self, view: StatsView | None) -> None:
        """Show `view`; None means the database could not be read (the old numbers stay)."""
        if view is None:
            self.unavailable = True
            return
        self.unavailable = False
        self.loaded = True
        self.total_count = view.total
        self.open_count = view.open
        self.total_text = view.total_text
        self.open_text = view.open_text
        self.avg_per_day = view.avg_per_day
        self.priority_summary = view.priority_summary
        self.category_summary = view.category_summary
        self.priority_rows = view.priority_rows
        self.category_rows = view.category_rows
        self.override_text = view.override_text
        self.override_rate = view.override_rate
        self.assignee_rows = view.assignee_rows
        self.median_first_reply = view.median_first_reply
        self.tag_rows = view.tag_rows
        self.flow_rows = view.flow_rows
        self.flow_summary = view.flow_summary

    @rx.event
    async def on_load(self) -> AsyncIterator:
        """Check the session, read the list's filters from the URL, load, keep refreshing."""
        actor, refusal = await open_page(self, Action.TICKETS_READ)
        if actor is None:
            yield refusal
            return
        query = list_query(self.router.url.query_parameters)
        self.list_href = query.url()
        try:
            names = {str(u.id): u.name for u in await asyncio.to_thread(assignable_staff)}
            self._filters = await asyncio.to_thread(resolved_filters, query, actor)
        except InvalidInputError:
            yield redirect(query.changed(assignee="").url("/dashboard"), replace=True)
            return
        except ServiceError as exc:
            logger.warning("dashboard not loaded: %s", exc)
            self._apply(None)
            return
        self.described = query.describe(names)
        yield StatsState.refresh
        yield StatsState.poll

    @rx.event
    async def refresh(self):
        """Reload the aggregates (signed-in users with read access only)."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        try:
            self._seen_marker = await asyncio.to_thread(change_marker)
        except ServiceError:
            self._seen_marker = ""
        self._apply(await fetch_stats_view(actor, self._shown()))
        return None

    @rx.event
    async def set_period(self, value: str):
        """Show the created-versus-resolved chart over the last `value` days.

        `value` is one of FLOW_PERIODS as text; anything else is ignored.
        """
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        if value not in {str(days) for days in FLOW_PERIODS}:
            return None
        self.period = value
        self._apply(await fetch_stats_view(actor, self._shown()))
        return None

    def _shown(self) -> tuple[TicketFilters | None, int]:
        """The filters and the chart's period in days, what a load reads."""
        return self._filters, int(self.period)

    @rx.event(background=True, supersedes=True)
    async def poll(self) -> None:
        """While the dashboard is open, reload when the tickets' change marker moves."""
        await watch_changes(
            self,
            POLL_SECONDS,
            watched=self._watched,
            fetch=fetch_stats_view,
            show=self._show_fresh,
            outage=self._mark_outage,
        )

    def _watched(self) -> Watched[tuple[TicketFilters | None, int]]:
        """The filters and period shown, for a round of `poll`."""
        return Watched(self._shown(), self._seen_marker)

    async def _show_fresh(
        self,
        actor: Actor,
        watched: Watched[tuple[TicketFilters | None, int]],
        view: StatsView | None,
        marker: str,
    ) -> bool:
        """Show a round's stats; the marker counts as seen only when they could be read."""
        self._apply(view)
        if view is not None:
            self._seen_marker = marker
        return True

    def _mark_outage(self, down: bool) -> None:
        """Mark the numbers stale when the database could not be read; a load clears it."""
        if down:
            self.unavailable = True


async def fetch_stats_view(
    actor: Actor, shown: tuple[TicketFilters | None, int] = (None, FLOW_PERIODS[0])
) -> StatsView | None:
    """The stats view for `shown` (filters, chart period in days), in an expensive-read turn.

    None when the database is unavailable or no turn came (ExpensiveReadsBusyError is a
    ServiceError).
    """
    try:
        async with expensive_turn(actor.user_id):
            return await asyncio.to_thread(load_stats_view, *shown)
    except ServiceError as exc:
        logger.warning("stats not refreshed: %s", exc)
        return None
