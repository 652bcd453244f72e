"""The e-mail channel's shapes: mailboxes, connection checks, quarantine, attachments, requesters.

Also what became of a message posted to the inbound endpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
    field_validator,
)

from ticket_app.enums import (
    DeliveryStatus,
    MailDirection,
    MailKind,
    Priority,
    QuarantineStatus,
    Status,
    TlsMode,
)
from ticket_app.schemas.fields import NameText, RequesterEmail, iso_utc, never_null

# No whitespace (ECMAScript's and Python's alike, spelled out: `\s` differs between the JSON
# Schema a client reads and the server's regex), no control characters, no slash.
_HOST_PATTERN = r"^[^\x00-\x20\x7F-\xA0/\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]+$"
HostName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=_HOST_PATTERN),
]
MailboxAddress = Annotated[RequesterEmail, AfterValidator(str.lower)]
"""A support address, stored lower-cased (mail addresses are matched in any case)."""
Port = Annotated[int, Field(ge=1, le=65535)]
Login = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\r\n\x00]+$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"^[^\r\n\x00]+$")]
Folder = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\r\n\x00]+$"
    ),
]


class MailboxCreate(BaseModel):
    """A support address to connect: IMAP to read it, SMTP to answer from it.

    Passwords are write-only: stored encrypted, never returned.
    """

    model_config = ConfigDict(extra="forbid")

    name: NameText = Field(description="What staff call the mailbox, e.g. Support.")
    address: MailboxAddress = Field(description="The support address customers write to.")
    from_name: NameText = Field(description="The sender name on replies, e.g. Acme Support.")
    imap_host: HostName
    imap_port: Port = 993
    imap_tls: TlsMode = TlsMode.TLS
    imap_username: Login
    imap_password: Secret
    imap_folder: Folder = "INBOX"
    smtp_host: HostName
    smtp_port: Port = 587
    smtp_tls: TlsMode = TlsMode.STARTTLS
    smtp_username: Login | None = None
    smtp_password: Secret | None = None
    active: bool = True
    acknowledge_new: bool = Field(
        default=False, description="Answer each new ticket from mail once, with its number."
    )


class MailboxUpdate(BaseModel):
    """The mailbox fields to change; those left out stay as they are.

    Only `smtp_username` and `smtp_password` may be null (null: send without logging in, or
    without a password); every other field, when sent, needs a value.
    """

    model_config = ConfigDict(extra="forbid")

    name: NameText | None = Field(default=None, json_schema_extra=never_null)
    address: MailboxAddress | None = Field(default=None, json_schema_extra=never_null)
    from_name: NameText | None = Field(default=None, json_schema_extra=never_null)
    imap_host: HostName | None = Field(default=None, json_schema_extra=never_null)
    imap_port: Port | None = Field(default=None, json_schema_extra=never_null)
    imap_tls: TlsMode | None = Field(default=None, json_schema_extra=never_null)
    imap_username: Login | None = Field(default=None, json_schema_extra=never_null)
    imap_password: Secret | None = Field(default=None, json_schema_extra=never_null)
    imap_folder: Folder | None = Field(default=None, json_schema_extra=never_null)
    smtp_host: HostName | None = Field(default=None, json_schema_extra=never_null)
    smtp_port: Port | None = Field(default=None, json_schema_extra=never_null)
    smtp_tls: TlsMode | None = Field(default=None, json_schema_extra=never_null)
    smtp_username: Login | None = Field(default=None, description="Null: send without logging in.")
    smtp_password: Secret | None = Field(
        default=None, description="Null: log in without a password."
    )
    active: bool | None = Field(default=None, json_schema_extra=never_null)
    acknowledge_new: bool | None = Field(default=None, json_schema_extra=never_null)

    @field_validator(
        "name",
        "address",
        "from_name",
        "imap_host",
        "imap_port",
        "imap_tls",
        "imap_username",
        "imap_password",
        "imap_folder",
        "smtp_host",
        "smtp_port",
        "smtp_tls",
        "active",
        "acknowledge_new",
        mode="before",
    )
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave it out to keep it")
        return value


class MailboxRead(BaseModel):
    """A connected mailbox as staff see it: settings without passwords, and fetch health."""

    id: int
    name: str
    address: str
    from_name: str
    imap_host: str
    imap_port: int
    imap_tls: TlsMode
    imap_username: str
    imap_folder: str
    imap_password_set: bool
    smtp_host: str
    smtp_port: int
    smtp_tls: TlsMode
    smtp_username: str | None
    smtp_password_set: bool
    active: bool
    acknowledge_new: bool
    last_uid: int
    last_fetch_at: datetime | None
    last_fetch_error: str | None
    created_at: datetime

    @field_serializer("last_fetch_at", "created_at", when_used="json")
    def _utc(self, value: datetime | None) -> str | None:
        return iso_utc(value)


class ConnectionStep(BaseModel):
    """One server's check: `ok`, or the `step` that failed (dns, connect, tls, login, folder)."""

    service: Literal["imap", "smtp"]
    ok: bool
    step: str
    detail: str


class ConnectionCheck(BaseModel):
    """The result of "Test connection": ok when both IMAP and SMTP passed."""

    ok: bool
    steps: list[ConnectionStep]


class QuarantineRead(BaseModel):
    """A message that could not be taken in, and why."""

    id: int
    mailbox_id: int | None
    message_id: str | None
    from_address: str | None
    subject: str
    reason: str
    raw_size: int
    status: QuarantineStatus
    created_at: datetime
    resolved_at: datetime | None

    @field_serializer("created_at", "resolved_at", when_used="json")
    def _utc(self, value: datetime | None) -> str | None:
        return iso_utc(value)


class AttachmentRead(BaseModel):
    """A file on a ticket; `content_type` is what its bytes show, `size` is in bytes."""

    id: int
    ticket_id: int
    comment_id: int | None
    filename: str
    content_type: str
    size: int
    created_at: datetime

    @field_serializer("created_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return iso_utc(value)


class TicketMailRead(BaseModel):
    """One e-mail of a ticket, received or sent, as stored (newest last in a list).

    `comment_id` is the comment it carries (None for the mail that opened the ticket, an
    acknowledgement or a bounce); `delivery_status` and `delivery_error` describe outgoing
    mail only; `raw_size` is the `.eml`'s size in bytes (0 when it was not kept), downloadable
    at `/api/tickets/{ticket_id}/mail/{id}/raw/`.
    """

    id: int
    ticket_id: int
    comment_id: int | None
    direction: MailDirection
    kind: MailKind
    message_id: str
    from_address: str | None
    from_name: str | None
    to_address: str | None
    subject: str
    delivery_status: DeliveryStatus | None
    delivery_error: str | None
    raw_size: int
    created_at: datetime
    sent_at: datetime | None

    @field_serializer("created_at", "sent_at", when_used="json")
    def _utc(self, value: datetime | None) -> str | None:
        return iso_utc(value)


class RequesterTicket(BaseModel):
    """One of a requester's tickets, as listed beside them."""

    id: int
    title: str
    status: Status
    priority: Priority
    created_at: datetime

    @field_serializer("created_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return iso_utc(value)


class RequesterRead(BaseModel):
    """A customer who wrote in, with their most recent tickets (newest first)."""

    id: int
    email: str
    name: str | None
    created_at: datetime
    ticket_count: int
    tickets: list[RequesterTicket]

    @field_serializer("created_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return iso_utc(value)


class InboundMailResult(BaseModel):
    """What became of a message posted to the inbound endpoint.

    `created` (a new ticket), `appended` (a reply on a ticket), `duplicate` (already taken in:
    nothing changed), `bounce` (a delivery report, noted on its ticket) or `quarantined`
    (`detail` says why).
    """

    outcome: Literal["created", "appended", "duplicate", "bounce", "quarantined"]
    ticket_id: int | None = None
    comment_id: int | None = None
    quarantine_id: int | None = None
    detail: str = ""
