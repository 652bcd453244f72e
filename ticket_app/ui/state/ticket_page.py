"""The page of one ticket (/tickets/[ticket_id]): inline edits, timeline, composer, conflicts.

The page remembers the ticket's ETag (and `updated_at`) from when it was opened or last saved
here. Saves pass that ETag as `if_match`, so a change someone else made in between is reported
(EditConflictError) instead of being overwritten; a poll of the cheap change marker notices
such changes even before the user saves. Comments by others are not conflicts: they change no
field, so the page shows them and takes the new ETag.

It also lists similar open tickets and merges this one into one of them as a duplicate
(issue 14); a merged ticket links to the kept one, and the kept one lists its duplicates.

Its plain functions live in `ui/logic/ticket_page.py`; `load_view` (blocking) runs in a thread
from the handlers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime

import reflex as rx
from pydantic import ValidationError

from ticket_app.schemas import (
    tags_of_text,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import (
    EditConflictError,
    ServiceError,
    TicketNotFoundError,
)
from ticket_app.services.rate_limits import WRITES
from ticket_app.services.tickets import (
    change_marker,
    ticket_etag,
    update_ticket,
)
from ticket_app.ui.logic.form import validation_messages
from ticket_app.ui.logic.mail import (
    comment_files,
    has_pending_delivery,
    reply_hint,
)
from ticket_app.ui.logic.ticket_page import (
    FAILED,
    FIELD_LABELS,
    LOADING,
    NOT_FOUND,
    READY,
    TAGS_FIELD,
    TEXT_FIELDS,
    UNASSIGNED_LABEL,
    TicketView,
    field_update,
    latest_other_change,
    mail_panel,
    names_by_label,
    person_of,
    ticket_fields,
    ticket_id_from_path,
    timeline_rows,
)
from ticket_app.ui.logic.tickets import label_of_value, save_error_message
from ticket_app.ui.logic.triage import similar_rows
from ticket_app.ui.state.focus import focus_when_rendered
from ticket_app.ui.state.notifications import NotificationsState
from ticket_app.ui.state.session import (
    Watched,
    authorize,
    open_page,
    session_setter,
    watch_changes,
)
from ticket_app.ui.state.ticket_composer import TicketComposerMixin
from ticket_app.ui.state.ticket_io import fetch_fresh_view, load_view
from ticket_app.ui.state.ticket_merge import TicketMergeMixin
from ticket_app.ui.state.ticket_tags import TicketTagsMixin
from ticket_app.ui.state.tickets import TicketListState

logger = logging.getLogger(__name__)

POLL_SECONDS = 3.0
OUTAGE_NOTE = "The database is unavailable, so this page may be out of date. Retrying."


class TicketPageState(TicketComposerMixin, TicketTagsMixin, TicketMergeMixin, rx.State):
    """One ticket's page: what it shows, what is being saved, and any edit conflict.

    Its composer (`TicketComposerMixin`), tag chips (`TicketTagsMixin`) and the merge into a
    similar ticket (`TicketMergeMixin`) are written in modules of their own; their vars and
    events are this state's.
    """

    page: str = LOADING
    shown_id: str = ""
    fields: dict[str, str] = rx.field(default_factory=dict)
    # Bumped when a stored text changes under an input, so the input remounts with it.
    versions: dict[str, int] = rx.field(default_factory=dict)
    assignees: list[dict[str, str]] = rx.field(default_factory=list)
    timeline: list[dict[str, str]] = rx.field(default_factory=list)
    load_error: str = ""

    save_note: str = ""
    save_error: str = ""
    field_errors: dict[str, str] = rx.field(default_factory=dict)

    conflict_by: str = ""
    """Who else changed the ticket since this page's base version, by name ("" nobody)."""
    pending_field: str = ""
    pending_value: str = ""

    editing: bool = False
    """Whether the Edit dialog (title and description) is open."""
    edit_round: int = 0
    """Bumped each time the Edit dialog opens, so its inputs start from the stored text."""
    edit_saving: bool = False

    # The e-mail channel: whom a reply is mailed to ("" not mailed), the ticket's own files, each
    # comment's files (by comment id), the requester's ticket count and their other tickets.
    reply_to: str = ""
    files: list[dict[str, str]] = rx.field(default_factory=list)
    comment_files: dict[str, list[dict[str, str]]] = rx.field(default_factory=dict)
    requester_count: str = ""
    other_tickets: list[dict[str, str]] = rx.field(default_factory=list)

    _etag: str = ""
    _base_updated: datetime | None = None
    _conflict_etag: str = ""
    _conflict_updated: datetime | None = None
    _seen_marker: str = ""
    # Actor labels (e-mail addresses) of staff -> their names, for the conflict warning.
    _names_by_label: dict[str, str] = rx.field(default_factory=dict)
    _saving: int = 0
    _pending_mail: bool = False

    @rx.var
    def pending_text(self) -> str:
        """The unsaved change a conflict holds back, e.g. "status: Closed", or ""."""
        if not self.pending_field:
            return ""
        label = FIELD_LABELS.get(self.pending_field, self.pending_field)
        if self.pending_field == "assignee_id":
            value = next(
                (c["label"] for c in self.assignees if c["value"] == self.pending_value),
                UNASSIGNED_LABEL,
            )
        elif self.pending_field in ("status", "priority", "category"):
            value = label_of_value(self.pending_value)
        else:
            value = self.pending_value or "(empty)"
        return f"{label}: {value}"

    @rx.var
    def tag_list(self) -> list[str]:
        """The ticket's tags, sorted (the chips)."""
        return tags_of_text(self.fields.get(TAGS_FIELD, ""))

    @rx.var
    def composer_action(self) -> str:
        """The composer's submit label for the chosen kind of comment."""
        return "Send reply" if self.public_reply else "Add internal note"

    @rx.var
    def composer_hint(self) -> str:
        """Under the composer's kind: who sees it ("Reply by e-mail to Name <address>")."""
        return reply_hint(self.public_reply, self.reply_to)

    def _ticket_id(self) -> int:
        return int(self.shown_id)

    def _show(self, view: TicketView) -> None:
        """Show `view` as the ticket's stored state and take its ETag as the new base."""
        fresh = ticket_fields(view.ticket, view.names)
        self.versions = {
            field: self.versions.get(field, 0) + (self.fields.get(field) != fresh[field])
            for field in TEXT_FIELDS
        }
        self.fields = fresh
        self._show_related(view)
        self.assignees = view.assignee_choices()
        if view.timeline:
            self._show_timeline(view)
        self._etag = view.etag
        self._base_updated = view.ticket.updated_at
        self.page = READY

    def _follow_live(self, view: TicketView) -> None:
        """Show `view`'s fields while a conflict stands, keeping the base version (the ETag).

        Only the field whose change is held back keeps what the page showed: nobody edits the
        others here, so they follow the live ticket (a text input remounts only when its
        stored text changed).
        """
        fresh = ticket_fields(view.ticket, view.names)
        held = self.pending_field
        if held in self.fields:
            fresh[held] = self.fields[held]
        self.versions = {
            field: self.versions.get(field, 0) + (self.fields.get(field) != fresh[field])
            for field in TEXT_FIELDS
        }
        self.fields = fresh

    def _show_related(self, view: TicketView) -> None:
        """Show the similar tickets and the duplicates of `view` (they change with others).

        Also the e-mail channel's panel: whom a reply is mailed to, files, the requester's
        other tickets.
        """
        self._names_by_label = names_by_label(view)
        self.similar = similar_rows(view.similar)
        self.duplicates = [str(ticket_id) for ticket_id in view.duplicates]
        panel = mail_panel(view)
        self.reply_to = panel["reply_to"]
        self.files = panel["files"]
        self.requester_count = panel["requester_count"]
        self.other_tickets = panel["other_tickets"]

    def _show_timeline(self, view: TicketView) -> None:
        """Show `view`'s timeline with its comments' files; note mail still to be delivered."""
        self.timeline = timeline_rows(view.timeline, view.names, names_by_label(view))
        comments = [entry.comment for entry in view.timeline if entry.comment is not None]
        self.comment_files = comment_files(comments)
        self._pending_mail = has_pending_delivery(self.timeline)

    def _clear_conflict(self) -> None:
        self.conflict_by = self.pending_field = self.pending_value = ""
        self._conflict_etag = ""
        self._conflict_updated = None

    def _take_fresh(self, view: TicketView, actor: Actor) -> None:
        """Fold a re-read ticket in: warn when someone else changed a field since the base."""
        self._show_related(view)
        self.assignees = view.assignee_choices()
        if view.timeline:
            self._show_timeline(view)
        if view.etag == self._etag or self._base_updated is None:
            return
        who = None
        if actor.can(Action.TICKETS_EDIT):
            who = latest_other_change(view.timeline, self._base_updated, actor.label)
        if who is None and not self.conflict_by:
            self._show(view)
            return
        self.conflict_by = self._name_of(who) if who else self.conflict_by
        self._conflict_etag = view.etag
        self._conflict_updated = view.ticket.updated_at
        self._follow_live(view)

    def _name_of(self, label: str) -> str:
        """The name of the staff member with actor label `label`; the label when unknown."""
        return person_of(label, self._names_by_label)

    @rx.event
    async def on_load(self) -> AsyncIterator:
        """Check the session, read the ticket named by the URL, start watching it."""
        actor, refusal = await open_page(self, Action.TICKETS_READ)
        if actor is None:
            yield refusal
            return
        ticket_id = ticket_id_from_path(self.router.url.path)
        self.reset()
        self.shown_id = str(ticket_id or self.router.url.path.rstrip("/").rsplit("/", 1)[-1])
        if ticket_id is None:
            self.page = NOT_FOUND
            return
        yield
        try:
            marker = await asyncio.to_thread(change_marker)
            view = await asyncio.to_thread(
                load_view, ticket_id, with_timeline=actor.can(Action.AUDIT_READ), actor=actor
            )
        except TicketNotFoundError:
            self.page = NOT_FOUND
            return
        except ServiceError as exc:
            logger.warning("ticket page not loaded: %s", exc)
            self.page = FAILED
            self.load_error = "The ticket could not be loaded: the database is unavailable."
            return
        self._seen_marker = marker
        self._show(view)
        (await self.get_state(TicketListState))._remember_opened(str(ticket_id))
        await (await self.get_state(NotificationsState))._ticket_opened(actor, ticket_id)
        # Moving focus to the heading tells screen readers the page changed (a client-side
        # navigation announces nothing by itself). The heading is rendered only with the
        # loaded ticket, after this message's focus move would run: so wait for it.
        yield [focus_when_rendered("ticket-heading"), TicketPageState.poll]

    @rx.event
    async def retry(self):
        """Load the page again after a failure."""
        return type(self).on_load

    @rx.event(background=True, supersedes=True)
    async def poll(self) -> None:
        """Every few seconds, pick up changes others made to this ticket (while it is open).

        Asks the cheap change marker first and re-reads the ticket only when it moved. Skips a
        round while a save or a comment is under way, so their answers are not overtaken.
        Ends when the tab leaves the page or the session ends.
        """
        await watch_changes(
            self,
            POLL_SECONDS,
            watched=self._watched,
            fetch=fetch_fresh_view,
            show=self._show_fresh,
            outage=self._show_outage,
        )

    def _watched(self) -> Watched[int] | None:
        """The ticket shown, for a round of `poll`; None once the tab shows another page.

        While a reply's mail is queued or being sent, every round re-reads the ticket: its
        delivery state changes without moving the change marker (the ticket is not updated).
        """
        here = ticket_id_from_path(self.router.url.path)
        if here is None or str(here) != self.shown_id:
            return None
        seen = "" if self._pending_mail else self._seen_marker
        return Watched(here, seen, busy=self._saving > 0 or self.sending)

    async def _show_fresh(
        self, actor: Actor, watched: Watched[int], view: TicketView | None, marker: str
    ) -> bool:
        """Take a round's re-read ticket; a ticket gone (None) ends the watch."""
        if view is None:
            self.page = NOT_FOUND
            return False
        if self.shown_id == str(watched.shown) and self._saving == 0 and not self.sending:
            self._seen_marker = marker
            self._show_outage(False)
            self._take_fresh(view, actor)
        return True

    def _show_outage(self, down: bool) -> None:
        if down:
            self.load_error = OUTAGE_NOTE
        elif self.load_error == OUTAGE_NOTE:
            self.load_error = ""

    @rx.event
    async def save_field(self, field: str, value: str) -> AsyncIterator:
        """Save one field typed or chosen on the page, unless it is unchanged.

        Passes the ETag the page holds as `if_match`: when someone else changed the ticket
        meanwhile, nothing is saved and the conflict warning offers to reload or apply anyway.
        """
        if self.page != READY or self.fields.get(field) == value:
            self.field_errors = {k: v for k, v in self.field_errors.items() if k != field}
            return
        async for update in self._save(field, value, self._etag):
            yield update

    async def _save(self, field: str, value: str, if_match: str) -> AsyncIterator:
        """Save `field` = `value` against `if_match`, saying how it went (a handler's body)."""
        actor, refusal = await authorize(self, Action.TICKETS_EDIT, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        label = FIELD_LABELS.get(field, field)
        try:
            changes = field_update(field, value)
        except (ValidationError, ValueError) as exc:
            message = (
                "; ".join(validation_messages(exc).values())
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            self.field_errors = {**self.field_errors, field: message}
            self.save_note = ""
            return
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != field}
        self.save_error = ""
        self.save_note = f"Saving {label}…"
        self._saving += 1
        yield
        try:
            ticket_id = self._ticket_id()
            await asyncio.to_thread(
                update_ticket, ticket_id, changes, actor=actor, if_match=if_match
            )
            view = await asyncio.to_thread(
                load_view, ticket_id, with_timeline=actor.can(Action.AUDIT_READ), actor=actor
            )
        except EditConflictError as exc:
            self.save_note = ""
            self._conflict_etag = ticket_etag(exc.current)
            self._conflict_updated = exc.current.updated_at
            self.pending_field, self.pending_value = field, value
            await self._show_conflict(actor, exc.changed_by)
        except ServiceError as exc:
            self.save_note = ""
            self.save_error = f"The {label} was not saved: {save_error_message(exc)}."
        else:
            self._show(view)
            self.save_note = f"Saved {label}."
        finally:
            self._saving -= 1

    @rx.event
    async def start_edit(self):
        """Open the Edit dialog with the stored title and description."""
        actor, refusal = await authorize(self, Action.TICKETS_EDIT)
        if actor is None:
            return refusal
        if self.page != READY:
            return None
        self.field_errors = {
            k: v for k, v in self.field_errors.items() if k not in ("title", "description")
        }
        self.save_error = ""
        self.edit_round += 1
        self.editing = True
        return None

    @rx.event
    @session_setter
    def edit_dialog_changed(self, is_open: bool) -> None:
        """The dialog asked to close (Cancel, Esc, a click outside): drop what was typed."""
        if not is_open and not self.edit_saving:
            self.editing = False

    @rx.event
    async def save_edit(self, form_data: dict) -> AsyncIterator:
        """Save the Edit dialog's title and description, each only when it changed.

        Each is saved like any field (audited by the service, against the page's ETag). The
        dialog stays open with the message when a value is refused or the save fails; it closes
        on success, and on an edit conflict (the warning then holds the change back); focus
        then goes back to the Edit button.
        """
        if self.page != READY or self.edit_saving:
            return
        edits = [
            (field, str(form_data.get(field, "")))
            for field in ("title", "description")
            if str(form_data.get(field, "")) != self.fields.get(field)
        ]
        self.edit_saving = True
        try:
            for field, value in edits:
                async for update in self._save(field, value, self._etag):
                    yield update
                if field in self.field_errors or self.save_error:
                    return
                if self.conflict_by:
                    break
        finally:
            self.edit_saving = False
        self.editing = False
        if len(edits) == 2 and not self.conflict_by:
            self.save_note = "Saved title and description."

    async def _show_conflict(self, actor: Actor, changed_by: str | None) -> None:
        """After a refused save: name who changed the ticket; show the rest as it is now.

        The re-read also brings the other change into the timeline and the staff's names; when
        it fails the warning names them by their actor label.
        """
        try:
            view = await asyncio.to_thread(
                load_view,
                self._ticket_id(),
                with_timeline=actor.can(Action.AUDIT_READ),
                actor=actor,
            )
        except ServiceError as exc:
            logger.warning("ticket page not refreshed after a conflict: %s", exc)
        else:
            self._show_related(view)
            self.assignees = view.assignee_choices()
            if view.timeline:
                self._show_timeline(view)
            self._follow_live(view)
        self.conflict_by = self._name_of(changed_by) if changed_by else "Someone"

    @rx.event
    async def apply_anyway(self) -> AsyncIterator:
        """Keep this page's version: save the held-back change over the other one."""
        etag, updated = self._conflict_etag, self._conflict_updated
        field, value = self.pending_field, self.pending_value
        if not etag:
            return
        if not field:
            actor, refusal = await authorize(self, Action.TICKETS_EDIT)
            if actor is None:
                yield refusal
                return
            self._etag, self._base_updated = etag, updated
            self._clear_conflict()
            yield rx.set_focus("ticket-heading")
            return
        self._clear_conflict()
        async for update in self._save(field, value, etag):
            yield update
        if not self.conflict_by:
            yield rx.set_focus("ticket-heading")

    @rx.event
    async def reload(self) -> AsyncIterator:
        """Drop the held-back change and show the ticket as it is stored now."""
        actor, refusal = await authorize(self, Action.TICKETS_READ)
        if actor is None:
            yield refusal
            return
        if not self.shown_id:
            return
        try:
            view = await asyncio.to_thread(
                load_view,
                self._ticket_id(),
                with_timeline=actor.can(Action.AUDIT_READ),
                actor=actor,
            )
        except ServiceError as exc:
            self.save_error = f"The ticket was not reloaded: {save_error_message(exc)}."
            return
        self._clear_conflict()
        # Remount every text input: what was typed there belonged to the dropped version.
        self.versions = {field: self.versions.get(field, 0) + 1 for field in TEXT_FIELDS}
        self._show(view)
        self.field_errors = {}
        self.save_error = ""
        self.save_note = "Reloaded: showing the latest version."
        yield rx.set_focus("ticket-heading")

    async def _reread(self, ticket_id: int, actor: Actor, after: str) -> TicketView | None:
        """The ticket re-read after a change made on this page (`after` names it, for the log).

        Takes the change marker too, so the poll does not read it again. None when the read
        failed: the change was made, and the poll catches up later.
        """
        try:
            marker = await asyncio.to_thread(change_marker)
            view = await asyncio.to_thread(
                load_view, ticket_id, with_timeline=actor.can(Action.AUDIT_READ), actor=actor
            )
        except ServiceError as exc:
            logger.warning("ticket page not refreshed after %s: %s", after, exc)
            return None
        self._seen_marker = marker
        return view
