"""The /service-levels page: SLA policies and business calendars, edited by admins.

Everyone who may read tickets sees the targets (a team's promise is no secret to its agents);
only `Action.SLA_MANAGE` edits them, checked in every handler that changes something and again
by `services.sla_policies`, which audits each change and has the affected open tickets'
due times recomputed by the background check.

The edit forms are uncontrolled: their values reach the server with the submission, and the
form is keyed by what it edits so opening another policy or calendar shows that one's values.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import reflex as rx

from ticket_app.schemas import SlaCalendarRead
from ticket_app.services import sla_policies
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import InvalidInputError, ServiceError
from ticket_app.services.rate_limits import WRITES
from ticket_app.ui.logic.mail import failure_text, parse_id
from ticket_app.ui.logic.sla_policies import (
    FormRefusedError,
    calendar_form_values,
    calendar_rows,
    calendar_write,
    form_field,
    policy_rows,
    policy_write,
    recheck_status,
)
from ticket_app.ui.safe_events import toast_success
from ticket_app.ui.state.focus import focus_when_rendered
from ticket_app.ui.state.session import authorize, open_page

logger = logging.getLogger(__name__)

HEADING_ID = "service-levels-heading"
POLICY_FORM_HEADING_ID = "policy-form-heading"
CALENDAR_FORM_HEADING_ID = "calendar-form-heading"
NEW = "new"
UNAVAILABLE = "Service levels could not be loaded: the database is unavailable."


class ServiceLevelsState(rx.State):
    """Policies and calendars as tables; one policy or calendar form open at a time (admins)."""

    policies: list[dict[str, str]] = rx.field(default_factory=list)
    calendars: list[dict[str, str]] = rx.field(default_factory=list)
    may_edit: bool = False
    load_error: str = ""
    recheck_status: str = ""
    """Which edits the background check is still applying to open tickets ("" when none)."""

    policy_id: str = ""
    """Id of the policy in the form ("" when the form is closed)."""
    policy_values: dict[str, str] = rx.field(default_factory=dict)
    policy_errors: dict[str, str] = rx.field(default_factory=dict)
    policy_saving: bool = False

    calendar_id: str = ""
    """Id of the calendar in the form, `new` for a new one ("" when the form is closed)."""
    calendar_values: dict[str, str] = rx.field(default_factory=dict)
    calendar_errors: dict[str, str] = rx.field(default_factory=dict)
    calendar_saving: bool = False

    _calendars: list[SlaCalendarRead] = rx.field(default_factory=list)

    @rx.var
    def policy_heading(self) -> str:
        """The policy form's heading, naming the policy."""
        return f"Edit policy {self.policy_values.get('name', '')}"

    @rx.var
    def calendar_heading(self) -> str:
        """The calendar form's heading: new, or naming the calendar."""
        if self.calendar_id == NEW:
            return "New business calendar"
        return f"Edit calendar {self.calendar_values.get('name', '')}"

    async def _reload(self, actor: Actor) -> None:
        calendars = await asyncio.to_thread(sla_policies.list_calendars, actor=actor)
        policies = await asyncio.to_thread(sla_policies.list_policies, actor=actor)
        rechecks = await asyncio.to_thread(sla_policies.list_rechecks, actor=actor)
        self._calendars = calendars
        self.recheck_status = recheck_status(rechecks)
        self.calendars = calendar_rows(calendars)
        self.policies = policy_rows(policies, calendars)
        self.load_error = ""

    @rx.event
    async def on_load(self):
        """Check the session (anyone who may read tickets) and read policies and calendars."""
        actor, refusal = await open_page(self, Action.TICKETS_READ)
        if actor is None:
            return refusal
        self.reset()
        self.may_edit = actor.can(Action.SLA_MANAGE)
        try:
            await self._reload(actor)
        except ServiceError as exc:
            logger.warning("service levels not loaded: %s", exc)
            self.load_error = UNAVAILABLE
        return None

    @rx.event
    async def edit_policy(self, policy_id: str):
        """Open the policy form with policy `policy_id`'s values."""
        actor, refusal = await authorize(self, Action.SLA_MANAGE)
        if actor is None:
            return refusal
        row = next((row for row in self.policies if row["id"] == policy_id), None)
        if row is None or self.policy_saving:
            return None
        self.policy_id = policy_id
        self.policy_values = dict(row)
        self.policy_errors = {}
        return focus_when_rendered(POLICY_FORM_HEADING_ID)

    @rx.event
    def cancel_policy(self):
        """Close the policy form without saving; focus goes back to the policy's Edit button."""
        policy_id, self.policy_id = self.policy_id, ""
        self.policy_values, self.policy_errors = {}, {}
        return focus_when_rendered(f"edit-policy-{policy_id}" if policy_id else HEADING_ID)

    @rx.event
    async def save_policy(self, form_data: dict) -> AsyncIterator:
        """Store the policy form's values; a refusal keeps the form open and names the field."""
        actor, refusal = await authorize(self, Action.SLA_MANAGE, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        key = parse_id(self.policy_id)
        if key is None or self.policy_saving:
            return
        try:
            data = policy_write(form_data)
        except FormRefusedError as refused:
            self.policy_errors = refused.errors
            return
        self.policy_errors, self.policy_saving = {}, True
        yield
        try:
            saved = await asyncio.to_thread(sla_policies.update_policy, key, data, actor=actor)
            await self._reload(actor)
        except InvalidInputError as exc:
            self.policy_errors = {exc.field: failure_text(exc)}
            return
        except ServiceError as exc:
            self.policy_errors = {"form": failure_text(exc)}
            return
        finally:
            self.policy_saving = False
        policy_id, self.policy_id = self.policy_id, ""
        self.policy_values = {}
        yield [
            toast_success(
                f"Policy {saved.name} saved. Open tickets' due times follow in the background."
            ),
            focus_when_rendered(f"edit-policy-{policy_id}"),
        ]

    @rx.event
    async def edit_calendar(self, calendar_id: str):
        """Open the calendar form with calendar `calendar_id`'s values, or empty for `new`."""
        actor, refusal = await authorize(self, Action.SLA_MANAGE)
        if actor is None:
            return refusal
        if self.calendar_saving:
            return None
        if calendar_id == NEW:
            calendar = None
        else:
            key = parse_id(calendar_id)
            calendar = next((item for item in self._calendars if item.id == key), None)
            if calendar is None:
                return None
        self.calendar_id = calendar_id
        self.calendar_values = calendar_form_values(calendar)
        self.calendar_errors = {}
        return focus_when_rendered(CALENDAR_FORM_HEADING_ID)

    @rx.event
    def cancel_calendar(self):
        """Close the calendar form without saving; focus goes back to where it was opened."""
        calendar_id, self.calendar_id = self.calendar_id, ""
        self.calendar_values, self.calendar_errors = {}, {}
        return focus_when_rendered(
            "new-calendar" if calendar_id in ("", NEW) else f"edit-calendar-{calendar_id}"
        )

    @rx.event
    async def save_calendar(self, form_data: dict) -> AsyncIterator:
        """Store the calendar form's values (new or changed); a refusal names the field."""
        actor, refusal = await authorize(self, Action.SLA_MANAGE, counts_as=WRITES)
        if actor is None:
            yield refusal
            return
        if self.calendar_saving or not self.calendar_id:
            return
        key = None if self.calendar_id == NEW else parse_id(self.calendar_id)
        if key is None and self.calendar_id != NEW:
            return
        try:
            data = calendar_write(form_data)
        except FormRefusedError as refused:
            self.calendar_errors = refused.errors
            self.calendar_values = {name: str(value) for name, value in form_data.items()}
            return
        self.calendar_errors, self.calendar_saving = {}, True
        yield
        try:
            if key is None:
                saved = await asyncio.to_thread(sla_policies.create_calendar, data, actor=actor)
            else:
                saved = await asyncio.to_thread(
                    sla_policies.update_calendar, key, data, actor=actor
                )
            await self._reload(actor)
        except InvalidInputError as exc:
            self.calendar_errors = {form_field(exc.field): failure_text(exc)}
            self.calendar_values = {name: str(value) for name, value in form_data.items()}
            return
        except ServiceError as exc:
            self.calendar_errors = {"form": failure_text(exc)}
            return
        finally:
            self.calendar_saving = False
        self.calendar_id, self.calendar_values = "", {}
        yield [
            toast_success(f"Calendar {saved.name} saved."),
            focus_when_rendered(f"edit-calendar-{saved.id}"),
        ]
