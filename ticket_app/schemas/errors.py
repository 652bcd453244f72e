"""The API's error bodies: the shape every error answer has, and the 409 and 412 ones."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ticket_app.schemas.tickets import TicketRead


class ErrorItem(BaseModel):
    """One problem with a request."""

    field: str = Field(
        description="The offending field: a body field (dotted when nested), a query or path "
        "parameter, or a header as named in the request (`Idempotency-Key`); `body` for the "
        "body as a whole; empty when the problem is not about one field."
    )
    message: str = Field(description="What is wrong, for people.")
    type: str = Field(description="What kind of problem, for programs (e.g. `missing`).")


class ErrorBody(BaseModel):
    """Every error answer of the API: `detail` as FastAPI writes it, `errors` one per problem."""

    detail: str | list[dict[str, Any]] = Field(
        description="A message; for invalid input, FastAPI's list of `{loc, msg, type}`."
    )
    errors: list[ErrorItem]


class ExistingTicket(BaseModel):
    """The ticket a refused create collided with."""

    id: int
    url: str = Field(description="Its path in this API (`/api/tickets/{id}/`).")


class ConflictBody(ErrorBody):
    """A create refused because a ticket with the same `external_id` exists (409)."""

    ticket: ExistingTicket


class EditConflictBody(ErrorBody):
    """A PATCH refused because its `If-Match` is stale (412): the ticket as it is now."""

    current: TicketRead = Field(description="The ticket as stored now (its `ETag` is sent too).")
    changed_by: str | None = Field(
        description="Who made the latest change to the ticket (as events' `actor`)."
    )
