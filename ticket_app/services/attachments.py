"""Files on tickets: stored from customers' mail and agents' replies, served only to staff.

Bytes live in the file store (content-addressed); rows here hold the metadata. The type kept is
what `puremagic` reads in the bytes, never the sender's claim alone, and downloads are served
as attachments (`Content-Disposition: attachment`, `nosniff`, by the API layer).
"""

from __future__ import annotations

from dataclasses import dataclass

import puremagic
from sqlmodel import Session, select

from ticket_app.models import Attachment, Ticket
from ticket_app.schemas import AttachmentRead
from ticket_app.services import file_store
from ticket_app.services.access import Action, Actor
from ticket_app.services.database import service_session
from ticket_app.services.errors import NotFoundError, TicketNotFoundError
from ticket_app.services.ticket_query import is_row_id

GENERIC_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class IncomingFile:
    """A file to attach: its name as given and its bytes."""

    filename: str
    payload: bytes


def sniff_type(payload: bytes) -> str:
    """The MIME type the bytes show (`puremagic`), or application/octet-stream."""
    if not payload:
        return GENERIC_TYPE
    try:
        found = puremagic.from_string(payload, mime=True)
    except (puremagic.PureError, ValueError):
        return GENERIC_TYPE
    return found or GENERIC_TYPE


def add_files(
    session: Session,
    ticket_id: int,
    files: list[IncomingFile],
    *,
    comment_id: int | None = None,
    mail_message_id: int | None = None,
    uploaded_by: int | None = None,
) -> list[int]:
    """Store `files` and add their rows to `session` (they commit with the caller's change).

    The bytes are written first (content-addressed, so a rolled-back transaction leaves at
    most an unreferenced file). Returns the new rows' ids. Raises OSError when the disk refuses.
    """
    ids: list[int] = []
    for incoming in files:
        stored = file_store.store("attachments", incoming.payload)
        row = Attachment(
            ticket_id=ticket_id,
            comment_id=comment_id,
            mail_message_id=mail_message_id,
            filename=incoming.filename.strip()[:255] or "attachment",
            content_type=sniff_type(incoming.payload),
            size=stored.size,
            sha256=stored.sha256,
            storage_path=stored.path,
            uploaded_by=uploaded_by,
        )
        session.add(row)
        session.flush()
        ids.append(int(row.id))
    return ids


def _read(row: Attachment) -> AttachmentRead:
    return AttachmentRead(
        id=row.id,
        ticket_id=row.ticket_id,
        comment_id=row.comment_id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        created_at=row.created_at,
    )


def list_attachments(ticket_id: int, *, actor: Actor) -> list[AttachmentRead]:
    """The ticket's files, oldest first. Raises PermissionDeniedError, TicketNotFoundError."""
    actor.require(Action.TICKETS_READ)
    with service_session() as session:
        if not is_row_id(ticket_id) or session.get(Ticket, ticket_id) is None:
            raise TicketNotFoundError(ticket_id)
        rows = session.exec(
            select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
        ).all()
        return [_read(row) for row in rows]


def attachments_by_comment(session: Session, ticket_id: int) -> dict[int, list[AttachmentRead]]:
    """The ticket's files grouped by the comment they came with (for the timeline)."""
    rows = session.exec(
        select(Attachment)
        .where(Attachment.ticket_id == ticket_id)
        .where(Attachment.comment_id.is_not(None))
        .order_by(Attachment.id)
    ).all()
    grouped: dict[int, list[AttachmentRead]] = {}
    for row in rows:
        grouped.setdefault(int(row.comment_id), []).append(_read(row))
    return grouped


def open_attachment(
    ticket_id: int, attachment_id: int, *, actor: Actor
) -> tuple[AttachmentRead, bytes]:
    """A file's metadata and bytes, for staff who may read its ticket.

    Raises PermissionDeniedError, NotFoundError (no such file on that ticket, or its bytes are
    gone from the store).
    """
    actor.require(Action.TICKETS_READ)
    if not (is_row_id(ticket_id) and is_row_id(attachment_id)):
        raise NotFoundError(f"ticket {ticket_id} has no attachment {attachment_id}")
    with service_session() as session:
        row = session.exec(
            select(Attachment)
            .where(Attachment.id == attachment_id)
            .where(Attachment.ticket_id == ticket_id)
        ).first()
        if row is None:
            raise NotFoundError(f"ticket {ticket_id} has no attachment {attachment_id}")
        metadata = _read(row)
        path = row.storage_path
    return metadata, file_store.read(path)
