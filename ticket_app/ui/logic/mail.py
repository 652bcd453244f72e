"""The e-mail channel's plain logic: mail on the timeline, files, mailboxes, quarantine, requesters.

What the pages show is flattened to `dict[str, str]` rows. Mail is hostile input: every value
here is shown as text (never as HTML), and download links point at the API's own routes, which
check the session cookie and answer with `Content-Disposition: attachment`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ticket_app.enums import CommentChannel, DeliveryStatus, TlsMode
from ticket_app.schemas import (
    AttachmentRead,
    CommentRead,
    ConnectionCheck,
    InboundMailResult,
    MailboxCreate,
    MailboxRead,
    QuarantineRead,
    RequesterRead,
)
from ticket_app.services.errors import (
    DatabaseUnavailableError,
    PermissionDeniedError,
    ServiceError,
)
from ticket_app.services.ticket_query import is_row_id
from ticket_app.ui.logic.form import validation_messages
from ticket_app.ui.logic.tickets import label_of_value

CHANNEL_LABELS = {
    CommentChannel.EMAIL.value: "E-mail",
    CommentChannel.CONSOLE.value: "Console",
    CommentChannel.API.value: "API",
}
DELIVERY_LABELS = {
    DeliveryStatus.QUEUED.value: "Queued",
    DeliveryStatus.SENDING.value: "Sending",
    DeliveryStatus.SENT.value: "Sent",
    DeliveryStatus.FAILED.value: "Failed",
}
PENDING_DELIVERY = frozenset({DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value})
TLS_CHOICES = [
    (TlsMode.TLS.value, "TLS (implicit)"),
    (TlsMode.STARTTLS.value, "STARTTLS"),
    (TlsMode.NONE.value, "None (unencrypted)"),
]
STEP_LABELS = {
    "ok": "passed",
    "dns": "the host name could not be resolved",
    "connect": "no connection to the server",
    "tls": "the TLS handshake failed",
    "login": "the login was refused",
    "folder": "the folder could not be opened",
}
FORM_FIELDS = (
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
    "smtp_username",
    "smtp_password",
)
FIELD_LABELS = {
    "name": "Name",
    "address": "Support address",
    "from_name": "Sender name",
    "imap_host": "IMAP host",
    "imap_port": "IMAP port",
    "imap_tls": "IMAP encryption",
    "imap_username": "IMAP login",
    "imap_password": "IMAP password",
    "imap_folder": "IMAP folder",
    "smtp_host": "SMTP host",
    "smtp_port": "SMTP port",
    "smtp_tls": "SMTP encryption",
    "smtp_username": "SMTP login",
    "smtp_password": "SMTP password",
}
"""The add-mailbox form's fields as its labels name them (also the keys of its errors)."""

_DEFAULT_PORTS = {"imap_port": "993", "smtp_port": "587"}


def when_text(moment: datetime | None, never: str = "never") -> str:
    """A time as the console shows it (UTC to the minute), or `never`."""
    if moment is None:
        return never
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso_text(moment: datetime | None) -> str:
    """A time for `<time datetime>`, or ""."""
    return moment.astimezone(UTC).isoformat() if moment is not None else ""


def size_text(size: int) -> str:
    """A file size for people: "512 bytes", "12 KB", "3.4 MB" (powers of 1,024)."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{round(size / 1024):,} KB"
    return f"{size / (1024 * 1024):,.1f} MB"


def attachment_url(ticket_id: int, attachment_id: int) -> str:
    """The API route that downloads one of a ticket's files (staff who may read it)."""
    return f"/api/tickets/{ticket_id}/attachments/{attachment_id}/"


def comment_raw_url(ticket_id: int, comment_id: int) -> str:
    """The API route that downloads the `.eml` behind a comment."""
    return f"/api/tickets/{ticket_id}/comments/{comment_id}/raw/"


def quarantine_raw_url(quarantine_id: int) -> str:
    """The API route that downloads a quarantined message (admins)."""
    return f"/api/mail/quarantine/{quarantine_id}/raw/"


def attachment_row(file: AttachmentRead) -> dict[str, str]:
    """One file as the page lists it: name, size, type and its download link."""
    size = size_text(file.size)
    return {
        "id": str(file.id),
        "name": file.filename,
        "size": size,
        "type": file.content_type,
        "url": attachment_url(file.ticket_id, file.id),
        "label": f"Download {file.filename} ({size})",
    }


def delivery_text(comment: CommentRead) -> str:
    """Where an outbound reply's mail stands, in words ("" when it is not mailed)."""
    status = comment.delivery_status
    if status is None:
        return ""
    to = f" to {comment.mailed_to}" if comment.mailed_to else ""
    if status is DeliveryStatus.QUEUED:
        retry = f" (last attempt: {comment.delivery_error})" if comment.delivery_error else ""
        return f"E-mail queued{to}{retry}"
    if status is DeliveryStatus.SENDING:
        return f"E-mail being sent{to}"
    if status is DeliveryStatus.SENT:
        return f"E-mail sent{to}"
    reason = comment.delivery_error or "no reason given"
    return f"E-mail not delivered{to}: {reason}"


def comment_mail_fields(comment: CommentRead) -> dict[str, str]:
    """What a timeline row of `comment` shows about its channel and its mail.

    `channel` and `channel_label` (E-mail, Console, API); `direction` (inbound, outbound or "");
    `delivery` (queued, sending, sent, failed or "") with `delivery_label` and `delivery_text`;
    `raw_url` the `.eml` download ("" when the comment is not a stored mail); `comment_id`;
    `file_count` how many files came or went with it.
    """
    channel = comment.channel.value
    direction = comment.direction.value if comment.direction is not None else ""
    delivery = comment.delivery_status.value if comment.delivery_status is not None else ""
    return {
        "comment_id": str(comment.id),
        "channel": channel,
        "channel_label": CHANNEL_LABELS.get(channel, channel),
        "direction": direction,
        "delivery": delivery,
        "delivery_label": DELIVERY_LABELS.get(delivery, ""),
        "delivery_text": delivery_text(comment),
        "raw_url": comment_raw_url(comment.ticket_id, comment.id) if direction else "",
        "file_count": str(len(comment.attachments)),
    }


def comment_files(comments: Iterable[CommentRead]) -> dict[str, list[dict[str, str]]]:
    """Comment id (text) -> its files as rows, for every comment (an empty list when none)."""
    return {
        str(comment.id): [attachment_row(file) for file in comment.attachments]
        for comment in comments
    }


def has_pending_delivery(rows: Iterable[Mapping[str, str]]) -> bool:
    """Whether a timeline (rows of `timeline_rows`) holds mail still queued or being sent."""
    return any(row.get("delivery") in PENDING_DELIVERY for row in rows)


def reply_hint(public: bool, recipient: str) -> str:
    """The composer's line under its kind: whether, and to whom, a reply will be mailed.

    Without a recipient (no requester address, or no mailbox to send from) a public reply
    reaches nobody: it is recorded on the ticket only, and the line says so.
    """
    if not public:
        return "Internal notes are for staff only."
    if recipient:
        return f"Reply by e-mail to {recipient}"
    return "Recorded on the ticket only; it is not e-mailed to anyone."


def saved_text(comment: CommentRead) -> str:
    """The toast after the composer saved `comment`: whether, and to whom, it is being mailed."""
    if not comment.public:
        return "Internal note added."
    if comment.delivery_status is not None and comment.mailed_to:
        return f"Reply saved; it is being e-mailed to {comment.mailed_to}."
    return "Reply recorded on the ticket (not e-mailed)."


def mailbox_row(mailbox: MailboxRead) -> dict[str, str]:
    """One mailbox as the mailboxes table shows it, with its fetch health (never a password)."""
    error = mailbox.last_fetch_error or ""
    if not mailbox.active:
        health = "Paused"
    elif error:
        health = "Failing"
    elif mailbox.last_fetch_at is None:
        health = "Not fetched yet"
    else:
        health = "OK"
    return {
        "id": str(mailbox.id),
        "name": mailbox.name,
        "address": mailbox.address,
        "from_name": mailbox.from_name,
        "imap": f"{mailbox.imap_host}:{mailbox.imap_port} ({mailbox.imap_tls.value}), "
        f"{mailbox.imap_username}, {mailbox.imap_folder}",
        "smtp": f"{mailbox.smtp_host}:{mailbox.smtp_port} ({mailbox.smtp_tls.value})"
        + (f", {mailbox.smtp_username}" if mailbox.smtp_username else ", no login"),
        "active": "yes" if mailbox.active else "no",
        "acknowledge": "yes" if mailbox.acknowledge_new else "no",
        "last_fetch": when_text(mailbox.last_fetch_at),
        "last_fetch_iso": iso_text(mailbox.last_fetch_at),
        "last_error": error,
        "health": health,
    }


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _checked(form: Mapping[str, Any], name: str) -> bool:
    """A native checkbox submits "on" when ticked and nothing otherwise."""
    return _text(form, name) in ("on", "true", "yes")


def mailbox_create(form: Mapping[str, Any]) -> MailboxCreate:
    """The mailbox the add form describes (its submitted fields, all text).

    An empty port takes the default (993, 587), an empty folder INBOX; an empty SMTP login or
    password means the IMAP one, unless "no SMTP login" is ticked; the address is lower-cased.
    Raises pydantic's ValidationError (see `form_errors`).
    """
    values: dict[str, Any] = {name: _text(form, name) for name in FORM_FIELDS}
    for port, default in _DEFAULT_PORTS.items():
        values[port] = values[port].strip() or default
    values["imap_folder"] = values["imap_folder"] or "INBOX"
    # Addresses compare in any case (our own mail is recognised by them): store them lowered.
    values["address"] = values["address"].strip().lower()
    if _checked(form, "smtp_no_login"):
        values["smtp_username"] = values["smtp_password"] = None
    else:
        values["smtp_username"] = values["smtp_username"].strip() or values["imap_username"]
        values["smtp_password"] = values["smtp_password"] or values["imap_password"] or None
    values["acknowledge_new"] = _checked(form, "acknowledge_new")
    values["active"] = True
    return MailboxCreate.model_validate(values)


def form_errors(error: ValidationError) -> dict[str, str]:
    """The add form's refusals by field, worded for the field's label."""
    messages = validation_messages(error)
    for field in ("imap_port", "smtp_port"):
        if field in messages:
            messages[field] = "Enter a port number from 1 to 65535."
    for field in ("imap_host", "smtp_host"):
        if field in messages:
            messages[field] = "Enter a host name without spaces or slashes."
    return messages


def error_summary(errors: Mapping[str, str]) -> str:
    """One sentence naming the fields the form refused, for the alert above it."""
    names = [FIELD_LABELS.get(field, field.replace("_", " ")) for field in errors]
    return "Check " + ", ".join(names) + "." if names else ""


def check_rows(check: ConnectionCheck) -> list[dict[str, str]]:
    """The result of "Test connection", one row per server: `service`, `ok` (yes/no), `text`."""
    rows = []
    for step in check.steps:
        service = step.service.upper()
        if step.ok:
            text = f"{service}: passed ({step.detail})"
        else:
            what = STEP_LABELS.get(step.step, step.step)
            text = f"{service}: failed at {step.step}, {what}: {step.detail}"
        rows.append({"service": service, "ok": "yes" if step.ok else "no", "text": text})
    return rows


def quarantine_row(entry: QuarantineRead) -> dict[str, str]:
    """One held message as the quarantine table shows it (text only; the raw file downloads)."""
    return {
        "id": str(entry.id),
        "sender": entry.from_address or "(no sender)",
        "subject": entry.subject or "(no subject)",
        "reason": entry.reason,
        "received_iso": iso_text(entry.created_at),
        "size": size_text(entry.raw_size),
        "raw_url": quarantine_raw_url(entry.id),
    }


def release_text(result: InboundMailResult) -> str:
    """What became of a quarantined message taken in again, for the toast."""
    ticket = f" #{result.ticket_id}" if result.ticket_id is not None else ""
    if result.outcome == "created":
        return f"The message became ticket{ticket}."
    if result.outcome == "appended":
        return f"The message was added to ticket{ticket}."
    if result.outcome == "duplicate":
        return f"The message was already taken in (ticket{ticket})."
    if result.outcome == "bounce":
        return f"The delivery report was noted on ticket{ticket}."
    return f"Still held: {result.detail or 'it could not be taken in'}"


def id_from_path(path: str, section: str) -> int | None:
    """The row id in a page path such as "/requesters/12" (`section` "requesters"), else None.

    None also for ids that are not ASCII digits or lie outside the id column's range.
    """
    parts = [part for part in path.split("/") if part]
    if len(parts) != 2 or parts[0] != section:
        return None
    raw = parts[1]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if is_row_id(value) else None


def parse_id(raw: str) -> int | None:
    """A row id sent by the page (text), or None when it is not one."""
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if is_row_id(value) else None


def requester_label(requester: RequesterRead) -> str:
    """A requester as the pages name them: "Name <address>", or the address."""
    return f"{requester.name} <{requester.email}>" if requester.name else requester.email


def requester_ticket_rows(
    requester: RequesterRead, *, leave_out: int | None = None, limit: int | None = None
) -> list[dict[str, str]]:
    """The requester's tickets (newest first) as rows, without ticket `leave_out`."""
    rows = [
        {
            "id": str(ticket.id),
            "title": ticket.title,
            "status": ticket.status.value,
            "status_label": label_of_value(ticket.status.value),
            "priority_label": label_of_value(ticket.priority.value),
            "created_iso": iso_text(ticket.created_at),
        }
        for ticket in requester.tickets
        if ticket.id != leave_out
    ]
    return rows if limit is None else rows[:limit]


def failure_text(exc: Exception) -> str:
    """Why a mail action was refused, in words for the page (no stack, no secret)."""
    if isinstance(exc, ValidationError):
        return error_summary(form_errors(exc))
    if isinstance(exc, PermissionDeniedError):
        return "Your role does not allow this."
    if isinstance(exc, DatabaseUnavailableError):
        return "The database is unavailable; nothing was changed."
    if isinstance(exc, ServiceError) and str(exc):
        text = str(exc).rstrip(".")
        return text[:1].upper() + text[1:] + "."
    return "That did not work; nothing was changed."
