"""Comments on a ticket, and the ticket's timeline of events and comments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from ticket_app.enums import CommentChannel, DeliveryStatus, MailDirection
from ticket_app.schemas.audit import EventRead
from ticket_app.schemas.fields import TEXT_RULES, Description, iso_utc
from ticket_app.schemas.mail import AttachmentRead


class CommentCreate(BaseModel):
    """A reply to the requester (`public`: true) or an internal note (false).

    The body is plain text, stored exactly as written (line breaks kept, no HTML or Markdown).
    """

    model_config = ConfigDict(extra="forbid")

    body: Description = Field(
        description=f"Plain text, not blank; at most MAX_DESCRIPTION_CHARS characters. {TEXT_RULES}"
    )
    public: bool = Field(strict=True, description="true: a public reply; false: an internal note.")


class CommentRead(BaseModel):
    """A stored comment; `author` is the author's email (for a token: with the token's name)."""

    id: int
    ticket_id: int
    author: str
    author_id: int | None = Field(description="The staff user who wrote it.")
    author_name: str = Field(description="The author's name (their email when unknown).")
    body: str
    public: bool
    channel: CommentChannel
    created_at: datetime = Field(json_schema_extra={"format": "date-time"})
    direction: MailDirection | None = Field(
        default=None, description="For e-mail: inbound (from the requester) or outbound."
    )
    message_id: str | None = Field(default=None, description="The e-mail's Message-ID.")
    delivery_status: DeliveryStatus | None = Field(
        default=None,
        description="For a reply mailed to the requester: queued, sending, sent or failed.",
    )
    delivery_error: str | None = Field(
        default=None, description="Why the last delivery attempt failed (the server's words)."
    )
    mailed_to: str | None = Field(
        default=None, description="The address an outbound reply is mailed to."
    )
    attachments: list[AttachmentRead] = Field(
        default_factory=list, description="Files that came or went with this comment."
    )

    @field_serializer("created_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return iso_utc(value)


class CommentPage(BaseModel):
    """Comments oldest first; `total` counts all of the ticket's, `next_cursor` None at the end."""

    items: list[CommentRead]
    total: int
    next_cursor: str | None


class TimelineEntry(BaseModel):
    """One line of a ticket's timeline: an audit event or a comment.

    `actor` is the event's actor or the comment's author; exactly one of `event` and `comment`
    is set, matching `kind`.
    """

    kind: Literal["event", "comment"]
    created_at: datetime
    actor: str
    event: EventRead | None = None
    comment: CommentRead | None = None
