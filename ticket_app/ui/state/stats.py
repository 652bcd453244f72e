"""Stats panel state: totals, breakdowns and the AI override share, from the service layer."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from ticket_app.services.errors import ServiceError
from ticket_app.services.permissions import Action
from ticket_app.services.tickets import ticket_stats, triage_override_stats
from ticket_app.ui.logic import StatsView, stats_view
from ticket_app.ui.state.session import authorize

logger = logging.getLogger(__name__)


def load_stats_view() -> StatsView:
    """Run both aggregate queries and format them (blocking; call it from a thread)."""
    return stats_view(ticket_stats(), triage_override_stats())


class StatsState(rx.State):
    """Aggregates over every ticket, refreshed after each change and by the list's poll."""

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
    unavailable: bool = False

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

    @rx.event
    async def refresh(self):
        """Reload the aggregates (signed-in users with read access only)."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        self._apply(await fetch_stats_view())
        return None


async def fetch_stats_view() -> StatsView | None:
    """The stats view, or None when the database is unavailable."""
    try:
        return await asyncio.to_thread(load_stats_view)
    except ServiceError as exc:
        logger.warning("stats not refreshed: %s", exc)
        return None
