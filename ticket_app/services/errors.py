"""Errors the service layer raises; the API and the UI translate them for their users."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class of every expected failure of a service call."""


class TicketNotFoundError(ServiceError, LookupError):
    """No ticket has the requested id."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"Ticket {ticket_id} not found")
        self.ticket_id = ticket_id


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
