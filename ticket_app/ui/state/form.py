"""Submit form state: fields, AI pre-fill while typing, validation and submission.

While the description is typed (debounced) the form asks the classifier and looks up similar
open tickets together; an empty title takes the suggested title until the user types one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator

import reflex as rx
from pydantic import ValidationError

from ticket_app.schemas import TITLE_MAX_LENGTH, TicketCreate
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import (
    ConstraintViolationError,
    DatabaseUnavailableError,
    ServiceError,
)
from ticket_app.services.rate_limits import WRITES, ExpensiveReadsBusyError, expensive_turn
from ticket_app.services.similarity import similar_to_text
from ticket_app.services.tickets import submit_ticket
from ticket_app.triage import TicketClassifier, TriageSuggestion, get_classifier
from ticket_app.ui.logic.form import (
    apply_suggestion,
    client_errors,
    description_limit,
    is_fresh,
    suggestion_badge,
    validation_messages,
)
from ticket_app.ui.logic.triage import offer_title, reason_in_words, similar_rows
from ticket_app.ui.safe_events import redirect, toast_error, toast_success
from ticket_app.ui.state.focus import focus_when_rendered
from ticket_app.ui.state.session import actor_of, authorize, open_page, session_setter

logger = logging.getLogger(__name__)

CLASSIFY_TIMEOUT_SECONDS = 5.0
SLOW_NOTE = "AI suggestion timed out; pick category and priority yourself."
FAILED_NOTE = "AI suggestions are unavailable right now; pick category and priority yourself."


async def fetch_suggestion(
    classifier: TicketClassifier,
    description: str,
    title: str = "",
    timeout: float = CLASSIFY_TIMEOUT_SECONDS,
) -> tuple[TriageSuggestion | None, str]:
    """Ask the classifier; return (suggestion, "") or (None, a quiet note for the form)."""
    try:
        return await asyncio.wait_for(classifier.suggest(description, title), timeout), ""
    except TimeoutError:
        logger.warning("classifier took longer than %.1f s", timeout)
        return None, SLOW_NOTE
    except Exception:  # the form must keep working whatever the classifier does
        logger.exception("classifier failed")
        return None, FAILED_NOTE


def find_similar(description: str, title: str = "") -> list[dict[str, str]]:
    """Rows of the open tickets most like the text being typed (blocking; use a thread).

    Empty when the lookup fails: the form works on without it.
    """
    try:
        return similar_rows(similar_to_text(description, title))
    except ServiceError as exc:
        logger.warning("similar tickets not looked up: %s", exc)
        return []


async def similar_in_turn(actor: Actor, description: str, title: str) -> list[dict[str, str]]:
    """`find_similar` in one of `actor`'s expensive-read turns; no list when no turn came."""
    try:
        async with expensive_turn(actor.user_id):
            return await asyncio.to_thread(find_similar, description, title)
    except ExpensiveReadsBusyError:
        return []


class TicketFormState(rx.State):
    """The new-ticket form. Category/priority left untouched follow the latest AI suggestion."""

    title: str = ""
    title_from_ai: bool = False
    description: str = ""
    requester_name: str = ""
    requester_email: str = ""
    category: str = ""
    priority: str = ""
    category_touched: bool = False
    priority_touched: bool = False
    category_from_ai: bool = False
    priority_from_ai: bool = False

    classifying: bool = False
    classify_note: str = ""
    suggested_for: str = ""
    suggested_category: str = ""
    suggested_priority: str = ""
    category_badge: str = ""
    priority_badge: str = ""
    suggestion_reason: str = ""
    similar: list[dict[str, str]] = rx.field(default_factory=list)

    errors: dict[str, str] = rx.field(default_factory=dict)
    form_error: str = ""
    submitting: bool = False

    _suggestion: TriageSuggestion | None = None

    @rx.var
    def title_count(self) -> str:
        """Live character count of the title, e.g. "12 / 200"."""
        return f"{len(self.title)} / {TITLE_MAX_LENGTH}"

    @rx.var
    def title_too_long(self) -> bool:
        """Whether the title exceeds the limit (the counter turns red)."""
        return len(self.title) > TITLE_MAX_LENGTH

    @rx.var
    def title_error(self) -> str:
        """Message shown under the title field."""
        if self.title_too_long:
            return f"Title must be at most {TITLE_MAX_LENGTH} characters."
        return self.errors.get("title", "")

    @rx.var
    def description_count(self) -> str:
        """Character count of the description against its limit, e.g. "18,204 / 20,000"."""
        return f"{len(self.description):,} / {description_limit():,}"

    @rx.var
    def description_near_limit(self) -> bool:
        """Show the description's counter once 80% of the limit is used."""
        return len(self.description) >= 0.8 * description_limit()

    @rx.var
    def description_too_long(self) -> bool:
        """Whether the description exceeds the limit (the counter turns red)."""
        return len(self.description) > description_limit()

    @rx.var
    def description_error(self) -> str:
        """Message shown under the description field."""
        if self.description_too_long:
            return f"Description must be at most {description_limit():,} characters."
        return self.errors.get("description", "")

    @rx.var
    def category_overridden(self) -> bool:
        """The user picked a category other than the AI's suggestion."""
        return bool(self.suggested_category) and self.category != self.suggested_category

    @rx.var
    def priority_overridden(self) -> bool:
        """The user picked a priority other than the AI's suggestion."""
        return bool(self.suggested_priority) and self.priority != self.suggested_priority

    @rx.event
    async def on_load(self):
        """The new-ticket page: agents and admins only (others go to the list).

        The title field takes focus, so an agent who pressed `n` in the list can type at once,
        unless they have already clicked into a field (the check runs after the page shows).
        """
        actor, refusal = await open_page(self, Action.TICKETS_CREATE)
        if actor is None:
            return refusal
        return focus_when_rendered("ticket-title", unless_focused=True)

    @rx.event
    @session_setter
    def set_title(self, value: str) -> None:
        """Store the typed title; it replaces a suggested one."""
        self.title = value
        self.title_from_ai = False
        self.errors = {k: v for k, v in self.errors.items() if k != "title"}

    @rx.event
    @session_setter
    def set_description(self, value: str):
        """Store the (debounced) description and ask the classifier about it.

        An emptied description takes its suggestion with it (`_drop_suggestion`).
        """
        self.description = value
        self.errors = {k: v for k, v in self.errors.items() if k != "description"}
        if value.strip():
            return TicketFormState.classify
        self.classifying = False
        self.similar = []
        self._drop_suggestion()
        return None

    @rx.event
    @session_setter
    def set_requester_name(self, value: str) -> None:
        """Store the requester's name as typed (optional)."""
        self.requester_name = value
        self.errors = {k: v for k, v in self.errors.items() if k != "requester_name"}

    @rx.event
    @session_setter
    def set_requester_email(self, value: str) -> None:
        """Store the requester's e-mail address as typed (optional; checked on submit)."""
        self.requester_email = value
        self.errors = {k: v for k, v in self.errors.items() if k != "requester_email"}

    @rx.event
    @session_setter
    def set_category(self, value: str) -> None:
        """A category picked by hand; later suggestions no longer change it."""
        self.category = value
        self.category_touched = True
        self.category_from_ai = False
        self.errors = {k: v for k, v in self.errors.items() if k != "category"}

    @rx.event
    @session_setter
    def set_priority(self, value: str) -> None:
        """A priority picked by hand; later suggestions no longer change it."""
        self.priority = value
        self.priority_touched = True
        self.priority_from_ai = False
        self.errors = {k: v for k, v in self.errors.items() if k != "priority"}

    @rx.event(background=True, supersedes=True)
    async def classify(self) -> None:
        """Ask the classifier and look up similar open tickets; drop answers that went stale."""
        async with self:
            description = self.description
            # A suggested title came from the description itself: it tells the classifier and
            # the similarity lookup nothing new.
            title = "" if self.title_from_ai else self.title
            actor = await actor_of(self)
            if not description.strip() or actor is None or not actor.can(Action.TICKETS_CLASSIFY):
                return
            self.classifying = True
        (suggestion, note), similar = await asyncio.gather(
            fetch_suggestion(get_classifier(), description, title),
            similar_in_turn(actor, description, title)
            if actor.can(Action.TICKETS_READ)
            else asyncio.sleep(0, result=[]),
        )
        async with self:
            if self.description != description:
                return
            self.classifying = False
            self.classify_note = note
            self.similar = similar
            if suggestion is not None:
                self._take_suggestion(suggestion, description)

    def _take_suggestion(self, suggestion: TriageSuggestion, description: str) -> None:
        """Hold `suggestion` and pre-fill every select the user has not changed by hand."""
        self._suggestion = suggestion
        self.suggested_for = description
        self.suggested_category = suggestion.category.value
        self.suggested_priority = suggestion.priority.value
        self.category_badge = suggestion_badge(suggestion, "category")
        self.priority_badge = suggestion_badge(suggestion, "priority")
        self.suggestion_reason = reason_in_words(suggestion.reason, suggestion.priority.value)
        title = offer_title(self.title, self.title_from_ai, suggestion.suggested_title)
        self.title, self.title_from_ai = title.value, title.from_suggestion
        if title.from_suggestion:
            self.errors = {k: v for k, v in self.errors.items() if k != "title"}
        category = apply_suggestion(self.category, self.category_touched, self.suggested_category)
        priority = apply_suggestion(self.priority, self.priority_touched, self.suggested_priority)
        self.category, self.category_from_ai = category.value, category.from_suggestion
        self.priority, self.priority_from_ai = priority.value, priority.from_suggestion

    def _held_suggestion(self) -> TriageSuggestion | None:
        """The suggestion for exactly the description being submitted, if any."""
        if self._suggestion is not None and is_fresh(self.suggested_for, self.description):
            return dataclasses.replace(self._suggestion)  # a plain copy, not Reflex's state proxy
        return None

    def _drop_suggestion(self) -> None:
        """Forget the held suggestion and what it filled in.

        That is the suggested title, category and priority, their badges, reason and note; what
        the user typed or picked stays.
        """
        if self.title_from_ai:
            self.title, self.title_from_ai = "", False
        if self.category_from_ai:
            self.category, self.category_from_ai = "", False
        if self.priority_from_ai:
            self.priority, self.priority_from_ai = "", False
        self.suggested_for = self.suggested_category = self.suggested_priority = ""
        self.category_badge = self.priority_badge = self.suggestion_reason = ""
        self.classify_note = ""
        self._suggestion = None

    def _clear(self) -> None:
        """Empty the form after a successful submission."""
        self._drop_suggestion()
        self.title = self.description = self.category = self.priority = ""
        self.requester_name = self.requester_email = ""
        self.title_from_ai = False
        self.similar = []
        self.category_touched = self.priority_touched = False
        self.category_from_ai = self.priority_from_ai = False
        self.form_error = ""
        self.errors = {}

    @rx.event
    async def submit(self, form_data: dict) -> AsyncIterator:
        """Validate and store the ticket, then open its page; on failure keep what was typed.

        An empty requester name or address is stored as none.
        """
        del form_data  # the controlled fields already hold the values
        self.form_error = ""
        self.errors = client_errors(self.title, self.description)
        if self.errors:
            return
        # Busy at once: the session check and the first write after a start can take a second.
        self.submitting = True
        yield
        actor, refusal = await authorize(self, Action.TICKETS_CREATE, counts_as=WRITES)
        if actor is None:
            self.submitting = False
            yield refusal
            return
        try:
            data = TicketCreate(
                title=self.title,
                description=self.description,
                category=self.category or None,
                priority=self.priority or None,
                requester_name=self.requester_name.strip() or None,
                requester_email=self.requester_email.strip() or None,
            )
        except ValidationError as exc:
            self.errors = validation_messages(exc)
            self.submitting = False
            return
        try:
            ticket = await submit_ticket(data, actor=actor, suggestion=self._held_suggestion())
        except DatabaseUnavailableError:
            self.form_error = "The database is unavailable; nothing was saved. Try again."
        except ConstraintViolationError as exc:
            self.form_error = f"The database refused the ticket: {exc}"
        except ServiceError as exc:
            self.form_error = str(exc)
        else:
            self._clear()
            page = f"/tickets/{ticket.id}"
            yield [toast_success(f"Ticket #{ticket.id} created", page=page), redirect(page)]
        finally:
            self.submitting = False
        if self.form_error:
            yield toast_error(self.form_error)
