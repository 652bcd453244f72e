"""The quarantine: mail that could not be taken in, for admins to read, retry or discard."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from ticket_app.enums import EventKind, QuarantineStatus
from ticket_app.models import QuarantinedMail, utc_now
from ticket_app.schemas import InboundMailResult, QuarantineRead
from ticket_app.services import file_store
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import NotFoundError
from ticket_app.services.mail_inbound import ingest
from ticket_app.services.ticket_query import is_row_id

QUARANTINE_PAGE = 200


def _read(entry: QuarantinedMail) -> QuarantineRead:
    return QuarantineRead.model_validate(entry, from_attributes=True)


def list_quarantine(
    *, actor: Actor, status: QuarantineStatus | None = QuarantineStatus.HELD
) -> list[QuarantineRead]:
    """Quarantined mail, newest first (at most QUARANTINE_PAGE), `held` only by default.

    Raises PermissionDeniedError unless `actor` may manage mailboxes.
    """
    actor.require(Action.MAILBOXES_MANAGE)
    query = select(QuarantinedMail).order_by(QuarantinedMail.id.desc()).limit(QUARANTINE_PAGE)
    if status is not None:
        query = query.where(QuarantinedMail.status == status.value)
    with service_session() as session:
        return [_read(entry) for entry in session.exec(query).all()]


def _entry(quarantine_id: int) -> QuarantinedMail:
    with service_session() as session:
        entry = session.get(QuarantinedMail, quarantine_id) if is_row_id(quarantine_id) else None
        if entry is None:
            raise NotFoundError(f"quarantined mail {quarantine_id} does not exist")
        return entry


def raw_message(quarantine_id: int, *, actor: Actor) -> bytes:
    """The quarantined message's bytes (`.eml`). Raises PermissionDeniedError, NotFoundError."""
    actor.require(Action.MAILBOXES_MANAGE)
    return file_store.read(_entry(quarantine_id).raw_path)


def release(quarantine_id: int, *, actor: Actor) -> InboundMailResult:
    """Take a held message in again (an admin's "retry") and say what became of it.

    It is marked `released` when it became a ticket, a reply or a bounce; when it is refused
    again it stays `held` with the new reason. Raises PermissionDeniedError, NotFoundError.
    """
    actor.require(Action.MAILBOXES_MANAGE)
    entry = _entry(quarantine_id)
    if entry.status != QuarantineStatus.HELD:
        raise NotFoundError(f"quarantined mail {quarantine_id} is not held")
    result = ingest(file_store.read(entry.raw_path), mailbox_id=entry.mailbox_id, force=True)
    with service_session() as session:
        values: dict[str, object]
        if result.outcome == "quarantined":
            values = {"reason": result.detail[:2000] or entry.reason}
        else:
            values = {
                "status": QuarantineStatus.RELEASED.value,
                "resolved_at": utc_now(),
                "resolved_by": actor.user_id,
            }
        session.execute(
            sa.update(QuarantinedMail).where(QuarantinedMail.id == quarantine_id).values(**values)
        )
        record_event(
            session,
            actor,
            EventKind.MAIL_RELEASED,
            ticket_id=result.ticket_id,
            field="quarantine",
            old=quarantine_id,
            new=result.outcome,
        )
    return result


def discard(quarantine_id: int, *, actor: Actor) -> None:
    """Mark a held message `discarded` (its bytes stay for the record).

    Raises PermissionDeniedError, NotFoundError.
    """
    actor.require(Action.MAILBOXES_MANAGE)
    if not is_row_id(quarantine_id):
        raise NotFoundError(f"no held quarantined mail {quarantine_id}")
    with service_session() as session:
        updated = session.execute(
            sa.update(QuarantinedMail)
            .where(QuarantinedMail.id == quarantine_id)
            .where(QuarantinedMail.status == QuarantineStatus.HELD.value)
            .values(
                status=QuarantineStatus.DISCARDED.value,
                resolved_at=utc_now(),
                resolved_by=actor.user_id,
            )
        ).rowcount
        if not updated:
            raise NotFoundError(f"no held quarantined mail {quarantine_id}")
        record_event(
            session, actor, EventKind.MAIL_DISCARDED, field="quarantine", old=quarantine_id
        )
