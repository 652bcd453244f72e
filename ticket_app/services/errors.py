"""Errors the service layer raises; the API and the UI translate them for their users."""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Base class of every expected failure of a service call."""


class TicketNotFoundError(ServiceError, LookupError):
    """No ticket has the requested id.

    `field` names where the id came from: "id" (the URL) unless the request named the ticket in
    another field (a merge's `into`).
    """

    def __init__(self, ticket_id: int, field: str = "id") -> None:
        super().__init__(f"Ticket {ticket_id} not found")
        self.ticket_id = ticket_id
        self.field = field


class InvalidCursorError(ServiceError, ValueError):
    """A pagination cursor that this service did not issue, or that points nowhere."""


class DatabaseUnavailableError(ServiceError):
    """The database could not be reached or refused the connection; nothing was written."""


class ConstraintViolationError(ServiceError, ValueError):
    """The database refused a write because it breaks a table constraint.

    `constraint` names the violated constraint when the driver reports it.
    """

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class AuthenticationError(ServiceError):
    """No valid session or token was presented (the API answers 401)."""


class InvalidCredentialsError(AuthenticationError):
    """Sign-in refused.

    One message for an unknown email, a wrong password and a deactivated
    account, so the answer does not reveal which accounts exist.
    """

    def __init__(self) -> None:
        super().__init__("Email or password is incorrect.")


class TooManyAttemptsError(ServiceError):
    """Too many failed sign-ins for this account or address; `retry_after` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed sign-ins; try again in {retry_after} seconds.")
        self.retry_after = retry_after


class PermissionDeniedError(ServiceError):
    """The actor is known but its role or token scope does not allow the action (API: 403)."""

    def __init__(self, action: str) -> None:
        super().__init__(f"Your role or token does not allow {action}.")
        self.action = action


class InvalidInputError(ServiceError, ValueError):
    """A value a service refuses; `field` names it for the caller's error message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(InvalidInputError):
    """The value is already taken (e.g. an email of another staff user); API: 409."""


class NotFoundError(ServiceError, LookupError):
    """No staff user or token matches (API: 404)."""


class LinkUnusableError(InvalidInputError):
    """A one-time password link that is unknown, used already or expired (API: 422, `token`).

    `reason` is `unknown`, `used` or `expired`; the message says what to do.
    """

    MESSAGES: ClassVar[dict[str, str]] = {
        "unknown": "This link is not valid. Check that it was copied whole, or ask an admin "
        "for a new one.",
        "used": "This link has been used already; each link works once. Sign in, or ask an "
        "admin for a new link.",
        "expired": "This link has expired. Ask an admin for a new one.",
    }

    def __init__(self, reason: str) -> None:
        super().__init__("token", self.MESSAGES[reason])
        self.reason = reason


class SetupClosedError(ServiceError):
    """The first-admin setup was already done, or the setup token is wrong."""


class ExternalIdConflictError(ConflictError):
    """A ticket with this `external_id` is already stored; `ticket_id` is that ticket (API: 409)."""

    def __init__(self, external_id: str, ticket_id: int) -> None:
        super().__init__(
            "external_id",
            f"a ticket with external_id {external_id!r} already exists: ticket {ticket_id} "
            f"(/api/tickets/{ticket_id}/)",
        )
        self.external_id = external_id
        self.ticket_id = ticket_id


class EditConflictError(ServiceError):
    """An update's `If-Match` names a version of the ticket that is no longer current (API: 412).

    `current` is the ticket as stored now (a `TicketRead`), `changed_by` who made its latest
    change (an audit actor label, None if unknown). Nothing was written.
    """

    def __init__(self, current: Any, changed_by: str | None) -> None:
        who = f" by {changed_by}" if changed_by else ""
        super().__init__(
            f"Ticket {current.id} was changed{who} since you loaded it; reload it, or send "
            "If-Match with its current ETag (or *) to apply your change anyway."
        )
        self.current = current
        self.changed_by = changed_by
