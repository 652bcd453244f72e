"""The dashboard's service-level section: the SLA report for the filters in the page's URL.

Loaded with the dashboard (the same URL filters as `StatsState`) and reloaded when tickets
change, through the one change-poll loop (`watch_changes`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import reflex as rx

from ticket_app.schemas import TicketFilters
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import ServiceError
from ticket_app.services.rate_limits import expensive_turn
from ticket_app.services.sla_report import sla_report
from ticket_app.services.tickets import change_marker
from ticket_app.ui.logic.sla_report import SlaReportView, sla_report_view
from ticket_app.ui.logic.tickets import list_query
from ticket_app.ui.state.session import Watched, authorize, watch_changes
from ticket_app.ui.state.views import resolved_filters

logger = logging.getLogger(__name__)

POLL_SECONDS = 5.0


def load_sla_report_view(filters: TicketFilters | None) -> SlaReportView:
    """Run the report's aggregate queries for `filters` and format them (blocking)."""
    return sla_report_view(sla_report(filters))


async def fetch_sla_report_view(
    actor: Actor, filters: TicketFilters | None
) -> SlaReportView | None:
    """The report view for `filters` in one of `actor`'s expensive-read turns.

    None when the database is unavailable or no turn came.
    """
    try:
        async with expensive_turn(actor.user_id):
            return await asyncio.to_thread(load_sla_report_view, filters)
    except ServiceError as exc:
        logger.warning("SLA report not refreshed: %s", exc)
        return None


class SlaReportState(rx.State):
    """Compliance per target and priority, business-hour times and breaches per assignee."""

    loaded: bool = False
    unavailable: bool = False
    compliance_rows: list[dict[str, str]] = rx.field(default_factory=list)
    time_rows: list[dict[str, str]] = rx.field(default_factory=list)
    assignee_rows: list[dict[str, str]] = rx.field(default_factory=list)

    _filters: TicketFilters | None = None
    _seen_marker: str = ""

    def _apply(self, view: SlaReportView | None) -> None:
        """Show `view`; None: the database could not be read (the old figures stay, marked)."""
        if view is None:
            self.unavailable = True
            return
        self.unavailable = False
        self.loaded = True
        self.compliance_rows = view.compliance_rows
        self.time_rows = view.time_rows
        self.assignee_rows = view.assignee_rows

    @rx.event
    async def on_load(self) -> AsyncIterator:
        """Read the list's filters from the URL, load the report, keep it fresh.

        The dashboard's `StatsState.on_load` opens the page (sign-in, refusals, a bad
        assignee's redirect); here a refused or invalid load shows nothing.
        """
        actor, _ = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return
        query = list_query(self.router.url.query_parameters)
        try:
            self._filters = await asyncio.to_thread(resolved_filters, query, actor)
        except ServiceError as exc:
            logger.warning("SLA report not loaded: %s", exc)
            self._apply(None)
            return
        yield SlaReportState.refresh
        yield SlaReportState.poll

    @rx.event
    async def refresh(self):
        """Reload the report (signed-in users with read access only)."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        try:
            self._seen_marker = await asyncio.to_thread(change_marker)
        except ServiceError:
            self._seen_marker = ""
        self._apply(await fetch_sla_report_view(actor, self._filters))
        return None

    @rx.event(background=True, supersedes=True)
    async def poll(self) -> None:
        """While the dashboard is open, reload when the tickets' change marker moves."""
        await watch_changes(
            self,
            POLL_SECONDS,
            watched=self._watched,
            fetch=fetch_sla_report_view,
            show=self._show_fresh,
            outage=self._mark_outage,
        )

    def _watched(self) -> Watched[TicketFilters | None]:
        """The filters shown, for a round of `poll`."""
        return Watched(self._filters, self._seen_marker)

    async def _show_fresh(
        self,
        actor: Actor,
        watched: Watched[TicketFilters | None],
        view: SlaReportView | None,
        marker: str,
    ) -> bool:
        """Show a round's report; the marker counts as seen only when it could be read."""
        self._apply(view)
        if view is not None:
            self._seen_marker = marker
        return True

    def _mark_outage(self, down: bool) -> None:
        """Mark the figures stale when the database could not be read."""
        if down:
            self.unavailable = True
