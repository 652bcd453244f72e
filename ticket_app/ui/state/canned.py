"""Canned responses in the console: the composer's menu and suggestions, and their page.

The composer offers the caller's responses in a menu, matching ones for `/words`, and
colleagues for `@` in a note; the /canned-responses page lists, creates, edits and deletes.

The composer's text area is not bound to state (typing stays in the browser); its changes
reach `CannedComposerState.typed` debounced, which keeps the last text and offers matching
responses (text `/words`) or colleagues (a note ending in `@partial`). Choosing one fills the
composer through `safe_events.set_text`. Rendering a response counts a use.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from pydantic import ValidationError

from ticket_app.schemas import CannedResponseCreate, CannedResponseUpdate, is_id_text
from ticket_app.services.access import Action, Actor
from ticket_app.services.canned_responses import (
    create_canned_response,
    delete_canned_response,
    list_canned_responses,
    render_canned_response,
    update_canned_response,
)
from ticket_app.services.errors import NotFoundError, PermissionDeniedError, ServiceError
from ticket_app.services.followers import staff_handles
from ticket_app.services.rate_limits import WRITES
from ticket_app.ui.logic.canned import (
    form_problem,
    matching_responses,
    matching_staff,
    mention_query,
    response_rows,
    slash_query,
    with_mention,
    with_response,
)
from ticket_app.ui.logic.ticket_page import ticket_id_from_path
from ticket_app.ui.safe_events import set_text, toast_error, toast_success
from ticket_app.ui.state.followers import FollowState
from ticket_app.ui.state.session import actor_of, authorize, open_page, session_setter
from ticket_app.ui.state.ticket_page import TicketPageState

logger = logging.getLogger(__name__)

COMPOSER_ID = "composer-body"
MENU_LIMIT = 100
"""How many responses the composer's menu offers (the first by title)."""


class CannedComposerState(rx.State):
    """The composer's canned-response menu and its `/` and `@` suggestions."""

    responses: list[dict[str, str]] = rx.field(default_factory=list)
    suggestions: list[dict[str, str]] = rx.field(default_factory=list)
    mentions: list[dict[str, str]] = rx.field(default_factory=list)
    _staff: list[dict[str, str]] = rx.field(default_factory=list)
    _text: str = ""

    @rx.event
    async def load(self) -> None:
        """Read the caller's responses and the staff handles (the composer's on_mount)."""
        actor = await actor_of(self)
        if actor is None or not actor.can(Action.CANNED_MANAGE_OWN):
            return
        try:
            items, _, _ = await asyncio.to_thread(
                list_canned_responses, actor=actor, limit=MENU_LIMIT
            )
            staff = await asyncio.to_thread(staff_handles, actor=actor)
        except ServiceError as exc:
            logger.warning("canned responses not loaded: %s", exc)
            return
        self.responses = [{"id": str(item.id), "title": item.title} for item in items]
        self._staff = [{"handle": handle, "name": name} for handle, name in staff]
        self._text = ""
        self.suggestions, self.mentions = [], []

    @rx.event
    @session_setter
    def typed(self, text: str, public: bool) -> None:
        """Keep the composer's text; offer responses for `/words`, colleagues for a note's `@`."""
        self._text = text
        query = slash_query(text)
        self.suggestions = [] if query is None else matching_responses(self.responses, query)
        handle = None if public or query is not None else mention_query(text)
        self.mentions = [] if handle is None else matching_staff(self._staff, handle)

    @rx.event
    def dismiss(self) -> None:
        """Close the `/` and `@` suggestions (Escape); typing on offers them again."""
        self.suggestions, self.mentions = [], []

    @rx.event
    def forget(self) -> None:
        """Drop the composer's text and the suggestions (a ticket page opened)."""
        self._text = ""
        self.suggestions, self.mentions = [], []

    @rx.event
    async def after_send(self, _form_data: dict):
        """After the composer's submit: once sent (and emptied), forget its text.

        A note's mentions may have added followers, so the followers are read again.
        """
        if (await self.get_state(TicketPageState)).composer_error:
            return None
        self.forget()
        return FollowState.load

    def _ticket_id(self) -> int | None:
        return ticket_id_from_path(self.router.url.path)

    @rx.event
    async def insert(self, response_id: str):
        """Fill in response `response_id` for this ticket and put it into the composer."""
        actor, refusal = await authorize(self, Action.CANNED_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        ticket_id = self._ticket_id()
        if ticket_id is None or not is_id_text(response_id):
            return None
        try:
            body = await asyncio.to_thread(
                render_canned_response, int(response_id), ticket_id, actor=actor
            )
        except NotFoundError:
            return toast_error("That canned response is gone; the menu was refreshed.")
        except ServiceError as exc:
            logger.warning("canned response not rendered: %s", exc)
            return toast_error("The canned response could not be inserted. Try again.")
        self._text = with_response(self._text, body)
        self.suggestions, self.mentions = [], []
        return [set_text(COMPOSER_ID, self._text), rx.set_focus(COMPOSER_ID)]

    @rx.event
    def mention(self, handle: str):
        """Complete the `@partial` at the end of the note to `@handle`."""
        if handle not in {row["handle"] for row in self._staff}:
            return None
        self._text = with_mention(self._text, handle)
        self.mentions = []
        return [set_text(COMPOSER_ID, self._text), rx.set_focus(COMPOSER_ID)]


class CannedResponsesState(rx.State):
    """The /canned-responses page: the list, the create/edit form, the delete confirmation."""

    rows: list[dict[str, str]] = rx.field(default_factory=list)
    may_keep: bool = False
    may_share: bool = False
    load_error: str = ""

    editing_id: str = ""
    title: str = ""
    body: str = ""
    shared: bool = False
    form_error: str = ""
    saving: bool = False

    confirm_id: str = ""
    confirm_title: str = ""
    deleting: bool = False

    @rx.var
    def form_heading(self) -> str:
        """The form's heading: new or editing."""
        return "Edit canned response" if self.editing_id else "New canned response"

    async def _reload(self, actor: Actor) -> None:
        try:
            items, _, _ = await asyncio.to_thread(list_canned_responses, actor=actor, limit=1000)
        except ServiceError as exc:
            logger.warning("canned responses not loaded: %s", exc)
            self.load_error = "Canned responses could not be loaded: the database is unavailable."
            return
        self.load_error = ""
        self.rows = response_rows(items, user_id=actor.user_id, may_share=self.may_share)

    @rx.event
    async def on_load(self):
        """Check the session (any staff member) and list the responses."""
        actor, refusal = await open_page(self, Action.CANNED_READ)
        if actor is None:
            return refusal
        self.reset()
        self.may_keep = actor.can(Action.CANNED_MANAGE_OWN)
        self.may_share = actor.can(Action.CANNED_SHARE)
        await self._reload(actor)
        return None

    @rx.event
    @session_setter
    def set_title(self, value: str) -> None:
        """Store the typed title."""
        self.title = value

    @rx.event
    @session_setter
    def set_body(self, value: str) -> None:
        """Store the typed body."""
        self.body = value

    @rx.event
    @session_setter
    def set_shared(self, value: bool) -> None:
        """Store the shared switch (admins)."""
        self.shared = bool(value)

    @rx.event
    def edit(self, response_id: str):
        """Fill the form with one response to change it."""
        row = next((r for r in self.rows if r["id"] == response_id and r["editable"]), None)
        if row is None:
            return None
        self.editing_id, self.title, self.body = row["id"], row["title"], row["body"]
        self.shared, self.form_error = bool(row["shared"]), ""
        return rx.set_focus("canned-title")

    @rx.event
    def cancel_edit(self) -> None:
        """Empty the form: back to a new response."""
        self.editing_id, self.title, self.body, self.shared, self.form_error = "", "", "", False, ""

    @rx.event
    async def save(self, _form_data: dict):
        """Create the response, or save the one being edited; say what was refused."""
        actor, refusal = await authorize(self, Action.CANNED_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        shared = self.shared and self.may_share
        try:
            if self.editing_id:
                changes = CannedResponseUpdate(title=self.title, body=self.body, shared=shared)
                response_id = int(self.editing_id)
                await asyncio.to_thread(update_canned_response, response_id, changes, actor=actor)
            else:
                data = CannedResponseCreate(title=self.title, body=self.body, shared=shared)
                await asyncio.to_thread(create_canned_response, data, actor=actor)
        except ValidationError as exc:
            self.form_error = form_problem(exc)
            return rx.set_focus("canned-form-error")
        except PermissionDeniedError:
            self.form_error = "Your role does not allow this."
            return None
        except ServiceError as exc:
            logger.warning("canned response not saved: %s", exc)
            self.form_error = "The canned response was not saved. Try again."
            return None
        done = "Saved." if self.editing_id else "Created."
        self.cancel_edit()
        await self._reload(actor)
        return [toast_success(done), rx.set_focus("canned-heading")]

    @rx.event
    def ask_delete(self, response_id: str) -> None:
        """Open the delete confirmation for one response."""
        row = next((r for r in self.rows if r["id"] == response_id and r["editable"]), None)
        if row is not None:
            self.confirm_id, self.confirm_title = row["id"], row["title"]

    @rx.event
    def delete_dialog_changed(self, is_open: bool) -> None:
        """Closing the dialog (Cancel, Escape) forgets which response it asked about."""
        if not is_open and not self.deleting:
            self.confirm_id = ""

    @rx.event
    async def confirm_delete(self):
        """Delete the response the dialog names."""
        actor, refusal = await authorize(self, Action.CANNED_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        if not is_id_text(self.confirm_id):
            return
        self.deleting = True
        yield
        try:
            await asyncio.to_thread(delete_canned_response, int(self.confirm_id), actor=actor)
        except ServiceError as exc:
            logger.warning("canned response not deleted: %s", exc)
            self.deleting = False
            yield toast_error("The canned response was not deleted. Try again.")
            return
        if self.editing_id == self.confirm_id:
            self.cancel_edit()
        self.deleting, self.confirm_id = False, ""
        await self._reload(actor)
        yield toast_success("Deleted.")
