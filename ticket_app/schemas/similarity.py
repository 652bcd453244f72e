"""Similar tickets and merging a duplicate into the ticket to keep."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ticket_app.enums import Status
from ticket_app.schemas.fields import RowId
from ticket_app.schemas.tickets import TicketRead


class SimilarTicket(BaseModel):
    """An open ticket whose text resembles another's (issue 14).

    `score` is the cosine similarity of the two tickets' content words, 0 (nothing shared) to
    1 (the same words).
    """

    id: int
    title: str
    status: Status
    score: float = Field(ge=0, le=1)


class MergeRequest(BaseModel):
    """`POST /api/tickets/{id}/merge/`: close this ticket as a duplicate of ticket `into`."""

    model_config = ConfigDict(extra="forbid")

    into: RowId = Field(description="Id of the ticket to keep; not this one, not a duplicate.")


class MergeResult(BaseModel):
    """Both tickets after a merge.

    `duplicate_ids` lists every ticket merged into the kept one so far, oldest first.
    """

    merged: TicketRead
    kept: TicketRead
    duplicate_ids: list[int]
