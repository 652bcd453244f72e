"""The e-mail channel's tables (migration 0011): mailboxes, requesters, mail, quarantine, files.

`mail_messages` holds every message received or sent once, keyed by its Message-ID (the unique
index is what makes a re-fetch, a retry or a second instance harmless). Outgoing mail carries its
delivery state; the `.eml` of every message is a file under the mail storage folder, named by
`raw_path` relative to it. Mailbox passwords are stored encrypted (Fernet tokens), never plain.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import DeliveryStatus, MailDirection, MailKind, QuarantineStatus, TlsMode
from ticket_app.models.base import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    UTCDateTime,
    enum_check,
    timestamp_column,
    utc_now,
)

MESSAGE_ID_MAX_LENGTH = 255
HOST_MAX_LENGTH = 255
PATH_MAX_LENGTH = 500
FILENAME_MAX_LENGTH = 255

MAILBOX_CHECKS: dict[str, str] = {
    "ck_mailboxes_name_not_blank": "length(trim(name)) > 0",
    "ck_mailboxes_address_lower": "address = lower(address)",
    "ck_mailboxes_address_format": "address LIKE '%_@_%'",
    "ck_mailboxes_imap_port": "imap_port BETWEEN 1 AND 65535",
    "ck_mailboxes_smtp_port": "smtp_port BETWEEN 1 AND 65535",
    "ck_mailboxes_imap_tls": enum_check("imap_tls", TlsMode),
    "ck_mailboxes_smtp_tls": enum_check("smtp_tls", TlsMode),
    "ck_mailboxes_last_uid": "last_uid >= 0",
}


class Mailbox(SQLModel, table=True):
    """A support address: IMAP to read it, SMTP to answer from it.

    `imap_password` and `smtp_password` are Fernet tokens (`services.mailboxes` encrypts and
    decrypts them with the configured key). `uidvalidity` and `last_uid` are the fetch cursor:
    messages with a higher UID in the same UIDVALIDITY are new.
    """

    __tablename__ = "mailboxes"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in MAILBOX_CHECKS.items()),
        sa.Index("ux_mailboxes_name", "name", unique=True),
        sa.Index("ux_mailboxes_address", "address", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    address: str = Field(sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=False))
    from_name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    imap_host: str = Field(sa_column=sa.Column(sa.String(HOST_MAX_LENGTH), nullable=False))
    imap_port: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    imap_tls: TlsMode = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    imap_username: str = Field(sa_column=sa.Column(sa.String(HOST_MAX_LENGTH), nullable=False))
    imap_password: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    imap_folder: str = Field(
        default="INBOX",
        sa_column=sa.Column(sa.String(HOST_MAX_LENGTH), nullable=False, server_default="INBOX"),
    )
    smtp_host: str = Field(sa_column=sa.Column(sa.String(HOST_MAX_LENGTH), nullable=False))
    smtp_port: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    smtp_tls: TlsMode = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    smtp_username: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(HOST_MAX_LENGTH), nullable=True)
    )
    smtp_password: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    active: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    acknowledge_new: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    uidvalidity: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    last_uid: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    last_fetch_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    last_fetch_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())


REQUESTER_CHECKS: dict[str, str] = {
    "ck_requesters_email_lower": "email = lower(email)",
    "ck_requesters_email_format": "email LIKE '%_@_%'",
    "ck_requesters_name_not_blank": "name IS NULL OR length(trim(name)) > 0",
}


class Requester(SQLModel, table=True):
    """A customer who wrote in: one row per address (stored lower-case, so unique in any case)."""

    __tablename__ = "requesters"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in REQUESTER_CHECKS.items()),
        sa.Index("ux_requesters_email", "email", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=False))
    name: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=True)
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())


MAIL_MESSAGE_CHECKS: dict[str, str] = {
    "ck_mail_messages_direction": enum_check("direction", MailDirection),
    "ck_mail_messages_kind": enum_check("kind", MailKind),
    "ck_mail_messages_delivery_status": (
        f"delivery_status IS NULL OR {enum_check('delivery_status', DeliveryStatus)}"
    ),
    "ck_mail_messages_outbound_has_status": (
        "direction = 'inbound' OR delivery_status IS NOT NULL"
    ),
    "ck_mail_messages_attempts": "attempts >= 0",
}


class MailMessage(SQLModel, table=True):
    """One e-mail received or sent, stored once by its Message-ID.

    Inbound mail names the ticket it became or joined (`ticket_id`) and, when it was added as a
    reply, the comment (`comment_id`; the first mail of a ticket is its description). Outbound
    mail is queued with the comment it carries; `delivery_status`, `delivery_error` (the
    server's words), `attempts` and `sent_at` follow its delivery. `reference_ids` is the
    References header as sent or received (ids separated by spaces, oldest first).
    """

    __tablename__ = "mail_messages"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in MAIL_MESSAGE_CHECKS.items()),
        sa.Index("ux_mail_messages_message_id", "message_id", unique=True),
        sa.Index("ux_mail_messages_comment_id", "comment_id", unique=True),
        sa.Index("ix_mail_messages_ticket_id_id", "ticket_id", "id"),
        sa.Index("ix_mail_messages_from_address_created_at", "from_address", "created_at"),
        sa.Index("ix_mail_messages_delivery_status", "delivery_status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(sa_column=sa.Column(sa.String(MESSAGE_ID_MAX_LENGTH), nullable=False))
    direction: MailDirection = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    kind: MailKind = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    mailbox_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("mailboxes.id", ondelete="SET NULL"), nullable=True
        ),
    )
    ticket_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True
        ),
    )
    comment_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("ticket_comments.id", ondelete="SET NULL"), nullable=True
        ),
    )
    from_address: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=True)
    )
    from_name: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=True)
    )
    to_address: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=True)
    )
    subject: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    in_reply_to: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(MESSAGE_ID_MAX_LENGTH), nullable=True)
    )
    reference_ids: str = Field(
        default="", sa_column=sa.Column(sa.Text, nullable=False, server_default="")
    )
    raw_path: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(PATH_MAX_LENGTH), nullable=True)
    )
    raw_size: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    delivery_status: DeliveryStatus | None = Field(
        default=None, sa_column=sa.Column(sa.String(10), nullable=True)
    )
    delivery_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    sent_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())


QUARANTINE_CHECKS: dict[str, str] = {
    "ck_mail_quarantine_status": enum_check("status", QuarantineStatus),
    "ck_mail_quarantine_reason_not_blank": "length(trim(reason)) > 0",
}


class QuarantinedMail(SQLModel, table=True):
    """A message that could not become a ticket or a reply, kept for an admin to look at.

    `fingerprint` (SHA-256 of the raw bytes) makes a re-fetch of the same message harmless.
    An admin retries it (`released`, then it is ingested again) or discards it.
    """

    __tablename__ = "mail_quarantine"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in QUARANTINE_CHECKS.items()),
        sa.Index("ux_mail_quarantine_fingerprint", "fingerprint", unique=True),
        sa.Index("ix_mail_quarantine_status_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    mailbox_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("mailboxes.id", ondelete="SET NULL"), nullable=True
        ),
    )
    message_id: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(MESSAGE_ID_MAX_LENGTH), nullable=True)
    )
    from_address: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=True)
    )
    subject: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    raw_path: str = Field(sa_column=sa.Column(sa.String(PATH_MAX_LENGTH), nullable=False))
    raw_size: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    status: QuarantineStatus = Field(
        default=QuarantineStatus.HELD,
        sa_column=sa.Column(sa.String(10), nullable=False, server_default="held"),
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    resolved_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    resolved_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
    )


ATTACHMENT_CHECKS: dict[str, str] = {
    "ck_attachments_filename_not_blank": "length(trim(filename)) > 0",
    "ck_attachments_size": "size >= 0",
    "ck_attachments_sha256_length": "length(sha256) = 64",
}


class Attachment(SQLModel, table=True):
    """A file on a ticket (from a customer's mail or an agent's reply); bytes live on disk.

    `content_type` is what a sniffing library found in the bytes, not the sender's claim;
    `storage_path` is relative to the attachment folder.
    """

    __tablename__ = "attachments"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in ATTACHMENT_CHECKS.items()),
        sa.Index("ix_attachments_ticket_id_id", "ticket_id", "id"),
        sa.Index("ix_attachments_comment_id", "comment_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        )
    )
    comment_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("ticket_comments.id", ondelete="SET NULL"), nullable=True
        ),
    )
    mail_message_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("mail_messages.id", ondelete="SET NULL"), nullable=True
        ),
    )
    filename: str = Field(sa_column=sa.Column(sa.String(FILENAME_MAX_LENGTH), nullable=False))
    content_type: str = Field(sa_column=sa.Column(sa.String(127), nullable=False))
    size: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    storage_path: str = Field(sa_column=sa.Column(sa.String(PATH_MAX_LENGTH), nullable=False))
    uploaded_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
