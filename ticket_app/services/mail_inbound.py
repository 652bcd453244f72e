"""Take in one e-mail: a new ticket, a reply on a ticket, a bounce, or the quarantine.

Every message is stored once, keyed by its Message-ID (derived from its bytes when it has
none): a re-fetch, a retried job or a second instance finds it stored and does nothing. A new
ticket's `external_id` is `mail:` plus that id, so a crash between creating the ticket and
recording the message cannot create the ticket twice either.

Threading, in this order (docs in README "E-mail"):
1. `In-Reply-To`, then every id in `References`, against the ids of mail we stored or sent;
2. a `[#id]` token in the subject, only when the sender is that ticket's requester or a
   participant (someone who wrote on it, or whom we wrote to): a guessable subject must not
   let a stranger post into someone else's ticket;
3. otherwise a new ticket.
A reply to a resolved or closed ticket reopens it, and so does the customer's own reply (not an
auto-reply) to a pending one; one to a ticket closed more than MAIL_REOPEN_MAX_DAYS ago starts a
new ticket, linked to the old one by internal notes.

A reply to one of our notification e-mails (its In-Reply-To or References names one) is a staff
member answering the machine, not a customer: it goes to the quarantine, never onto a ticket.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, select

from ticket_app.enums import (
    ActorKind,
    CommentChannel,
    EventKind,
    MailDirection,
    MailKind,
    Status,
)
from ticket_app.mail.loops import automatic_reason, is_from_own_address
from ticket_app.mail.parse import ParsedMail, UnparseableMailError, parse_message
from ticket_app.mail.subjects import ticket_token
from ticket_app.models import (
    MailMessage,
    QuarantinedMail,
    Ticket,
    TicketComment,
    utc_now,
)
from ticket_app.schemas import InboundMailResult, TicketCreate
from ticket_app.services import file_store, mail_outbound
from ticket_app.services.access import Actor
from ticket_app.services.attachments import IncomingFile, add_files
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import ConstraintViolationError
from ticket_app.services.mailboxes import own_addresses
from ticket_app.services.notifications import notify_reply
from ticket_app.services.sla import refresh_ticket_sla
from ticket_app.services.tickets import store_ticket
from ticket_app.services.triage_signals import signal_columns
from ticket_app.settings import get_settings
from ticket_app.triage import get_classifier
from ticket_app.triage.base import TriageSuggestion

logger = logging.getLogger(__name__)

MAIL_ACTOR = Actor.process(ActorKind.MAIL)
"""Who the audit trail names for everything inbound mail does."""
_NO_TEXT = "(The message has no text.)"


def _author_label(mail: ParsedMail) -> str:
    address = mail.from_address or mail.requester_address or "unknown sender"
    return (f"{mail.from_name} <{address}>" if mail.from_name else address)[:254]


def quarantine(
    raw: bytes,
    reason: str,
    *,
    mailbox_id: int | None,
    mail: ParsedMail | None = None,
) -> InboundMailResult:
    """Keep `raw` in the quarantine with `reason` (once per distinct message bytes).

    Writes a `mail_quarantined` audit event for a new entry. Raises DatabaseUnavailableError,
    OSError (disk).
    """
    stored = file_store.store("quarantine", raw, ".eml")
    with service_session() as session:
        existing = session.execute(
            sa.select(QuarantinedMail.id).where(QuarantinedMail.fingerprint == stored.sha256)
        ).scalar()
        if existing is not None:
            return InboundMailResult(outcome="quarantined", quarantine_id=existing, detail=reason)
        entry = QuarantinedMail(
            fingerprint=stored.sha256,
            mailbox_id=mailbox_id,
            message_id=mail.message_id if mail else None,
            from_address=mail.from_address if mail else None,
            subject=(mail.subject if mail else "")[:998],
            reason=reason[:2000],
            raw_path=stored.path,
            raw_size=stored.size,
        )
        session.add(entry)
        session.flush()
        record_event(
            session, MAIL_ACTOR, EventKind.MAIL_QUARANTINED, field="quarantine", new=reason
        )
        logger.info("mail quarantined (%s): %s", entry.id, reason)
        return InboundMailResult(outcome="quarantined", quarantine_id=entry.id, detail=reason)


def _stored_message(session: Session, message_id: str) -> MailMessage | None:
    return session.exec(select(MailMessage).where(MailMessage.message_id == message_id)).first()


def _is_participant(session: Session, ticket: Ticket, address: str) -> bool:
    if (ticket.requester_email or "").lower() == address:
        return True
    return (
        session.execute(
            sa.select(MailMessage.id)
            .where(MailMessage.ticket_id == ticket.id)
            .where(sa.or_(MailMessage.from_address == address, MailMessage.to_address == address))
            .limit(1)
        ).scalar()
        is not None
    )


def answers_notification(session: Session, mail: ParsedMail) -> bool:
    """Whether `mail` answers one of our notification e-mails (by In-Reply-To or References)."""
    ids = mail.thread_ids
    if not ids:
        return False
    found = session.execute(
        sa.select(MailMessage.id)
        .where(MailMessage.message_id.in_(ids))
        .where(MailMessage.kind == MailKind.NOTIFICATION.value)
        .limit(1)
    ).scalar()
    return found is not None


def thread_ticket(session: Session, mail: ParsedMail) -> int | None:
    """The ticket `mail` continues, by the threading rules in the module docstring, or None."""
    ids = mail.thread_ids
    if ids:
        found = session.execute(
            sa.select(MailMessage.message_id, MailMessage.ticket_id)
            .where(MailMessage.message_id.in_(ids))
            .where(MailMessage.ticket_id.is_not(None))
        ).all()
        by_id = {row.message_id: row.ticket_id for row in found}
        for message_id in ids:
            if message_id in by_id:
                return int(by_id[message_id])
    token = ticket_token(mail.subject)
    sender = mail.from_address
    if token is None or sender is None:
        return None
    ticket = session.get(Ticket, token)
    if ticket is None:
        return None
    senders = {sender, mail.requester_address or sender}
    if any(_is_participant(session, ticket, address) for address in senders):
        return int(ticket.id)
    return None


def _over_sender_limit(session: Session, sender: str) -> bool:
    since = utc_now() - timedelta(hours=1)
    recent = session.execute(
        sa.select(sa.func.count())
        .where(MailMessage.from_address == sender)
        .where(MailMessage.direction == MailDirection.INBOUND.value)
        .where(MailMessage.created_at >= since)
    ).scalar_one()
    return recent >= get_settings().mail_sender_hourly_limit


def _message_row(
    mail: ParsedMail,
    *,
    kind: MailKind,
    mailbox_id: int | None,
    ticket_id: int | None,
    comment_id: int | None,
    raw: file_store.StoredFile,
) -> MailMessage:
    return MailMessage(
        message_id=mail.message_id,
        direction=MailDirection.INBOUND,
        kind=kind,
        mailbox_id=mailbox_id,
        ticket_id=ticket_id,
        comment_id=comment_id,
        from_address=mail.from_address,
        from_name=mail.from_name[:100] or None,
        to_address=mail.to_addresses[0][:254] if mail.to_addresses else None,
        subject=mail.subject,
        in_reply_to=mail.in_reply_to[0] if mail.in_reply_to else None,
        reference_ids=" ".join(reversed(mail.references)),
        raw_path=raw.path,
        raw_size=raw.size,
    )


def _dropped_note(mail: ParsedMail) -> str | None:
    if not mail.dropped:
        return None
    lines = [f"- {item.filename} ({item.size:,} bytes): {item.reason}" for item in mail.dropped]
    limits = get_settings()
    return (
        "Attachments not kept from this e-mail (limits: "
        f"{limits.mail_attachment_max_bytes:,} bytes per file, "
        f"{limits.mail_message_attachments_max_bytes:,} per message):\n" + "\n".join(lines)
    )


def _add_note(session: Session, ticket_id: int, body: str) -> None:
    session.add(
        TicketComment(
            ticket_id=ticket_id,
            author_user_id=None,
            author_label=MAIL_ACTOR.label,
            body=body,
            public=False,
            channel=CommentChannel.EMAIL,
            created_at=utc_now(),
        )
    )


def _files(mail: ParsedMail) -> list[IncomingFile]:
    return [IncomingFile(item.filename, item.payload) for item in mail.attachments]


def _reopens(status: Status, kind: MailKind) -> bool:
    """Whether a mail of `kind` moves a ticket in `status` back to open.

    A resolved or closed ticket reopens on any mail. A pending one waits on the requester's
    answer, which an auto-reply (an out-of-office notice) is not, so only a customer's own mail
    moves it.
    """
    if status in (Status.RESOLVED, Status.CLOSED):
        return True
    return status == Status.PENDING and kind == MailKind.CUSTOMER


def _append(
    mail: ParsedMail,
    raw: file_store.StoredFile,
    ticket_id: int,
    *,
    mailbox_id: int | None,
    kind: MailKind,
) -> InboundMailResult | None:
    """Add `mail` to the ticket as a public comment; None when the ticket is too old to reopen.

    The ticket goes back to open when `_reopens` says so, audited as the mail actor.
    """
    now = utc_now()
    reopen_limit = timedelta(days=get_settings().mail_reopen_max_days)
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            return None
        if ticket.status == Status.CLOSED and now - ticket.updated_at > reopen_limit:
            return None
        comment = TicketComment(
            ticket_id=ticket_id,
            author_user_id=None,
            author_label=_author_label(mail),
            body=mail.reply.strip() or _NO_TEXT,
            public=True,
            channel=CommentChannel.EMAIL,
            message_id=mail.message_id,
            created_at=now,
        )
        session.add(comment)
        session.flush()
        if _reopens(ticket.status, kind):
            record_event(
                session,
                MAIL_ACTOR,
                EventKind.CHANGED,
                ticket_id=ticket_id,
                field="status",
                old=ticket.status,
                new=Status.OPEN,
            )
            ticket.status = Status.OPEN
        ticket.updated_at = now
        session.add(ticket)
        message = _message_row(
            mail,
            kind=kind,
            mailbox_id=mailbox_id,
            ticket_id=ticket_id,
            comment_id=comment.id,
            raw=raw,
        )
        session.add(message)
        session.flush()
        add_files(
            session, ticket_id, _files(mail), comment_id=comment.id, mail_message_id=message.id
        )
        note = _dropped_note(mail)
        if note:
            _add_note(session, ticket_id, note)
        refresh_ticket_sla(session, ticket_id, now)
        record_event(
            session,
            MAIL_ACTOR,
            EventKind.COMMENTED,
            ticket_id=ticket_id,
            field="public",
            new=comment.id,
        )
        notify_reply(
            session,
            ticket,
            author_label=comment.author_label,
            author_user_id=None,
            body=comment.body,
        )
        return InboundMailResult(outcome="appended", ticket_id=ticket_id, comment_id=comment.id)


def _external_id(message_id: str) -> str:
    """The ticket `external_id` of mail `message_id` (hashed when too long to store)."""
    text = f"mail:{message_id}"
    if len(text) <= 200:
        return text
    return f"mail:sha256:{hashlib.sha256(message_id.encode()).hexdigest()}"


def _description(mail: ParsedMail) -> str:
    text = (mail.reply or mail.body).replace("\x00", "").strip() or _NO_TEXT
    limit = get_settings().max_description_chars
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _suggest(title: str, description: str) -> TriageSuggestion | None:
    """The classifier's suggestion, as for a ticket typed in the console (never raises)."""
    try:
        return asyncio.run(get_classifier().suggest(description, title))
    except Exception:  # the classifier contract says it never raises; stay safe if it does
        logger.exception("classifier failed on inbound mail; defaults are used")
        return None


def warm_up() -> None:
    """Load the classifier's and the signals' models now, not on the first customer's mail."""
    text = "My invoice was charged twice this month and the app crashes when I open it."
    _suggest("Invoice charged twice", text)
    signal_columns("Invoice charged twice", text[:60], None)
    signal_columns("Invoice charged twice", text * 3, None)


def relax_commit(session: Session) -> None:
    """Let PostgreSQL acknowledge this transaction's commit before its WAL reaches the disk.

    Only for mail fetched from IMAP (never for mail posted over HTTP, whose sender takes the
    answer as a promise). Safe there: a crash can lose at most the last few hundred
    milliseconds of such commits, and the mailbox's cursor is saved with an ordinary (flushed)
    commit after them, which makes every earlier commit durable first (the WAL is written in
    order). Lost tickets therefore always lie after the saved cursor and are fetched again.
    The default fsync on every commit cost more than half of the time per message.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL synchronous_commit = off"))


def _create(
    mail: ParsedMail,
    raw: file_store.StoredFile,
    *,
    mailbox_id: int | None,
    kind: MailKind,
    follow_up_of: int | None,
    relaxed: bool,
    acknowledge: bool,
) -> InboundMailResult:
    """A new ticket from `mail`, committed with its mail row, files and notes in one transaction.

    With `acknowledge`, the acknowledgement (when the mailbox sends them) is queued in that
    transaction too.

    `relaxed`: the commit may be acknowledged before it is on disk (`relax_commit`).
    """
    data = TicketCreate(
        title=mail.title,
        description=_description(mail),
        requester_name=mail.from_name or None,
        requester_email=mail.requester_address,
        external_id=_external_id(mail.message_id),
    )

    acknowledgement: list[int] = []

    def record_mail(session: Session, ticket_id: int) -> bool:
        if relaxed:
            relax_commit(session)
        message = _message_row(
            mail, kind=kind, mailbox_id=mailbox_id, ticket_id=ticket_id, comment_id=None, raw=raw
        )
        session.add(message)
        session.flush()
        add_files(session, ticket_id, _files(mail), mail_message_id=message.id)
        note = _dropped_note(mail)
        if note:
            _add_note(session, ticket_id, note)
        if follow_up_of is not None:
            _add_note(session, ticket_id, f"Follow-up to ticket #{follow_up_of}, closed earlier.")
            _add_note(session, follow_up_of, f"The requester wrote again: see ticket #{ticket_id}.")
        if acknowledge and mailbox_id is not None:
            queued = mail_outbound.queue_acknowledgement(session, ticket_id, mailbox_id)
            acknowledgement.extend([queued] if queued is not None else [])
        return bool(note) or follow_up_of is not None

    suggestion = _suggest(data.title, data.description)
    ticket_id = store_ticket(data, suggestion, actor=MAIL_ACTOR, and_then=record_mail)
    for row_id in acknowledgement:
        mail_outbound.enqueue_delivery(row_id)
    return InboundMailResult(outcome="created", ticket_id=ticket_id)


def _bounce(
    mail: ParsedMail, raw: bytes, stored: file_store.StoredFile, mailbox_id: int | None
) -> InboundMailResult:
    bounce = mail.bounce
    assert bounce is not None
    with service_session() as session:
        original = (
            _stored_message(session, bounce.original_message_id)
            if bounce.original_message_id
            else None
        )
        if original is not None and original.kind == MailKind.NOTIFICATION:
            reason = " ".join(
                part for part in (bounce.status, bounce.recipient, bounce.diagnostic) if part
            )[:2000]
            mail_outbound.mark_bounced(session, original, reason, actor=MAIL_ACTOR)
            session.add(
                _message_row(
                    mail,
                    kind=MailKind.BOUNCE,
                    mailbox_id=mailbox_id,
                    ticket_id=None,
                    comment_id=None,
                    raw=stored,
                )
            )
            return InboundMailResult(outcome="bounce", detail=reason)
        if original is None or original.ticket_id is None:
            original = None
        else:
            reason = " ".join(
                part for part in (bounce.status, bounce.recipient, bounce.diagnostic) if part
            )[:2000]
            mail_outbound.mark_bounced(session, original, reason, actor=MAIL_ACTOR)
            _add_note(
                session,
                original.ticket_id,
                f"Delivery failed for the reply to {original.to_address}: {reason}",
            )
            session.add(
                _message_row(
                    mail,
                    kind=MailKind.BOUNCE,
                    mailbox_id=mailbox_id,
                    ticket_id=original.ticket_id,
                    comment_id=None,
                    raw=stored,
                )
            )
            return InboundMailResult(outcome="bounce", ticket_id=original.ticket_id)
    return quarantine(
        raw, "A delivery report for mail we did not send.", mailbox_id=mailbox_id, mail=mail
    )


def ingest(
    raw: bytes,
    *,
    mailbox_id: int | None = None,
    force: bool = False,
    own: list[str] | None = None,
    fetched: bool = False,
) -> InboundMailResult:
    """Take in one raw RFC 5322 message (as received) and say what became of it.

    `force` (an admin's retry from the quarantine) lifts the per-sender flood limit; `own` are
    the help desk's addresses when the caller has them already (a fetch reads them once);
    `fetched` says the message stays on an IMAP server behind a saved cursor (see
    `relax_commit`).
    Never raises for anything about the message itself (that ends in the quarantine); raises
    DatabaseUnavailableError or OSError when the database or the disk fails, so the caller can
    try the same message again later (which is safe: see the module docstring).
    """
    settings = get_settings()
    if len(raw) > settings.mail_raw_max_bytes:
        reason = f"The message is {len(raw):,} bytes, over MAIL_RAW_MAX_BYTES."
        return quarantine(raw, reason, mailbox_id=mailbox_id)
    try:
        mail = parse_message(
            raw,
            max_file_bytes=settings.mail_attachment_max_bytes,
            max_message_bytes=settings.mail_message_attachments_max_bytes,
        )
    except UnparseableMailError as error:
        return quarantine(raw, error.reason, mailbox_id=mailbox_id)
    with service_session() as session:
        known = _stored_message(session, mail.message_id)
        if known is not None:
            return _duplicate(known)
        own = own_addresses(session) if own is None else own
        sender = mail.requester_address
        flooded = (
            sender is not None
            and not force
            and not is_from_own_address(mail, own)
            and mail.bounce is None
            and _over_sender_limit(session, sender)
        )
        ticket_id = thread_ticket(session, mail) if sender is not None else None
        to_notification = mail.bounce is None and answers_notification(session, mail)
    refusal = _refusal(mail, own, flooded, to_notification)
    if refusal is not None:
        return quarantine(raw, refusal, mailbox_id=mailbox_id, mail=mail)
    stored = file_store.store("mail", raw, ".eml")
    if mail.bounce is not None:
        return _bounce(mail, raw, stored, mailbox_id)
    automatic = automatic_reason(mail, own)
    kind = MailKind.AUTOMATIC if automatic else MailKind.CUSTOMER
    try:
        result = None
        if ticket_id is not None:
            result = _append(mail, stored, ticket_id, mailbox_id=mailbox_id, kind=kind)
        if result is None:
            result = _create(
                mail,
                stored,
                mailbox_id=mailbox_id,
                kind=kind,
                follow_up_of=ticket_id,
                relaxed=fetched,
                acknowledge=automatic is None,
            )
    except ValidationError as error:
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem.get("loc", ())) or "message"
        reason = f"The message cannot become a ticket: {field}: {problem.get('msg')}"
        return quarantine(raw, reason, mailbox_id=mailbox_id, mail=mail)
    except ConstraintViolationError:
        # The same Message-ID was taken in by another worker meanwhile (its unique index, or the
        # ticket's external id, refused ours, and nothing of ours was written).
        with service_session() as session:
            known = _stored_message(session, mail.message_id)
        if known is None:
            raise
        return _duplicate(known)
    return result


def _duplicate(known: MailMessage) -> InboundMailResult:
    return InboundMailResult(
        outcome="duplicate", ticket_id=known.ticket_id, comment_id=known.comment_id
    )


def _refusal(mail: ParsedMail, own: list[str], flooded: bool, to_notification: bool) -> str | None:
    """Why `mail` goes to the quarantine instead of a ticket, or None."""
    if is_from_own_address(mail, own):
        return "Sent from one of the help desk's own addresses (a mail loop)."
    if mail.bounce is not None:
        return None
    if to_notification:
        return "A reply to a notification e-mail sent to staff (not a customer's message)."
    if mail.requester_address is None:
        return "The message has no usable sender address."
    if flooded:
        return (
            f"More than {get_settings().mail_sender_hourly_limit} messages from "
            f"{mail.requester_address} within an hour (flood limit)."
        )
    return None
