"""Who follows the ticket on the ticket page, and its Follow / Unfollow button."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from ticket_app.services.access import Action
from ticket_app.services.errors import ServiceError
from ticket_app.services.followers import follow, list_followers, unfollow
from ticket_app.services.rate_limits import WRITES
from ticket_app.ui.logic.ticket_page import ticket_id_from_path
from ticket_app.ui.safe_events import toast_error
from ticket_app.ui.state.session import actor_of, authorize

logger = logging.getLogger(__name__)


class FollowState(rx.State):
    """The ticket's followers (names) and whether the signed-in person is one."""

    names: list[str] = rx.field(default_factory=list)
    following: bool = False
    may_follow: bool = False
    busy: bool = False

    @rx.var
    def followers_text(self) -> str:
        """The followers' names in one line ("Nobody follows this ticket." when none)."""
        return ", ".join(self.names) if self.names else "Nobody follows this ticket."

    @rx.event
    async def load(self) -> None:
        """Read the followers of the ticket in the URL (after the page's own on_load)."""
        actor = await actor_of(self)
        ticket_id = ticket_id_from_path(self.router.url.path)
        self.names, self.following, self.busy = [], False, False
        if actor is None or ticket_id is None or not actor.can(Action.TICKETS_READ):
            return
        self.may_follow = actor.can(Action.TICKETS_FOLLOW)
        try:
            rows = await asyncio.to_thread(list_followers, ticket_id, actor=actor)
        except ServiceError as exc:
            logger.warning("followers not loaded: %s", exc)
            return
        self.names = [row.name for row in rows]
        self.following = any(row.user_id == actor.user_id for row in rows)

    @rx.event
    async def toggle(self):
        """Follow the ticket, or stop following it."""
        actor, refusal = await authorize(self, Action.TICKETS_FOLLOW, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        ticket_id = ticket_id_from_path(self.router.url.path)
        if ticket_id is None:
            return
        self.busy = True
        yield
        try:
            change = unfollow if self.following else follow
            await asyncio.to_thread(change, ticket_id, actor=actor)
        except ServiceError as exc:
            logger.warning("follow not changed: %s", exc)
            self.busy = False
            yield toast_error("That did not work; try again.")
            return
        await self.load()
