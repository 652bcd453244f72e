"""The navigation's views: the built-in queues and saved views, each with a live count."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl

import reflex as rx

from ticket_app.schemas import SavedViewCreate, TicketFilters, TicketSort
from ticket_app.services.access import Action, Actor
from ticket_app.services.bulk import count_up_to_cap
from ticket_app.services.errors import ServiceError
from ticket_app.services.identity.users import list_users
from ticket_app.services.rate_limits import WRITES
from ticket_app.services.ticket_query import resolve_assignee
from ticket_app.services.views import (
    DeletedView,
    delete_view,
    list_views,
    restore_view,
    save_view,
    view_counts,
)
from ticket_app.settings import get_settings
from ticket_app.ui.logic.tickets import ME, UNASSIGNED, ListQuery, count_text, list_query
from ticket_app.ui.safe_events import toast_error, toast_success, toast_undo
from ticket_app.ui.state.session import authorize, session_setter

logger = logging.getLogger(__name__)

BUILTIN_VIEWS: tuple[tuple[str, str, str, ListQuery], ...] = (
    ("open", "All open", "inbox", ListQuery(status="open", sort=TicketSort.DUE.value)),
    ("mine", "Assigned to me", "user-check", ListQuery(assignee=ME)),
    ("unassigned", "Unassigned", "user-x", ListQuery(status="open", assignee=UNASSIGNED)),
    ("due-soon", "Due soon", "alarm-clock", ListQuery(sla="due_soon", sort=TicketSort.DUE.value)),
    (
        "breached",
        "Breached",
        "alarm-clock-off",
        ListQuery(sla="breached", sort=TicketSort.DUE.value),
    ),
    ("all", "All tickets", "list", ListQuery()),
)
"""(key, label, icon, query) of the queues every staff member has.

"All open" lists the nearest service-level due time first; "Due soon" holds tickets whose
running target falls due within SLA_DUE_SOON_MINUTES, "Breached" those with a broken target
still running or paused. "Unassigned" holds open tickets nobody owns, the work waiting to be
picked up, so it counts what the dashboard's "Unassigned" row of open tickets by assignee
counts; a resolved or closed ticket that was never assigned needs no one and stays out of it.
"""

SHARED_VIEW_ICON = "users"
OWN_VIEW_ICON = "bookmark"
VIEW_ICONS: tuple[str, ...] = (
    *dict.fromkeys(icon for _key, _label, icon, _query in BUILTIN_VIEWS),
    SHARED_VIEW_ICON,
    OWN_VIEW_ICON,
)
"""Every icon name a navigation row can carry (the nav draws each from a fixed set)."""


def resolved_filters(query: ListQuery, actor: Actor) -> TicketFilters:
    """The service filters of `query`, "me" resolved to `actor`'s id (blocking: may query).

    Raises InvalidInputError (naming `assignee`) for an assignee the service refuses.
    """
    assignee = resolve_assignee(query.assignee, actor) if query.assignee else None
    return query.filters(assignee)


@dataclass(frozen=True)
class NavData:
    """What the navigation lists: built-in queues and saved views, as flat string rows.

    Each row: `key`, `label`, `href` (the list's URL for it), `count` (with separators);
    saved views add `id`, `icon`, `own` ("yes" or ""), `shared` ("yes" or "") and `owner`
    (the owner's name).
    """

    builtin: list[dict[str, str]]
    saved: list[dict[str, str]]


def load_nav(actor: Actor) -> NavData:
    """The built-in queues and `actor`'s own and shared views with their counts (blocking).

    Counts are exact up to `Settings.count_cap` and worded as the list's total is beyond it
    ("about 200,000"): the navigation recounts on every page load and refresh.
    """
    cap = get_settings().count_cap
    builtin = [
        {
            "key": key,
            "label": label,
            "icon": icon,
            "href": query.url(),
            "count": count_text(*count_up_to_cap(resolved_filters(query, actor)), cap),
        }
        for key, label, icon, query in BUILTIN_VIEWS
    ]
    views = list_views(actor=actor)
    counts = view_counts(views, actor=actor)
    saved = [
        {
            "key": f"view-{view.id}",
            "id": str(view.id),
            "label": view.name,
            "icon": SHARED_VIEW_ICON if view.shared else OWN_VIEW_ICON,
            "href": list_query(view.query).url(),
            "count": count_text(*counts.get(view.id, (0, True)), cap),
            "own": "yes" if view.owner_id == actor.user_id else "",
            "shared": "yes" if view.shared else "",
            "owner": view.owner_name,
        }
        for view in views
    ]
    return NavData(builtin=builtin, saved=saved)


class NavState(rx.State):
    """The views in the navigation, the one the list shows, and the "Save view" dialog."""

    builtin: list[dict[str, str]] = rx.field(default_factory=list)
    saved: list[dict[str, str]] = rx.field(default_factory=list)
    active_href: str = ""

    save_open: bool = False
    new_name: str = ""
    new_shared: bool = False
    save_error: str = ""

    # The view the delete confirmation asks about ("" when it is closed) and what it says.
    delete_id: str = ""
    delete_name: str = ""
    delete_note: str = ""
    _deleted: DeletedView | None = None

    @rx.var
    def dashboard_href(self) -> str:
        """The dashboard for the list the tab shows (for every ticket elsewhere)."""
        return "/dashboard" + self.active_href.removeprefix("/")

    def _show(self, nav: NavData) -> None:
        """Show freshly counted views."""
        self.builtin, self.saved = nav.builtin, nav.saved

    @rx.event
    async def load(self):
        """Count the views and mark the one the tab shows (the frame's on_mount)."""
        url = self.router.url
        on_list = (url.path or "/").rstrip("/") == ""
        self.active_href = list_query(url.query_parameters).url() if on_list else ""
        return await self.refresh_counts()

    @rx.event
    async def refresh_counts(self):
        """Recount every view (after a change made in this tab)."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        try:
            self._show(await asyncio.to_thread(load_nav, actor))
        except ServiceError as exc:
            logger.warning("view counts not loaded: %s", exc)
        return None

    @rx.event
    @session_setter
    def open_save(self, is_open: bool = True) -> None:
        """Open or close the "Save view" dialog (opening starts with an empty name)."""
        self.save_open = is_open
        if is_open:
            self.new_name, self.new_shared, self.save_error = "", False, ""

    @rx.event
    @session_setter
    def set_new_name(self, value: str) -> None:
        """The name typed for the view."""
        self.new_name = value
        self.save_error = ""

    @rx.event
    @session_setter
    def set_new_shared(self, value: bool) -> None:
        """Whether the view is shared with the team (admins)."""
        self.new_shared = value

    @rx.event
    async def save(self, form_data: dict):
        """Save the list's filters, search and sort under the typed name.

        `form_data["query"]` is the list's query string as the form's hidden field holds it;
        it is parsed like any URL, so nothing but the list's own parameters is stored.
        """
        actor, refusal = await authorize(self, Action.VIEWS_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        name = self.new_name.strip()
        if not name:
            self.save_error = "Give the view a name."
            return None
        query = list_query(dict(parse_qsl(str(form_data.get("query", "")).lstrip("?"))))
        try:
            data = SavedViewCreate(name=name, query=query.params(), shared=self.new_shared)
            view = await asyncio.to_thread(save_view, data, actor=actor)
        except (ServiceError, ValueError) as exc:
            self.save_error = f"Not saved: {exc}"
            return None
        self.save_open = False
        self.active_href = query.url()
        return [toast_success(f"View “{view.name}” saved"), NavState.refresh_counts]

    @rx.event
    async def ask_delete(self, view_id: str):
        """Open the confirmation for deleting a saved view, saying who else loses it."""
        actor, refusal = await authorize(self, Action.VIEWS_MANAGE_OWN)
        if actor is None:
            return refusal
        row = next((v for v in self.saved if v["id"] == view_id), None)
        if row is None:
            return toast_error("View not deleted: unknown view.")
        others = 0
        if row["shared"]:
            try:
                people = await asyncio.to_thread(list_users)
            except ServiceError as exc:
                return toast_error(f"View not deleted: {exc}")
            others = sum(1 for user in people if user.is_active and user.id != actor.user_id)
        self.delete_id, self.delete_name = view_id, row["label"]
        self.delete_note = delete_note(row, others)
        return None

    @rx.event
    @session_setter
    def delete_dialog_changed(self, is_open: bool) -> None:
        """Closing the confirmation (Cancel, Escape) forgets the view it asked about."""
        if not is_open:
            self.delete_id = ""

    @rx.event
    async def delete(self, view_id: str):
        """Delete a saved view (its owner, or an admin); the toast offers Undo."""
        actor, refusal = await authorize(self, Action.VIEWS_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        self.delete_id = ""
        name = next((v["label"] for v in self.saved if v["id"] == view_id), "")
        if not view_id.isdigit():
            return toast_error("View not deleted: unknown view.")
        try:
            self._deleted = await asyncio.to_thread(delete_view, int(view_id), actor=actor)
        except ServiceError as exc:
            return toast_error(f"View not deleted: {exc}")
        self.saved = [v for v in self.saved if v["id"] != view_id]
        return toast_undo(f"View “{name}” deleted", NavState.undo_delete)

    @rx.event
    async def undo_delete(self):
        """Put back the view this tab deleted last, with its id, sharing and query."""
        actor, refusal = await authorize(self, Action.VIEWS_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        deleted = self._deleted
        if deleted is None:
            return toast_error("Nothing to undo.")
        try:
            await asyncio.to_thread(restore_view, deleted, actor=actor)
        except ServiceError as exc:
            return toast_error(f"View not restored: {exc}")
        self._deleted = None
        return [toast_success(f"View “{deleted.name}” restored"), NavState.refresh_counts]


def delete_note(row: dict[str, str], others: int) -> str:
    """What deleting the saved view `row` (a `NavData.saved` row) takes away, and from whom.

    `others` is how many other active staff members see a shared view.
    """
    if not row["shared"]:
        return "Only you see this view. It will be removed from your navigation."
    people = "1 other person" if others == 1 else f"{others:,} other people"
    owner = "" if row["own"] else f" It was saved by {row['owner']}."
    return (
        f"This view is shared with the whole team: deleting it removes it from the navigation "
        f"of everyone, you and {people}.{owner}"
    )
