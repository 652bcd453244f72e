"""The page of one ticket (/tickets/[ticket_id]): inline edits, timeline, composer, conflicts.

The page remembers the ticket's ETag (and `updated_at`) from when it was opened or last saved
here. Saves pass that ETag as `if_match`, so a change someone else made in between is reported
(EditConflictError) instead of being overwritten; a poll of the cheap change marker notices
such changes even before the user saves. Comments by others are not conflicts: they change no
field, so the page shows them and takes the new ETag.

It also lists similar open tickets and merges this one into one of them as a duplicate
(issue 14); a merged ticket links to the kept one, and the kept one lists its duplicates.

The functions at the top are plain (no Reflex) so they unit-test; the blocking ones run in a
thread from the handlers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import reflex as rx
from pydantic import ValidationError

from ticket_app.enums import CommentChannel, EventKind
from ticket_app.schemas import (
    CommentCreate,
    SimilarTicket,
    TicketRead,
    TicketUpdate,
    TimelineEntry,
    UserRead,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.comments import add_comment, ticket_timeline
from ticket_app.services.errors import (
    DatabaseUnavailableError,
    EditConflictError,
    ServiceError,
    TicketNotFoundError,
)
from ticket_app.services.identity.users import assignable_staff, get_user
from ticket_app.services.rate_limits import WRITES
from ticket_app.services.similarity import duplicates_of, merge_ticket, similar_to_ticket
from ticket_app.services.ticket_query import is_row_id
from ticket_app.services.tickets import change_marker, get_ticket, ticket_etag, update_ticket
from ticket_app.ui.logic import label_of_value, validation_messages
from ticket_app.ui.safe_events import toast_success
from ticket_app.ui.state.session import actor_of, authorize, open_page, session_setter
from ticket_app.ui.state.tickets import (
    TicketListState,
    focus_when_rendered,
    save_error_message,
)
from ticket_app.ui.triage_view import merge_error_message, similar_rows, triage_fields

logger = logging.getLogger(__name__)

POLL_SECONDS = 3.0
TEXT_FIELDS = ("title", "description", "requester_name", "requester_email")
CHOICE_FIELDS = ("status", "priority", "category", "assignee_id")
# Fields the page may clear: an empty input or the "Unassigned" choice stores null.
CLEARABLE_FIELDS = frozenset({"requester_name", "requester_email", "assignee_id"})
FIELD_LABELS = {
    "title": "title",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "category": "category",
    "assignee_id": "assignee",
    "requester_name": "requester name",
    "requester_email": "requester email",
}
UNASSIGNED_LABEL = "Unassigned"
# Events that change a field someone may be editing; comments (and their audit lines) do not.
CONFLICTING_EVENTS = frozenset({EventKind.CHANGED, EventKind.MERGED})
OUTAGE_NOTE = "The database is unavailable, so this page may be out of date. Retrying."
LOADING, READY, NOT_FOUND, FAILED = "loading", "ready", "not_found", "failed"


def ticket_id_from_path(path: str) -> int | None:
    """The ticket id in a page path such as "/tickets/12" or "/tickets/12/", else None.

    None also for ids that are not ASCII digits or lie outside the id column's range.
    """
    parts = [part for part in path.split("/") if part]
    if len(parts) != 2 or parts[0] != "tickets":
        return None
    raw = parts[1]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if is_row_id(value) else None


def field_update(field: str, raw: str) -> TicketUpdate:
    """The partial update that sets `field` to `raw`, the text typed or chosen on the page.

    An empty requester field or assignee ("" is "Unassigned") stores null. Raises ValueError
    for a field the page does not edit and pydantic's ValidationError for a refused value.
    """
    if field not in TEXT_FIELDS and field not in CHOICE_FIELDS:
        raise ValueError(f"{field} cannot be edited here")
    value: str | int | None = raw
    if field in CLEARABLE_FIELDS and not raw.strip():
        value = None
    elif field == "assignee_id":
        value = int(raw) if raw.isascii() and raw.isdigit() else raw
    return TicketUpdate.model_validate({field: value})


def _exact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def staff_names(staff: Iterable[UserRead]) -> dict[int, str]:
    """Staff user id -> the name shown for them."""
    return {user.id: user.name for user in staff}


def ticket_fields(ticket: TicketRead, names: Mapping[int, str]) -> dict[str, str]:
    """A ticket flattened to the strings the page shows; "" stands for none.

    `names` maps staff ids to names (for the assignee). Times are UTC to the minute
    (`*_exact`) and ISO 8601 (`*_iso`, for `<time datetime>`). The triage reading (AI
    suggestion with source and confidences, language, sentiment, frustration, the ticket it
    duplicates) is flattened by `triage_view.triage_fields`.
    """
    assignee = ticket.assignee_id
    return {
        "id": str(ticket.id),
        "title": ticket.title,
        "description": ticket.description,
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "assignee_id": str(assignee) if assignee is not None else "",
        "assignee_name": (
            UNASSIGNED_LABEL if assignee is None else names.get(assignee, f"User #{assignee}")
        ),
        "requester_name": ticket.requester_name or "",
        "requester_email": ticket.requester_email or "",
        **triage_fields(ticket),
        "created_exact": _exact(ticket.created_at),
        "created_iso": ticket.created_at.astimezone(UTC).isoformat(),
        "updated_exact": _exact(ticket.updated_at),
        "updated_iso": ticket.updated_at.astimezone(UTC).isoformat(),
    }


def _value_text(field: str, value: str | None, names: Mapping[int, str]) -> str:
    """An audit value in words: labels for enum values, names for assignees."""
    if not value:
        return UNASSIGNED_LABEL if field == "assignee_id" else "(none)"
    if field == "assignee_id" and value.isdigit():
        return names.get(int(value), f"User #{value}")
    if field in ("status", "priority", "category"):
        return label_of_value(value)
    return value


def timeline_rows(entries: Iterable[TimelineEntry], names: Mapping[int, str]) -> list[dict]:
    """The timeline as flat rows for the page, oldest first.

    Each row: `key` (unique), `kind` ("event", "reply" or "note"), `who`, `when` (UTC to the
    minute), `when_iso`; events add `what` (e.g. "Status: Open → Closed"), comments `body`
    (plain text as written).
    """
    rows: list[dict] = []
    for entry in entries:
        base = {
            "who": entry.actor,
            "when": _exact(entry.created_at),
            "when_iso": entry.created_at.astimezone(UTC).isoformat(),
        }
        if entry.comment is not None:
            comment = entry.comment
            kind = "reply" if comment.public else "note"
            rows.append(
                {
                    **base,
                    "key": f"c{comment.id}",
                    "kind": kind,
                    "who": comment.author_name,
                    "body": comment.body,
                }
            )
            continue
        event = entry.event
        if event is None:
            continue
        if event.field and event.kind == EventKind.CHANGED:
            label = FIELD_LABELS.get(event.field, event.field.replace("_", " ")).capitalize()
            old = _value_text(event.field, event.old_value, names)
            new = _value_text(event.field, event.new_value, names)
            what = f"{label}: {old} → {new}"
        else:
            what = event.kind.value.replace("_", " ").capitalize()
        rows.append({**base, "key": f"e{event.id}", "kind": "event", "what": what})
    return rows


def latest_other_change(entries: Iterable[TimelineEntry], since: datetime, me: str) -> str | None:
    """Who last changed a field after `since` other than `me` (an actor label), or None.

    Only field changes count (see CONFLICTING_EVENTS): comments overwrite nothing.
    """
    who = None
    for entry in entries:
        event = entry.event
        if (
            event is not None
            and event.kind in CONFLICTING_EVENTS
            and entry.created_at > since
            and entry.actor != me
        ):
            who = entry.actor
    return who


@dataclass(frozen=True)
class TicketView:
    """Everything the page shows of one ticket, read together.

    `staff` are the users a ticket can be assigned to; `former_assignee` is the ticket's
    assignee when they are not among them any more (deactivated, now a viewer), else None.
    `similar` are open tickets like this one, best first (none once it is merged);
    `duplicates` the ids of the tickets merged into this one, oldest first.
    """

    ticket: TicketRead
    etag: str
    timeline: list[TimelineEntry]
    staff: list[UserRead]
    former_assignee: UserRead | None = None
    similar: list[SimilarTicket] = dataclasses.field(default_factory=list)
    duplicates: list[int] = dataclasses.field(default_factory=list)

    @property
    def names(self) -> dict[int, str]:
        """Staff id -> name, for the assignee and its audit lines."""
        extra = [self.former_assignee] if self.former_assignee else []
        return staff_names([*self.staff, *extra])

    def assignee_choices(self) -> list[dict[str, str]]:
        """`{"value", "label"}` for the assignee picker: "Unassigned", then assignable staff.

        A former assignee stays listed while the ticket holds them, so the picker shows the
        truth; choosing anyone else unassigns them for good.
        """
        choices = [{"value": "", "label": UNASSIGNED_LABEL}]
        choices += [{"value": str(user.id), "label": user.name} for user in self.staff]
        if self.former_assignee is not None:
            former = self.former_assignee
            choices.append({"value": str(former.id), "label": f"{former.name} (not assignable)"})
        return choices


def load_view(ticket_id: int, *, with_timeline: bool) -> TicketView:
    """Read the ticket, then its timeline and the assignable staff (blocking; use a thread).

    The ticket is read first, so a change after it shows in the timeline or makes the ETag
    stale; either way it is never missed. Raises TicketNotFoundError and the other service
    errors.
    """
    ticket = get_ticket(ticket_id)
    timeline = ticket_timeline(ticket_id) if with_timeline else []
    staff = assignable_staff()
    assignee = ticket.assignee_id
    former = None
    if assignee is not None and assignee not in staff_names(staff):
        former = get_user(assignee)
    similar = similar_to_ticket(ticket_id) if ticket.duplicate_of_id is None else []
    return TicketView(
        ticket,
        ticket_etag(ticket),
        timeline,
        staff,
        former,
        similar=similar,
        duplicates=duplicates_of(ticket_id),
    )


def comment_error_message(exc: Exception) -> str:
    """Why a comment was not added, for the composer (the typed text is always kept)."""
    if isinstance(exc, ValidationError):
        return "; ".join(validation_messages(exc).values())
    if isinstance(exc, DatabaseUnavailableError):
        return "Not sent: the database is unavailable. Your text is kept; try again."
    return f"Not sent: {save_error_message(exc)}. Your text is kept."


class TicketPageState(rx.State):
    """One ticket's page: what it shows, what is being saved, and any edit conflict."""

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
    pending_field: str = ""
    pending_value: str = ""

    public_reply: bool = True
    composer_error: str = ""
    sending: bool = False

    similar: list[dict[str, str]] = rx.field(default_factory=list)
    duplicates: list[str] = rx.field(default_factory=list)
    merge_into: str = ""
    merge_into_title: str = ""
    merge_error: str = ""
    merging: bool = False

    _etag: str = ""
    _base_updated: datetime | None = None
    _conflict_etag: str = ""
    _conflict_updated: datetime | None = None
    _seen_marker: str = ""
    _saving: int = 0

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
    def composer_action(self) -> str:
        """The composer's submit label for the chosen kind of comment."""
        return "Send reply" if self.public_reply else "Add internal note"

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
            self.timeline = timeline_rows(view.timeline, view.names)
        self._etag = view.etag
        self._base_updated = view.ticket.updated_at
        self.page = READY

    def _show_related(self, view: TicketView) -> None:
        """Show the similar tickets and the duplicates of `view` (they change with others)."""
        self.similar = similar_rows(view.similar)
        self.duplicates = [str(ticket_id) for ticket_id in view.duplicates]

    def _clear_conflict(self) -> None:
        self.conflict_by = self.pending_field = self.pending_value = ""
        self._conflict_etag = ""
        self._conflict_updated = None

    def _take_fresh(self, view: TicketView, actor: Actor) -> None:
        """Fold a re-read ticket in: warn when someone else changed a field since the base."""
        self._show_related(view)
        self.assignees = view.assignee_choices()
        if view.timeline:
            self.timeline = timeline_rows(view.timeline, view.names)
        if view.etag == self._etag or self._base_updated is None:
            return
        who = None
        if actor.can(Action.TICKETS_EDIT):
            who = latest_other_change(view.timeline, self._base_updated, actor.label)
        if who is None and not self.conflict_by:
            self._show(view)
            return
        self.conflict_by = who or self.conflict_by
        self._conflict_etag = view.etag
        self._conflict_updated = view.ticket.updated_at

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
                load_view, ticket_id, with_timeline=actor.can(Action.AUDIT_READ)
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
        while True:
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                shown = self.shown_id
                here = ticket_id_from_path(self.router.url.path)
                busy = self._saving > 0 or self.sending
                seen = self._seen_marker
                actor = await actor_of(self)
            if actor is None or not actor.can(Action.TICKETS_READ):
                return
            if here is None or str(here) != shown:
                return
            if busy:
                continue
            try:
                marker = await asyncio.to_thread(change_marker)
                if marker == seen:
                    async with self:
                        self._show_outage(False)
                    continue
                view = await asyncio.to_thread(
                    load_view, here, with_timeline=actor.can(Action.AUDIT_READ)
                )
            except TicketNotFoundError:
                async with self:
                    self.page = NOT_FOUND
                return
            except ServiceError:
                async with self:
                    self._show_outage(True)
                continue
            async with self:
                if self.shown_id == shown and self._saving == 0 and not self.sending:
                    self._seen_marker = marker
                    self._show_outage(False)
                    self._take_fresh(view, actor)

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
                load_view, ticket_id, with_timeline=actor.can(Action.AUDIT_READ)
            )
        except EditConflictError as exc:
            self.save_note = ""
            self.conflict_by = exc.changed_by or "Someone"
            self._conflict_etag = ticket_etag(exc.current)
            self._conflict_updated = exc.current.updated_at
            self.pending_field, self.pending_value = field, value
        except ServiceError as exc:
            self.save_note = ""
            self.save_error = f"The {label} was not saved: {save_error_message(exc)}."
        else:
            self._show(view)
            self.save_note = f"Saved {label}."
        finally:
            self._saving -= 1

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
                load_view, self._ticket_id(), with_timeline=actor.can(Action.AUDIT_READ)
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

    @rx.event
    @session_setter
    def set_public_reply(self, choice: str) -> None:
        """Pick the composer's kind: "reply" (public) or "note" (internal)."""
        self.public_reply = choice != "note"

    @rx.event
    async def send_comment(self, form_data: dict) -> AsyncIterator:
        """Add the composer's text as a reply or note; on failure keep the text and say why."""
        body = str(form_data.get("body", ""))
        if not self.shown_id:
            return
        if not body.strip():
            self.composer_error = "Write a message first."
            return
        actor, refusal = await authorize(self, Action.TICKETS_COMMENT, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        self.composer_error = ""
        self.sending = True
        yield
        ticket_id = self._ticket_id()
        try:
            data = CommentCreate(body=body, public=self.public_reply)
            await asyncio.to_thread(
                add_comment, ticket_id, data, actor=actor, channel=CommentChannel.CONSOLE
            )
        except (ValidationError, ServiceError) as exc:
            self.composer_error = comment_error_message(exc)
            self.sending = False
            return
        kind = "Reply sent" if self.public_reply else "Internal note added"
        try:
            view = await self._reread(ticket_id, actor, "a comment")
            if view is not None:
                self._take_fresh(view, actor)
        finally:
            self.sending = False
        yield [rx.set_value("composer-body", ""), toast_success(f"{kind}.")]

    async def _reread(self, ticket_id: int, actor: Actor, after: str) -> TicketView | None:
        """The ticket re-read after a change made on this page (`after` names it, for the log).

        Takes the change marker too, so the poll does not read it again. None when the read
        failed: the change was made, and the poll catches up later.
        """
        try:
            marker = await asyncio.to_thread(change_marker)
            view = await asyncio.to_thread(
                load_view, ticket_id, with_timeline=actor.can(Action.AUDIT_READ)
            )
        except ServiceError as exc:
            logger.warning("ticket page not refreshed after %s: %s", after, exc)
            return None
        self._seen_marker = marker
        return view

    @rx.event
    async def ask_merge(self, into: str) -> AsyncIterator:
        """Open the confirmation for merging this ticket into similar ticket `into`."""
        actor, refusal = await authorize(self, Action.TICKETS_EDIT)
        if actor is None:
            yield refusal
            return
        row = next((row for row in self.similar if row["id"] == into), None)
        if row is None:
            return
        self.merge_error = ""
        self.merge_into, self.merge_into_title = row["id"], row["title"]

    @rx.event
    @session_setter
    def merge_dialog_changed(self, is_open: bool) -> None:
        """The dialog asked to close (Esc, a click outside): cancel unless a merge is running."""
        if not is_open and not self.merging:
            self.merge_into = self.merge_into_title = ""

    @rx.event
    async def confirm_merge(self) -> AsyncIterator:
        """Close this ticket as a duplicate of the one being confirmed, then show both links.

        A refusal (409: either ticket already merged; 404; no permission) is shown as an alert
        and nothing changes.
        """
        actor, refusal = await authorize(self, Action.TICKETS_EDIT, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        if not self.merge_into or self.merging or self.page != READY:
            return
        ticket_id, into = self._ticket_id(), int(self.merge_into)
        self.merging = True
        self.merge_error = ""
        yield
        try:
            await asyncio.to_thread(
                merge_ticket, ticket_id, into, actor=actor, channel=CommentChannel.CONSOLE
            )
        except ServiceError as exc:
            self.merge_error = merge_error_message(exc, ticket_id, into)
            self.merging = False
            self.merge_into = self.merge_into_title = ""
            return
        self.merging = False
        self.merge_into = self.merge_into_title = ""
        view = await self._reread(ticket_id, actor, "a merge")
        if view is not None:
            self._show(view)
        yield [
            toast_success(f"Merged #{ticket_id} into #{into}."),
            rx.set_focus("ticket-heading"),
        ]
