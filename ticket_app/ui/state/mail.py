"""States of the e-mail channel's pages: mailboxes and the quarantine (admins), requesters.

Small per-feature states, like the rest of the console: `MailboxesState` (/mailboxes: list with
fetch health, add, "Test connection", remove), `QuarantineState` (/quarantine: held mail, retry,
discard) and `RequesterState` (/requesters/{id}: a customer and their tickets). The ticket page's
mail (channel, delivery, resend, files) is in `TicketPageState`.

Every handler checks the session and the permission table on the server before it reads or
changes anything (`open_page` for page loads, `authorize` for the rest); the services check
again. Mailbox passwords never enter a state: the add form is uncontrolled and its values
reach the server only with its submission, so nothing secret is kept in, or sent back from,
the tab's state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from pydantic import ValidationError

from ticket_app.services import quarantine as quarantine_service
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import ConflictError, NotFoundError, ServiceError
from ticket_app.services.mailboxes import (
    check_connection,
    create_mailbox,
    list_mailboxes,
    remove_mailbox,
)
from ticket_app.services.rate_limits import WRITES
from ticket_app.services.requesters import get_requester
from ticket_app.ui.logic.mail import (
    check_rows,
    error_summary,
    failure_text,
    form_errors,
    id_from_path,
    mailbox_create,
    mailbox_row,
    parse_id,
    quarantine_row,
    release_text,
    requester_label,
    requester_ticket_rows,
)
from ticket_app.ui.safe_events import run_script, toast_error, toast_success
from ticket_app.ui.state.focus import focus_when_rendered
from ticket_app.ui.state.session import authorize, open_page, session_setter

logger = logging.getLogger(__name__)

LOADING, READY, NOT_FOUND, FAILED = "loading", "ready", "not_found", "failed"
MAILBOX_FORM_ID = "mailbox-form"
MAILBOXES_HEADING_ID = "mailboxes-heading"
QUARANTINE_HEADING_ID = "quarantine-heading"
UNAVAILABLE = "The list could not be loaded: the database is unavailable."


class MailboxesState(rx.State):
    """Connected mailboxes with their fetch health; add, test and remove them (admins)."""

    mailboxes: list[dict[str, str]] = rx.field(default_factory=list)
    loaded: bool = False
    load_error: str = ""

    field_errors: dict[str, str] = rx.field(default_factory=dict)
    form_error: str = ""
    adding: bool = False

    testing: str = ""
    """Id of the mailbox whose connection is being tested ("" none)."""
    tested_name: str = ""
    test_rows: list[dict[str, str]] = rx.field(default_factory=list)
    test_error: str = ""

    confirm_id: str = ""
    """Id of the mailbox the removal dialog asks about ("" when it is closed)."""
    confirm_label: str = ""
    removing: bool = False

    async def _admin(self, counts_as: str | None = None) -> tuple[Actor | None, Any]:
        return await authorize(self, Action.MAILBOXES_MANAGE, counts_as=counts_as)

    async def _reload(self, actor: Actor) -> None:
        rows = await asyncio.to_thread(list_mailboxes, actor=actor)
        self.mailboxes = [mailbox_row(mailbox) for mailbox in rows]
        self.loaded = True
        self.load_error = ""

    def _row(self, mailbox_id: str) -> dict[str, str] | None:
        return next((row for row in self.mailboxes if row["id"] == mailbox_id), None)

    @rx.event
    async def on_load(self):
        """Check the session (admins only) and load the mailboxes."""
        actor, refusal = await open_page(self, Action.MAILBOXES_MANAGE)
        if actor is None:
            return refusal
        self.test_rows, self.tested_name, self.test_error = [], "", ""
        self.field_errors, self.form_error = {}, ""
        self.confirm_id = self.confirm_label = ""
        try:
            await self._reload(actor)
        except ServiceError as exc:
            logger.warning("mailboxes not loaded: %s", exc)
            self.load_error = UNAVAILABLE
        return None

    @rx.event
    async def add_mailbox(self, form_data: dict) -> AsyncIterator:
        """Connect the mailbox the form describes; on a refusal keep what was typed and say why.

        The passwords go from the form to the service (which encrypts them) and are kept
        nowhere in the state; the form is cleared only when the mailbox was stored.
        """
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        if self.adding:
            return
        try:
            data = mailbox_create(form_data)
        except ValidationError as exc:
            self.field_errors = form_errors(exc)
            self.form_error = error_summary(self.field_errors)
            return
        self.field_errors, self.form_error = {}, ""
        self.adding = True
        yield
        try:
            created = await asyncio.to_thread(create_mailbox, data, actor=actor)
        except ConflictError as exc:
            self.field_errors = {exc.field: failure_text(exc)}
            self.form_error = failure_text(exc)
            self.adding = False
            return
        except ServiceError as exc:
            self.form_error = failure_text(exc)
            self.adding = False
            return
        try:
            await self._reload(actor)
        except ServiceError as exc:
            logger.warning("mailboxes not reloaded: %s", exc)
        self.adding = False
        yield [
            run_script(f"document.getElementById('{MAILBOX_FORM_ID}')?.reset()"),
            toast_success(f"Mailbox {created.address} connected. Test its connection next."),
        ]

    @rx.event
    async def test_connection(self, mailbox_id: str) -> AsyncIterator:
        """Log in to the mailbox's IMAP and SMTP servers and show each step's result."""
        actor, refusal = await self._admin()
        if actor is None:
            yield refusal
            return
        row = self._row(mailbox_id)
        key = parse_id(mailbox_id)
        if row is None or key is None or self.testing:
            return
        self.testing, self.tested_name = mailbox_id, row["address"]
        self.test_rows, self.test_error = [], ""
        yield
        try:
            check = await asyncio.to_thread(check_connection, key, actor=actor)
        except ServiceError as exc:
            self.test_error = failure_text(exc)
        else:
            self.test_rows = check_rows(check)
        finally:
            self.testing = ""

    @rx.event
    async def ask_remove(self, mailbox_id: str):
        """Open the dialog that asks whether to remove a mailbox (nothing changes yet)."""
        actor, refusal = await self._admin()
        if actor is None:
            return refusal
        row = self._row(mailbox_id)
        if row is None or self.removing:
            return None
        self.confirm_id = row["id"]
        self.confirm_label = f"{row['name']} ({row['address']})"
        return None

    @rx.event
    @session_setter
    def remove_dialog_changed(self, is_open: bool) -> None:
        """The dialog asked to close (Cancel, Esc): cancel unless a removal is running."""
        if not is_open and not self.removing:
            self.confirm_id = self.confirm_label = ""

    @rx.event
    async def confirm_remove(self) -> AsyncIterator:
        """Remove the mailbox the dialog names; the mail it brought stays on its tickets."""
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            self.confirm_id = self.confirm_label = ""
            yield refusal
            return
        key, label = parse_id(self.confirm_id), self.confirm_label
        row = self._row(self.confirm_id)
        if key is None or row is None or self.removing:
            return
        self.removing = True
        yield
        try:
            await asyncio.to_thread(remove_mailbox, key, actor=actor)
        except ServiceError as exc:
            message = failure_text(exc)
        else:
            message = ""
        try:
            await self._reload(actor)
        except ServiceError as exc:
            logger.warning("mailboxes not reloaded: %s", exc)
        if not message and self.tested_name == row["address"]:
            self.test_rows, self.tested_name, self.test_error = [], "", ""
        self.removing = False
        self.confirm_id = self.confirm_label = ""
        if message:
            yield toast_error(f"Not removed: {message}")
        else:
            yield toast_success(f"Mailbox {label} removed.")


class QuarantineState(rx.State):
    """Mail held because it could not be taken in: read why, retry it or discard it (admins)."""

    entries: list[dict[str, str]] = rx.field(default_factory=list)
    loaded: bool = False
    load_error: str = ""
    busy: str = ""
    """Id of the message being retried or discarded ("" none)."""
    confirm_id: str = ""
    """Id of the message the discard dialog asks about ("" when it is closed)."""
    confirm_label: str = ""

    async def _admin(self, counts_as: str | None = None) -> tuple[Actor | None, Any]:
        return await authorize(self, Action.MAILBOXES_MANAGE, counts_as=counts_as)

    async def _reload(self, actor: Actor) -> None:
        held = await asyncio.to_thread(quarantine_service.list_quarantine, actor=actor)
        self.entries = [quarantine_row(entry) for entry in held]
        self.loaded = True
        self.load_error = ""

    def _row(self, quarantine_id: str) -> dict[str, str] | None:
        return next((row for row in self.entries if row["id"] == quarantine_id), None)

    @rx.event
    async def on_load(self):
        """Check the session (admins only) and load the held mail."""
        actor, refusal = await open_page(self, Action.MAILBOXES_MANAGE)
        if actor is None:
            return refusal
        self.busy = self.confirm_id = self.confirm_label = ""
        try:
            await self._reload(actor)
        except ServiceError as exc:
            logger.warning("quarantine not loaded: %s", exc)
            self.load_error = UNAVAILABLE
        return None

    @rx.event
    async def retry(self, quarantine_id: str) -> AsyncIterator:
        """Take a held message in again and say what became of it (a ticket, or still held)."""
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        key = parse_id(quarantine_id)
        if key is None or self._row(quarantine_id) is None or self.busy:
            return
        self.busy = quarantine_id
        yield
        try:
            result = await asyncio.to_thread(quarantine_service.release, key, actor=actor)
        except (ServiceError, OSError) as exc:
            text = failure_text(exc) if isinstance(exc, ServiceError) else "The file is missing."
            outcome = toast_error(f"Not taken in: {text}")
        else:
            outcome = (
                toast_error(release_text(result))
                if result.outcome == "quarantined"
                else toast_success(release_text(result))
            )
        try:
            await self._reload(actor)
        except ServiceError as exc:
            logger.warning("quarantine not reloaded: %s", exc)
        self.busy = ""
        still_there = self._row(quarantine_id) is not None
        focus = f"retry-{quarantine_id}" if still_there else QUARANTINE_HEADING_ID
        yield [outcome, focus_when_rendered(focus)]

    @rx.event
    async def ask_discard(self, quarantine_id: str):
        """Open the dialog that asks whether to discard a held message (nothing changes yet)."""
        actor, refusal = await self._admin()
        if actor is None:
            return refusal
        row = self._row(quarantine_id)
        if row is None or self.busy:
            return None
        self.confirm_id = row["id"]
        self.confirm_label = f"“{row['subject']}” from {row['sender']}"
        return None

    @rx.event
    @session_setter
    def discard_dialog_changed(self, is_open: bool) -> None:
        """The dialog asked to close (Cancel, Esc): cancel unless a discard is running."""
        if not is_open and not self.busy:
            self.confirm_id = self.confirm_label = ""

    @rx.event
    async def confirm_discard(self) -> AsyncIterator:
        """Discard the message the dialog names (its file is kept for the record)."""
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            self.confirm_id = self.confirm_label = ""
            yield refusal
            return
        key = parse_id(self.confirm_id)
        if key is None or self.busy:
            return
        self.busy = self.confirm_id
        yield
        try:
            await asyncio.to_thread(quarantine_service.discard, key, actor=actor)
        except ServiceError as exc:
            outcome = toast_error(f"Not discarded: {failure_text(exc)}")
        else:
            outcome = toast_success("The message was discarded.")
        try:
            await self._reload(actor)
        except ServiceError as exc:
            logger.warning("quarantine not reloaded: %s", exc)
        self.busy = ""
        self.confirm_id = self.confirm_label = ""
        yield outcome


class RequesterState(rx.State):
    """One requester (/requesters/{id}): who they are and their tickets, newest first."""

    page: str = LOADING
    shown_id: str = ""
    label: str = ""
    email: str = ""
    ticket_count: int = 0
    tickets: list[dict[str, str]] = rx.field(default_factory=list)
    load_error: str = ""

    @rx.var
    def count_text(self) -> str:
        """The count under the heading, e.g. "3 tickets" or "Newest 50 of 120 tickets"."""
        noun = "ticket" if self.ticket_count == 1 else "tickets"
        if len(self.tickets) < self.ticket_count:
            return f"Newest {len(self.tickets)} of {self.ticket_count:,} {noun}"
        return f"{self.ticket_count:,} {noun}"

    @rx.event
    async def on_load(self) -> AsyncIterator:
        """Check the session, then read the requester named by the URL."""
        actor, refusal = await open_page(self, Action.TICKETS_READ)
        if actor is None:
            yield refusal
            return
        path = self.router.url.path
        requester_id = id_from_path(path, "requesters")
        self.reset()
        self.shown_id = str(requester_id or "")
        if requester_id is None:
            self.page = NOT_FOUND
            return
        yield
        try:
            requester = await asyncio.to_thread(get_requester, requester_id, actor=actor)
        except NotFoundError:
            self.page = NOT_FOUND
            return
        except ServiceError as exc:
            logger.warning("requester not loaded: %s", exc)
            self.page = FAILED
            self.load_error = "The requester could not be loaded: the database is unavailable."
            return
        self.label = requester_label(requester)
        self.email = requester.email
        self.ticket_count = requester.ticket_count
        self.tickets = requester_ticket_rows(requester)
        self.page = READY
        yield focus_when_rendered("requester-heading")

    @rx.event
    async def retry(self):
        """Load the page again after a failure."""
        return type(self).on_load
