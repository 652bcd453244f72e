"""The header's bell and the /notifications page: what the signed-in person was told.

`NotificationsState.watch` runs while a console page is open: every POLL_SECONDS it reads the
unread count (one indexed count), so an assignment or a service-level warning raised by
someone else, or by the background check, shows within that time. The page lists the newest
notifications with links to their tickets; opening one marks it read. Beside the list,
`NotificationPreferencesState` keeps the person's choice of which kinds are also e-mailed.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from ticket_app.enums import NotificationKind
from ticket_app.schemas import NotificationPreferenceChange, NotificationsReadRequest, is_id_text
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import ServiceError
from ticket_app.services.notification_preferences import get_preferences, set_preferences
from ticket_app.services.notifications import (
    list_notifications,
    mark_read,
    mark_ticket_read,
    unread_count,
)
from ticket_app.services.rate_limits import WRITES
from ticket_app.ui.logic.notifications import PAGE_SIZE, notification_rows, preference_rows
from ticket_app.ui.safe_events import redirect, toast_error
from ticket_app.ui.state.session import actor_of, authorize

logger = logging.getLogger(__name__)

POLL_SECONDS = 5.0
"""How often an open console asks for the unread count."""


class NotificationsState(rx.State):
    """The unread count (the bell) and the list on /notifications."""

    unread: int = 0
    rows: list[dict[str, str]] = rx.field(default_factory=list)
    loaded: bool = False
    unavailable: bool = False

    @rx.var
    def bell_label(self) -> str:
        """What a screen reader hears for the bell."""
        if self.unread == 0:
            return "Notifications, none unread"
        return f"Notifications, {self.unread} unread"

    @rx.var
    def unread_text(self) -> str:
        """The badge's number ("99+" beyond 99)."""
        return "99+" if self.unread > 99 else str(self.unread)

    @rx.event
    async def start(self):
        """Read the count now, then keep it current (the bell's on_mount)."""
        actor = await actor_of(self)
        if actor is None or not actor.can(Action.NOTIFICATIONS_READ):
            return None
        await self._count(actor)
        return NotificationsState.watch

    async def _count(self, actor: Actor) -> None:
        try:
            self.unread = await asyncio.to_thread(unread_count, actor=actor)
        except ServiceError as exc:
            logger.warning("unread notifications not counted: %s", exc)

    @rx.event(background=True, supersedes=True)
    async def watch(self) -> None:
        """While the tab is signed in, re-read the unread count every POLL_SECONDS."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                actor = await actor_of(self)
            if actor is None or not actor.can(Action.NOTIFICATIONS_READ):
                return
            try:
                count = await asyncio.to_thread(unread_count, actor=actor)
            except ServiceError:
                continue
            async with self:
                changed, listing = count != self.unread, self.loaded
                self.unread = count
            if changed and listing:
                # Read outside the state's lock, so the tab's other events never wait on it.
                try:
                    page = await asyncio.to_thread(list_notifications, actor=actor, limit=PAGE_SIZE)
                except ServiceError:
                    continue
                async with self:
                    self.rows, self.unread = notification_rows(page.items), page.unread

    async def _load_rows(self, actor: Actor) -> None:
        try:
            page = await asyncio.to_thread(list_notifications, actor=actor, limit=PAGE_SIZE)
        except ServiceError as exc:
            logger.warning("notifications not loaded: %s", exc)
            self.unavailable = True
            return
        self.rows, self.unread = notification_rows(page.items), page.unread
        self.loaded, self.unavailable = True, False

    async def _ticket_opened(self, actor: Actor, ticket_id: int) -> None:
        """Mark read what `actor` was told about a ticket they just opened.

        The ticket page's on_load calls this; the bell's count follows.
        """
        if not actor.can(Action.NOTIFICATIONS_READ):
            return
        try:
            if await asyncio.to_thread(mark_ticket_read, ticket_id, actor=actor):
                self.unread = await asyncio.to_thread(unread_count, actor=actor)
        except ServiceError as exc:
            logger.warning("notifications of ticket %s not marked read: %s", ticket_id, exc)

    @rx.event
    async def on_load(self):
        """Load the newest notifications (the /notifications page's on_load)."""
        actor, refusal = await authorize(self, Action.NOTIFICATIONS_READ)
        if actor is None:
            return refusal
        await self._load_rows(actor)
        return None

    @rx.event
    async def open_ticket(self, notification_id: str, ticket_id: str):
        """Mark one notification read and open its ticket."""
        actor, refusal = await authorize(self, Action.NOTIFICATIONS_READ)
        if actor is None:
            return refusal
        if not (is_id_text(notification_id) and is_id_text(ticket_id)):
            return None
        await self._mark(actor, NotificationsReadRequest(ids=[int(notification_id)]))
        return redirect(f"/tickets/{int(ticket_id)}")

    @rx.event
    async def mark_all_read(self):
        """Mark every notification read."""
        actor, refusal = await authorize(self, Action.NOTIFICATIONS_READ)
        if actor is None:
            return refusal
        if not await self._mark(actor, NotificationsReadRequest(all=True)):
            return toast_error("Notifications could not be marked read. Try again.")
        await self._load_rows(actor)
        return None

    async def _mark(self, actor: Actor, request: NotificationsReadRequest) -> bool:
        try:
            result = await asyncio.to_thread(mark_read, request, actor=actor)
        except ServiceError as exc:
            logger.warning("notifications not marked read: %s", exc)
            return False
        self.unread = result.unread
        return True


class NotificationPreferencesState(rx.State):
    """The /notifications page's "Also e-mail me" choices, one per kind of notification."""

    rows: list[dict[str, str]] = rx.field(default_factory=list)
    unavailable: bool = False

    @rx.event
    async def load(self):
        """Read the signed-in person's choices (the /notifications page's second on_load)."""
        actor, refusal = await authorize(self, Action.NOTIFICATIONS_READ)
        if actor is None:
            return refusal
        try:
            items = await asyncio.to_thread(get_preferences, actor=actor)
        except ServiceError as exc:
            logger.warning("notification preferences not loaded: %s", exc)
            self.unavailable = True
            return None
        self.rows, self.unavailable = preference_rows(items), False
        return None

    @rx.event
    async def set_email(self, kind: str, email: bool):
        """Turn the e-mail copy of one kind of notification on or off."""
        actor, refusal = await authorize(self, Action.NOTIFICATIONS_PREFERENCES, counts_as=WRITES)
        if actor is None:
            return refusal
        if kind not in {member.value for member in NotificationKind}:
            return None
        change = NotificationPreferenceChange(kind=NotificationKind(kind), email=bool(email))
        try:
            items = await asyncio.to_thread(set_preferences, [change], actor=actor)
        except ServiceError as exc:
            logger.warning("notification preference not saved: %s", exc)
            return toast_error("Your e-mail choice could not be saved. Try again.")
        self.rows = preference_rows(items)
        return None
