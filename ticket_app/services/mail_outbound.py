"""Mail the help desk sends: agents' public replies, acknowledgements, staff notifications.

Sending never happens inside the agent's save. The reply is stored with its mail in the same
transaction (`queue_reply`: the message is built then, its `.eml` stored, its state `queued`),
and a background job (`deliver_job`, on the task queue) hands it to the mailbox's SMTP server.
A temporary failure (a refused connection, a timeout, a 4xx answer) is retried by the queue
with a doubling delay (MAIL_RETRY_DELAY_SECONDS, x2 each time, MAIL_SEND_RETRIES times), then
the mail is `failed` with the server's words; a 5xx answer fails it at once. An agent can
resend a failed one. A minute-by-minute sweep queues again any mail whose job was lost (the
queue's server was down at save time, or a worker died mid-send).

Threading follows RFC 5322 3.6.4 (see `ticket_app.mail.compose`): the reply answers the
customer's last message; the subject is `Re: <their subject> [#id]`. Acknowledgements are
marked `Auto-Submitted: auto-replied` (RFC 3834) and sent once per new ticket, only when the
mailbox asks for them and the customer's mail was not itself automatic. Staff members who
asked for it get the e-mail copy of a notification (`queue_notifications`), marked
`Auto-Submitted: auto-generated` and outside every ticket's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from huey import crontab
from huey.exceptions import RetryTask
from sqlmodel import Session, select

from ticket_app.enums import (
    ActorKind,
    DeliveryStatus,
    EventKind,
    MailDirection,
    MailKind,
    NotificationKind,
)
from ticket_app.mail.compose import Outgoing, build_message, new_message_id, thread_references
from ticket_app.mail.loops import AUTO_SUBMITTED_GENERATED
from ticket_app.mail.notices import notice_body, notice_subject
from ticket_app.mail.subjects import reply_subject
from ticket_app.mail.transport import MailTransportError, send
from ticket_app.models import Mailbox, MailMessage, Ticket, TicketComment, utc_now
from ticket_app.services import file_store
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.services.errors import InvalidInputError, NotFoundError
from ticket_app.services.mail_messages import comment_mail
from ticket_app.services.mailboxes import (
    MailKeyMissingError,
    default_sending_mailbox,
    smtp_endpoint,
)
from ticket_app.services.task_queue import enqueue, queue
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

STALE_SENDING = timedelta(minutes=10)
"""A mail `sending` this long belongs to a worker that died mid-send: it is queued again."""
SWEEP_GRACE = timedelta(minutes=1)
_WORKER = Actor.process(ActorKind.MAIL, "mail")

ACKNOWLEDGEMENT_TEXT = (
    "Hello{name},\n\n"
    "Thank you for writing to us. Your request is now ticket #{ticket_id}: {title}\n\n"
    "We will answer as soon as we can. To add anything, reply to this e-mail and keep "
    "[#{ticket_id}] in the subject.\n\n"
    "{team}"
)


def _sending_mailbox(session: Session, ticket_id: int) -> Mailbox | None:
    """The mailbox the ticket's mail came through, else the first active one, else None."""
    came_through = session.execute(
        sa.select(MailMessage.mailbox_id)
        .where(MailMessage.ticket_id == ticket_id)
        .where(MailMessage.direction == MailDirection.INBOUND.value)
        .where(MailMessage.mailbox_id.is_not(None))
        .order_by(MailMessage.id.desc())
        .limit(1)
    ).scalar()
    if came_through is not None:
        mailbox = session.get(Mailbox, came_through)
        if mailbox is not None and mailbox.active:
            return mailbox
    return default_sending_mailbox(session)


def _parent(session: Session, ticket_id: int) -> MailMessage | None:
    """The message a reply answers: the customer's last one, else our last one."""
    rows = session.exec(
        select(MailMessage)
        .where(MailMessage.ticket_id == ticket_id)
        .where(MailMessage.kind != MailKind.BOUNCE.value)
        .order_by(MailMessage.id.desc())
        .limit(20)
    ).all()
    inbound = [row for row in rows if row.direction == MailDirection.INBOUND]
    return (inbound or rows or [None])[0]


def reply_target(session: Session, ticket: Ticket) -> tuple[Mailbox, str] | None:
    """(sending mailbox, requester address) when a public reply on `ticket` will be mailed."""
    if not ticket.requester_email:
        return None
    mailbox = _sending_mailbox(session, int(ticket.id))
    return (mailbox, ticket.requester_email) if mailbox is not None else None


def reply_recipient(ticket_id: int) -> str | None:
    """Who a public reply on the ticket will be mailed to: "Name <address>", or the address.

    None when it will not be mailed (no requester address, or no mailbox connected); the
    console's composer says which.
    """
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or reply_target(session, ticket) is None:
            return None
        address = ticket.requester_email
        return f"{ticket.requester_name} <{address}>" if ticket.requester_name else address


def _queue(
    session: Session,
    ticket: Ticket,
    mailbox: Mailbox,
    body: str,
    *,
    kind: MailKind,
    comment_id: int | None,
) -> MailMessage:
    parent = _parent(session, int(ticket.id))
    parent_refs = (
        (parent.reference_ids.split() or ([parent.in_reply_to] if parent.in_reply_to else []))
        if parent
        else []
    )
    domain = mailbox.address.rsplit("@", 1)[-1]
    outgoing = Outgoing(
        from_name=mailbox.from_name,
        from_address=mailbox.address,
        to_name=ticket.requester_name or "",
        to_address=ticket.requester_email or "",
        subject=reply_subject(parent.subject if parent else None, int(ticket.id), ticket.title),
        body=body,
        message_id=new_message_id(domain),
        in_reply_to=parent.message_id if parent else None,
        references=thread_references(parent.message_id if parent else None, parent_refs),
        automatic=kind is MailKind.ACKNOWLEDGEMENT,
        date=utc_now(),
    )
    return _store(
        session, outgoing, mailbox, kind=kind, ticket_id=int(ticket.id), comment_id=comment_id
    )


def _store(
    session: Session,
    outgoing: Outgoing,
    mailbox: Mailbox,
    *,
    kind: MailKind,
    ticket_id: int | None,
    comment_id: int | None,
) -> MailMessage:
    """Build `outgoing`, keep its `.eml` and add its `queued` row to the caller's transaction."""
    raw = build_message(outgoing).as_bytes()
    stored = file_store.store("mail", raw, ".eml")
    row = MailMessage(
        message_id=outgoing.message_id,
        direction=MailDirection.OUTBOUND,
        kind=kind,
        mailbox_id=mailbox.id,
        ticket_id=ticket_id,
        comment_id=comment_id,
        from_address=mailbox.address,
        from_name=mailbox.from_name[:100],
        to_address=outgoing.to_address,
        subject=outgoing.subject,
        in_reply_to=outgoing.in_reply_to,
        reference_ids=" ".join(outgoing.references),
        raw_path=stored.path,
        raw_size=stored.size,
        delivery_status=DeliveryStatus.QUEUED,
        next_attempt_at=utc_now(),
    )
    session.add(row)
    session.flush()
    return row


def queue_reply(session: Session, ticket: Ticket, comment: TicketComment) -> int | None:
    """Queue the mail of a public reply in the caller's transaction; its row id, or None.

    None when the ticket has no requester address or no mailbox is connected (nothing is
    mailed then). Call `enqueue_delivery` with the id once the transaction has committed.
    Raises ValueError when the stored addresses are not valid addr-specs.
    """
    target = reply_target(session, ticket)
    if target is None:
        return None
    mailbox, _ = target
    row = _queue(session, ticket, mailbox, comment.body, kind=MailKind.REPLY, comment_id=comment.id)
    return int(row.id)


def queue_acknowledgement(session: Session, ticket_id: int, mailbox_id: int) -> int | None:
    """Queue a new ticket's acknowledgement in the caller's transaction; the row id or None.

    Nothing is queued when the mailbox sends no acknowledgements. The caller hands the id to
    `enqueue_delivery` once committed.

    Sent once per ticket (a second call finds the first). The caller creates the ticket in the
    same transaction, so a crash loses both or neither.
    """
    mailbox = session.get(Mailbox, mailbox_id)
    ticket = session.get(Ticket, ticket_id)
    if mailbox is None or ticket is None or not mailbox.acknowledge_new:
        return None
    if not ticket.requester_email:
        return None
    sent_before = session.execute(
        sa.select(MailMessage.id)
        .where(MailMessage.ticket_id == ticket_id)
        .where(MailMessage.kind == MailKind.ACKNOWLEDGEMENT.value)
    ).scalar()
    if sent_before is not None:
        return None
    body = ACKNOWLEDGEMENT_TEXT.format(
        name=f" {ticket.requester_name}" if ticket.requester_name else "",
        ticket_id=ticket_id,
        title=ticket.title,
        team=mailbox.from_name,
    )
    row = _queue(session, ticket, mailbox, body, kind=MailKind.ACKNOWLEDGEMENT, comment_id=None)
    return int(row.id)


@dataclass(frozen=True)
class NoticeRecipient:
    """A staff member to e-mail a notification to: their name and address."""

    name: str
    address: str


def queue_notifications(
    session: Session,
    ticket: Ticket,
    kind: NotificationKind,
    recipients: Sequence[NoticeRecipient],
    *,
    actor_label: str,
    detail: str,
) -> list[int]:
    """Queue the e-mail copy of a notification to each recipient, in the caller's transaction.

    Sent from the mailbox a reply on the ticket would go from (`_sending_mailbox`); nothing is
    queued when no mailbox is active. Each mail is `Auto-Submitted: auto-generated` (RFC 3834),
    answers nothing (no In-Reply-To, no References) and belongs to no ticket (`ticket_id` None:
    it is not part of the customer conversation, and a reply to it is held in the quarantine
    by `mail_inbound`, never added to the ticket). A recipient whose address cannot be written
    as an addr-spec is skipped (logged). Returns the queued rows' ids: hand each to
    `enqueue_delivery` once the transaction has committed.
    """
    if not recipients:
        return []
    mailbox = _sending_mailbox(session, int(ticket.id))
    if mailbox is None:
        return []
    domain = mailbox.address.rsplit("@", 1)[-1]
    subject = notice_subject(kind, int(ticket.id), ticket.title)
    body = notice_body(
        kind,
        ticket_id=int(ticket.id),
        title=ticket.title,
        actor=actor_label,
        detail=detail,
        base_url=get_settings().public_base_url,
    )
    queued = []
    for recipient in recipients:
        outgoing = Outgoing(
            from_name=mailbox.from_name,
            from_address=mailbox.address,
            to_name=recipient.name,
            to_address=recipient.address,
            subject=subject,
            body=body,
            message_id=new_message_id(domain),
            automatic=True,
            auto_submitted=AUTO_SUBMITTED_GENERATED,
            date=utc_now(),
        )
        try:
            row = _store(
                session,
                outgoing,
                mailbox,
                kind=MailKind.NOTIFICATION,
                ticket_id=None,
                comment_id=None,
            )
        except ValueError:
            logger.warning("notification mail to user address %r not queued", recipient.address)
            continue
        queued.append(int(row.id))
    return queued


def enqueue_delivery(mail_message_id: int, *, delay: float | None = None) -> None:
    """Hand the delivery of a queued mail to the task queue.

    A queue failure is only logged (the sweep queues the mail again): saving a reply never
    fails because of it.
    """
    try:
        enqueue(deliver_job, mail_message_id, delay=delay)
    except Exception:  # the queue's server (Redis, PostgreSQL) may be down: the sweep retries
        logger.exception("could not queue the delivery of mail %s; the sweep will", mail_message_id)


def _claim(mail_message_id: int) -> bool:
    """Move a queued mail to `sending` (one worker wins), counting the attempt."""
    with service_session() as session:
        claimed = session.execute(
            sa.update(MailMessage)
            .where(MailMessage.id == mail_message_id)
            .where(MailMessage.delivery_status == DeliveryStatus.QUEUED.value)
            .values(
                delivery_status=DeliveryStatus.SENDING.value,
                attempts=MailMessage.attempts + 1,
                next_attempt_at=utc_now(),
            )
        ).rowcount
    return bool(claimed)


def _finish(
    mail_message_id: int,
    status: DeliveryStatus,
    *,
    error: str | None = None,
    retry_in: float | None = None,
) -> None:
    now = utc_now()
    values: dict[str, object] = {"delivery_status": status.value, "delivery_error": error}
    if status is DeliveryStatus.SENT:
        values["sent_at"] = now
    if retry_in is not None:
        values["next_attempt_at"] = now + timedelta(seconds=retry_in)
    with service_session() as session:
        session.execute(
            sa.update(MailMessage).where(MailMessage.id == mail_message_id).values(**values)
        )
        row = session.get(MailMessage, mail_message_id)
        if status in (DeliveryStatus.SENT, DeliveryStatus.FAILED) and row is not None:
            kind = EventKind.MAIL_SENT if status is DeliveryStatus.SENT else EventKind.MAIL_FAILED
            record_event(
                session,
                _WORKER,
                kind,
                ticket_id=row.ticket_id,
                field="mail",
                old=row.message_id,
                new=error or row.to_address,
            )


def retry_delay(attempts: int) -> float:
    """Seconds before retry `attempts` (1-based): MAIL_RETRY_DELAY_SECONDS, doubled each time."""
    return get_settings().mail_retry_delay_seconds * (2 ** max(attempts - 1, 0))


def deliver(mail_message_id: int) -> DeliveryStatus | None:
    """Send one queued mail now and return its new state.

    None when it was not queued (sent already, or another worker has it).

    Raises RetryTask (the task queue's signal) with the delay before the next attempt after a
    temporary failure while retries remain.
    """
    if not _claim(mail_message_id):
        return None
    with service_session() as session:
        row = session.get(MailMessage, mail_message_id)
        mailbox = session.get(Mailbox, row.mailbox_id) if row and row.mailbox_id else None
        if row is None:
            return None
        attempts, to_address, raw_path = row.attempts, row.to_address, row.raw_path
        try:
            endpoint = smtp_endpoint(mailbox) if mailbox is not None else None
        except MailKeyMissingError as error:
            endpoint, key_problem = None, str(error)
        else:
            key_problem = "The mailbox it was to be sent from was removed."
        envelope_from = mailbox.address if mailbox is not None else ""
    if endpoint is None or not to_address or not raw_path:
        _finish(mail_message_id, DeliveryStatus.FAILED, error=key_problem)
        return DeliveryStatus.FAILED
    try:
        send(
            endpoint,
            file_store.read(raw_path),
            envelope_from=envelope_from,
            recipients=[to_address],
        )
    except MailTransportError as error:
        reason = f"{error.step}: {error.detail}"
        if error.temporary and attempts <= get_settings().mail_send_retries:
            delay = retry_delay(attempts)
            _finish(mail_message_id, DeliveryStatus.QUEUED, error=reason, retry_in=delay)
            raise RetryTask(reason, delay=delay) from error
        _finish(mail_message_id, DeliveryStatus.FAILED, error=reason)
        return DeliveryStatus.FAILED
    _finish(mail_message_id, DeliveryStatus.SENT)
    return DeliveryStatus.SENT


@queue.task(name="mail.deliver")
def deliver_job(mail_message_id: int) -> None:
    """The queue's job for `deliver` (retries come from its RetryTask)."""
    deliver(mail_message_id)


def resend_comment(ticket_id: int, comment_id: int, *, actor: Actor) -> None:
    """Queue again the failed mail of reply `comment_id` on ticket `ticket_id`.

    Raises as `resend`, and NotFoundError when the comment was not mailed.
    """
    actor.require(Action.TICKETS_COMMENT)
    with service_session() as session:
        mail_message_id = int(comment_mail(session, ticket_id, comment_id).id)
    resend(mail_message_id, actor=actor)


def resend(mail_message_id: int, *, actor: Actor) -> None:
    """Queue a failed mail again (an agent's "Resend"), with a `mail_resent` audit event.

    Raises PermissionDeniedError unless `actor` may comment, NotFoundError for an unknown mail,
    InvalidInputError when it has not failed.
    """
    actor.require(Action.TICKETS_COMMENT)
    with service_session() as session:
        row = session.get(MailMessage, mail_message_id)
        if row is None or row.direction != MailDirection.OUTBOUND:
            raise NotFoundError(f"outgoing mail {mail_message_id} does not exist")
        if row.delivery_status != DeliveryStatus.FAILED:
            raise InvalidInputError("delivery_status", "only a failed mail can be sent again")
        row.delivery_status = DeliveryStatus.QUEUED
        row.attempts = 0
        row.next_attempt_at = utc_now()
        session.add(row)
        record_event(
            session,
            actor,
            EventKind.MAIL_RESENT,
            ticket_id=row.ticket_id,
            field="mail",
            new=row.message_id,
        )
    enqueue_delivery(mail_message_id)


def mark_bounced(session: Session, message: MailMessage, reason: str, *, actor: Actor) -> None:
    """Mark an outgoing mail failed because a bounce came back for it.

    In the caller's transaction, with a `mail_bounced` audit event.
    """
    message.delivery_status = DeliveryStatus.FAILED
    message.delivery_error = f"bounced: {reason}"[:2000]
    session.add(message)
    record_event(
        session,
        actor,
        EventKind.MAIL_BOUNCED,
        ticket_id=message.ticket_id,
        field="mail",
        new=reason,
    )


def sweep() -> int:
    """Queue again every mail whose delivery job was lost; returns how many.

    Lost means: `queued` and due for over a minute, or `sending` for over STALE_SENDING (its
    worker died mid-send; the mail may then go out twice, with the same Message-ID, which mail
    clients show once).
    """
    now = utc_now()
    with service_session() as session:
        session.execute(
            sa.update(MailMessage)
            .where(MailMessage.delivery_status == DeliveryStatus.SENDING.value)
            .where(MailMessage.next_attempt_at < now - STALE_SENDING)
            .values(delivery_status=DeliveryStatus.QUEUED.value)
        )
        due = list(
            session.execute(
                sa.select(MailMessage.id)
                .where(MailMessage.delivery_status == DeliveryStatus.QUEUED.value)
                .where(MailMessage.next_attempt_at < now - SWEEP_GRACE)
                .order_by(MailMessage.id)
            ).scalars()
        )
    for mail_message_id in due:
        enqueue_delivery(mail_message_id)
    return len(due)


@queue.periodic_task(crontab(minute="*"), name="mail.sweep")
def sweep_job() -> None:
    """Every minute: `sweep`."""
    sweep()
