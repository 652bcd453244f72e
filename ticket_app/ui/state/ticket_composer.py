"""The ticket page's composer: a public reply or an internal note, and resending a failed mail.

A mixin of `TicketPageState` (`ticket_page.py`): its vars and events are that state's; after a
comment the page re-reads the ticket as after any change made on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import reflex as rx
from pydantic import ValidationError

from ticket_app.enums import CommentChannel
from ticket_app.schemas import CommentCreate
from ticket_app.services.access import Action
from ticket_app.services.comments import add_comment
from ticket_app.services.errors import ServiceError
from ticket_app.services.mail_outbound import resend_comment
from ticket_app.services.rate_limits import WRITES
from ticket_app.ui.logic.mail import failure_text, parse_id, saved_text
from ticket_app.ui.logic.ticket_page import READY, comment_error_message
from ticket_app.ui.safe_events import toast_error, toast_success
from ticket_app.ui.state.focus import focus_when_rendered
from ticket_app.ui.state.session import authorize, session_setter


class TicketComposerMixin(rx.State, mixin=True):
    """What the composer sends, whether it is sending, and a failed mail being queued again."""

    public_reply: bool = True
    composer_error: str = ""
    sending: bool = False
    resending: str = ""
    """The id of the comment whose failed mail is being queued again ("" none)."""

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
            added = await asyncio.to_thread(
                add_comment, ticket_id, data, actor=actor, channel=CommentChannel.CONSOLE
            )
        except (ValidationError, ServiceError) as exc:
            self.composer_error = comment_error_message(exc)
            self.sending = False
            return
        kind = saved_text(added)
        try:
            view = await self._reread(ticket_id, actor, "a comment")
            if view is not None:
                self._take_fresh(view, actor)
        finally:
            self.sending = False
        yield [rx.set_value("composer-body", ""), toast_success(kind)]

    @rx.event
    async def resend_mail(self, comment_id: str) -> AsyncIterator:
        """Queue again the failed mail of reply `comment_id`; focus then goes to its new state.

        The page shows the reply as queued at once (the background job sends it; the poll
        follows its delivery). A refusal (not failed any more, not a mail) says why in a toast.
        """
        actor, refusal = await authorize(self, Action.TICKETS_COMMENT, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        comment = parse_id(comment_id)
        if comment is None or not self.shown_id or self.resending or self.page != READY:
            return
        ticket_id = self._ticket_id()
        self.resending = str(comment)
        yield
        try:
            await asyncio.to_thread(resend_comment, ticket_id, comment, actor=actor)
        except ServiceError as exc:
            self.resending = ""
            yield toast_error(f"Not sent again: {failure_text(exc)}")
            return
        try:
            view = await self._reread(ticket_id, actor, "a resend")
            if view is not None:
                self._take_fresh(view, actor)
        finally:
            self.resending = ""
        yield [
            toast_success("The e-mail is queued to be sent again."),
            focus_when_rendered(f"delivery-{comment}"),
        ]
