"""Support mailboxes: connect, list, change, test and remove them (admins only).

Passwords are encrypted at rest with Fernet (`cryptography`; AES-128-CBC with HMAC-SHA256)
under MAIL_SECRET_KEY and are never returned: reads say only whether one is set. Every change
is an audit event naming the fields changed (a password change shows as `***`, never its value).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, select

from ticket_app.enums import EventKind, TlsMode
from ticket_app.mail.transport import (
    ImapEndpoint,
    MailTransportError,
    SmtpEndpoint,
    check_imap,
    check_smtp,
)
from ticket_app.models import Mailbox, utc_now
from ticket_app.schemas import (
    ConnectionCheck,
    ConnectionStep,
    MailboxCreate,
    MailboxRead,
    MailboxUpdate,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import ConflictError, InvalidInputError, NotFoundError
from ticket_app.services.ticket_query import is_row_id
from ticket_app.settings import get_settings

_SECRET_FIELDS = ("imap_password", "smtp_password")


class MailKeyMissingError(InvalidInputError):
    """MAIL_SECRET_KEY is unset or not a Fernet key, so passwords cannot be stored or read."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "mail_secret_key",
            f"{detail}: set MAIL_SECRET_KEY to a key from `python -m ticket_app mailboxes keygen`.",
        )


def generate_key() -> str:
    """A new random MAIL_SECRET_KEY (a url-safe base64 Fernet key of 32 bytes)."""
    return Fernet.generate_key().decode("ascii")


def _fernet() -> Fernet:
    key = get_settings().mail_secret_key
    if key is None:
        raise MailKeyMissingError("MAIL_SECRET_KEY is not set")
    try:
        return Fernet(key.get_secret_value().encode("ascii"))
    except (ValueError, TypeError) as error:
        raise MailKeyMissingError("MAIL_SECRET_KEY is not a valid Fernet key") from error


def encrypt_secret(value: str) -> str:
    """`value` as a Fernet token. Raises MailKeyMissingError without a usable key."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_secret(token: str) -> str:
    """The secret inside a Fernet token; MailKeyMissingError when the key cannot open it."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise MailKeyMissingError("MAIL_SECRET_KEY cannot decrypt the stored password") from error


def _read(mailbox: Mailbox) -> MailboxRead:
    return MailboxRead(
        id=mailbox.id,
        name=mailbox.name,
        address=mailbox.address,
        from_name=mailbox.from_name,
        imap_host=mailbox.imap_host,
        imap_port=mailbox.imap_port,
        imap_tls=TlsMode(mailbox.imap_tls),
        imap_username=mailbox.imap_username,
        imap_folder=mailbox.imap_folder,
        imap_password_set=bool(mailbox.imap_password),
        smtp_host=mailbox.smtp_host,
        smtp_port=mailbox.smtp_port,
        smtp_tls=TlsMode(mailbox.smtp_tls),
        smtp_username=mailbox.smtp_username,
        smtp_password_set=bool(mailbox.smtp_password),
        active=mailbox.active,
        acknowledge_new=mailbox.acknowledge_new,
        last_uid=mailbox.last_uid,
        last_fetch_at=mailbox.last_fetch_at,
        last_fetch_error=mailbox.last_fetch_error,
        created_at=mailbox.created_at,
    )


def _check_unique(session: Session, mailbox_id: int | None, name: str, address: str) -> None:
    for field, column, value in (
        ("name", Mailbox.name, name),
        ("address", Mailbox.address, address),
    ):
        taken = session.execute(
            sa.select(Mailbox.id).where(column == value).where(Mailbox.id != (mailbox_id or 0))
        ).scalar()
        if taken is not None:
            raise ConflictError(field, f"another mailbox already uses {field} {value!r}")


def create_mailbox(data: MailboxCreate, *, actor: Actor) -> MailboxRead:
    """Store a new mailbox (passwords encrypted) with a `mailbox_created` audit event.

    Raises PermissionDeniedError unless `actor` may manage mailboxes, ConflictError when the
    name or address is taken, MailKeyMissingError without a usable MAIL_SECRET_KEY.
    """
    actor.require(Action.MAILBOXES_MANAGE)
    values = data.model_dump()
    for field in _SECRET_FIELDS:
        if values.get(field):
            values[field] = encrypt_secret(values[field])
    with service_session() as session:
        _check_unique(session, None, data.name, data.address)
        mailbox = Mailbox(**values)
        session.add(mailbox)
        session.flush()
        record_event(session, actor, EventKind.MAILBOX_CREATED, field="mailbox", new=data.address)
        return _read(mailbox)


def list_mailboxes(*, actor: Actor) -> list[MailboxRead]:
    """Every mailbox, by name. Raises PermissionDeniedError unless `actor` may manage them."""
    actor.require(Action.MAILBOXES_MANAGE)
    with service_session() as session:
        return [_read(m) for m in session.exec(select(Mailbox).order_by(Mailbox.name)).all()]


def _load(session: Session, mailbox_id: int) -> Mailbox:
    mailbox = session.get(Mailbox, mailbox_id) if is_row_id(mailbox_id) else None
    if mailbox is None:
        raise NotFoundError(f"mailbox {mailbox_id} does not exist")
    return mailbox


def get_mailbox(mailbox_id: int, *, actor: Actor) -> MailboxRead:
    """One mailbox. Raises PermissionDeniedError, NotFoundError."""
    actor.require(Action.MAILBOXES_MANAGE)
    with service_session() as session:
        return _read(_load(session, mailbox_id))


def find_mailbox(key: str, *, actor: Actor) -> MailboxRead:
    """The mailbox whose id, name or address is `key` (the CLI's way of naming one).

    Raises PermissionDeniedError, NotFoundError.
    """
    actor.require(Action.MAILBOXES_MANAGE)
    with service_session() as session:
        condition = sa.or_(Mailbox.name == key, Mailbox.address == key.strip().lower())
        if key.isdigit():
            condition = sa.or_(condition, Mailbox.id == int(key))
        mailbox = session.exec(select(Mailbox).where(condition)).first()
        if mailbox is None:
            raise NotFoundError(f"no mailbox is named {key!r}")
        return _read(mailbox)


def update_mailbox(mailbox_id: int, data: MailboxUpdate, *, actor: Actor) -> MailboxRead:
    """Change the fields set in `data`; one `mailbox_changed` event per changed field.

    Changing the IMAP host, user or folder restarts the fetch cursor (the new folder's UIDs
    mean something else). Raises PermissionDeniedError, NotFoundError, ConflictError,
    MailKeyMissingError.
    """
    actor.require(Action.MAILBOXES_MANAGE)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    with service_session() as session:
        mailbox = _load(session, mailbox_id)
        _check_unique(
            session,
            mailbox_id,
            changes.get("name", mailbox.name),
            changes.get("address", mailbox.address),
        )
        for field, value in changes.items():
            old = getattr(mailbox, field)
            stored = encrypt_secret(value) if field in _SECRET_FIELDS and value else value
            if field in _SECRET_FIELDS:
                if value is None and old is None:
                    continue
                setattr(mailbox, field, stored)
                record_event(
                    session, actor, EventKind.MAILBOX_CHANGED, field=field, old="***", new="***"
                )
                continue
            if old == value:
                continue
            setattr(mailbox, field, value)
            record_event(session, actor, EventKind.MAILBOX_CHANGED, field=field, old=old, new=value)
        if {"imap_host", "imap_username", "imap_folder"} & changes.keys():
            mailbox.uidvalidity = None
            mailbox.last_uid = 0
        mailbox.updated_at = utc_now()
        session.add(mailbox)
        session.flush()
        return _read(mailbox)


def remove_mailbox(mailbox_id: int, *, actor: Actor) -> None:
    """Delete a mailbox (its stored mail stays, no longer linked). Raises as `get_mailbox`."""
    actor.require(Action.MAILBOXES_MANAGE)
    with service_session() as session:
        mailbox = _load(session, mailbox_id)
        record_event(
            session, actor, EventKind.MAILBOX_REMOVED, field="mailbox", old=mailbox.address
        )
        session.delete(mailbox)


def imap_endpoint(mailbox: Mailbox) -> ImapEndpoint:
    """How to read `mailbox` (password decrypted). Raises MailKeyMissingError."""
    return ImapEndpoint(
        host=mailbox.imap_host,
        port=mailbox.imap_port,
        tls=TlsMode(mailbox.imap_tls),
        username=mailbox.imap_username,
        password=decrypt_secret(mailbox.imap_password),
        folder=mailbox.imap_folder,
        ca_file=get_settings().mail_ca_file,
    )


def smtp_endpoint(mailbox: Mailbox) -> SmtpEndpoint:
    """How to send from `mailbox` (password decrypted). Raises MailKeyMissingError."""
    return SmtpEndpoint(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        tls=TlsMode(mailbox.smtp_tls),
        username=mailbox.smtp_username,
        password=decrypt_secret(mailbox.smtp_password) if mailbox.smtp_password else None,
        ca_file=get_settings().mail_ca_file,
    )


def check_connection(mailbox_id: int, *, actor: Actor) -> ConnectionCheck:
    """Log in to the mailbox's IMAP and SMTP servers and report each step.

    Each of `imap` and `smtp` says ok, or the step that failed (dns, connect, tls, login,
    folder) with the server's or the system's words. Raises PermissionDeniedError,
    NotFoundError, MailKeyMissingError; a server failure is a result, never an exception.
    """
    actor.require(Action.MAILBOXES_MANAGE)
    with service_session() as session:
        mailbox = _load(session, mailbox_id)
        imap, smtp = imap_endpoint(mailbox), smtp_endpoint(mailbox)
    results: list[ConnectionStep] = []
    for service, check in (("imap", lambda: check_imap(imap)), ("smtp", lambda: check_smtp(smtp))):
        try:
            detail = check()
        except MailTransportError as error:
            results.append(
                ConnectionStep(service=service, ok=False, step=error.step, detail=error.detail)
            )
        else:
            message = f"{detail} messages in the folder" if service == "imap" else "login accepted"
            results.append(ConnectionStep(service=service, ok=True, step="ok", detail=message))
    return ConnectionCheck(ok=all(step.ok for step in results), steps=results)


def default_sending_mailbox(session: Session) -> Mailbox | None:
    """The mailbox mail goes from when nothing ties it to one: the first active (lowest id).

    Every mailbox has SMTP settings (they are required), so any active one can send. None when
    no mailbox is active.
    """
    return session.exec(
        select(Mailbox).where(Mailbox.active.is_(True)).order_by(Mailbox.id).limit(1)
    ).first()


def own_addresses(session: Session) -> list[str]:
    """The addresses of every mailbox (our own mail must never be answered or taken in)."""
    return list(session.execute(sa.select(Mailbox.address)).scalars())


def active_mailbox_ids() -> list[int]:
    """Ids of the mailboxes to fetch."""
    with service_session() as session:
        return list(
            session.execute(
                sa.select(Mailbox.id).where(Mailbox.active.is_(True)).order_by(Mailbox.id)
            ).scalars()
        )
