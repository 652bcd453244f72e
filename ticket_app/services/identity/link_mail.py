"""E-mail an invitation or reset link to its person, at once, straight over SMTP.

A mail holding a live one-time link must not be kept anywhere, so it never goes through the
outbound queue (which stores each message's `.eml` until it is sent): it is built in memory
and handed to the SMTP server while the admin waits, with LINK_MAIL_TIMEOUT_SECONDS for each
step of the conversation, and forgotten. It goes from the desk's sending mailbox (the first
active one, `mailboxes.default_sending_mailbox`) with that mailbox's SMTP settings and the
transport the queue uses. The link must be absolute, so nothing is mailed while
PUBLIC_BASE_URL is unset.

Not mailing is an expected outcome, never an error: the caller shows the link to the admin in
every case and says why it was not mailed. Neither the mail nor the link is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy

from ticket_app.enums import PasswordLinkPurpose
from ticket_app.mail.compose import Outgoing, build_message, new_message_id
from ticket_app.mail.loops import AUTO_SUBMITTED_GENERATED
from ticket_app.mail.password_links import LinkMailText, link_mail_body, link_mail_subject
from ticket_app.mail.transport import MailTransportError, SmtpEndpoint, send
from ticket_app.models import StaffUser, utc_now
from ticket_app.schemas import UserRead
from ticket_app.services.access import Actor
from ticket_app.services.database import service_session
from ticket_app.services.errors import ServiceError
from ticket_app.services.mailboxes import (
    MailKeyMissingError,
    default_sending_mailbox,
    smtp_endpoint,
)
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

NO_BASE_URL = "PUBLIC_BASE_URL is not set, so the link is not a full address"
NO_MAILBOX = "no active mailbox to send from"
NO_KEY = "the mailbox's SMTP password cannot be read (MAIL_SECRET_KEY)"
NO_DATABASE = "the mail settings could not be read"
BAD_ADDRESS = "the address cannot be written in a mail"
_STEP_WORDS = {
    "dns": "mail server not found",
    "connect": "mail server unreachable",
    "tls": "TLS with the mail server failed",
    "login": "mail server refused the login",
    "send": "mail server did not take it",
}
_MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class LinkMailOutcome:
    """Whether the link was e-mailed.

    `sender`: the mailbox address it went from; `reason`: why not (a short phrase for the admin).
    """

    emailed: bool
    reason: str | None = None
    sender: str | None = None


@dataclass(frozen=True)
class _Prepared:
    endpoint: SmtpEndpoint
    outgoing: Outgoing


def _sender_label(actor: Actor, user: StaffUser | None) -> str:
    if user is None or user.name == user.email:
        return actor.label
    return f"{user.name} ({user.email})"


def _prepare(
    purpose: PasswordLinkPurpose, url: str, expires_at: datetime, person: UserRead, actor: Actor
) -> _Prepared | str:
    """The endpoint and message to send, or the reason why there is none."""
    site = get_settings().public_base_url
    with service_session() as session:
        mailbox = default_sending_mailbox(session)
        if mailbox is None:
            return NO_MAILBOX
        if not site:
            return NO_BASE_URL
        try:
            endpoint = smtp_endpoint(mailbox)
        except MailKeyMissingError:
            return NO_KEY
        sender = _sender_label(
            actor, session.get(StaffUser, actor.user_id) if actor.user_id else None
        )
        desk = mailbox.from_name or mailbox.name
        from_name, from_address = mailbox.from_name, mailbox.address
    text = LinkMailText(
        purpose=purpose,
        name=person.name,
        email=person.email,
        role=str(person.role),
        sender=sender,
        desk=desk,
        site=site.rstrip("/"),
        url=url,
        expires_at=expires_at,
    )
    outgoing = Outgoing(
        from_name=from_name,
        from_address=from_address,
        to_name=person.name,
        to_address=person.email,
        subject=link_mail_subject(text),
        body=link_mail_body(text),
        message_id=new_message_id(from_address.rsplit("@", 1)[-1]),
        # Nobody should answer it automatically: an out-of-office reply may quote the link.
        automatic=True,
        auto_submitted=AUTO_SUBMITTED_GENERATED,
        date=utc_now(),
    )
    timeout = get_settings().link_mail_timeout_seconds
    return _Prepared(replace(endpoint, timeout=timeout), outgoing)


def _reason(error: MailTransportError, token: str) -> str:
    text = f"{_STEP_WORDS.get(error.step, error.step)}: {error.detail}"
    # A server's answer could quote what it was sent; the link must not ride out in it.
    return text.replace(token, "[link]")[:_MAX_REASON_CHARS]


def mail_link(
    purpose: PasswordLinkPurpose,
    url: str,
    token: str,
    expires_at: datetime,
    person: UserRead,
    *,
    actor: Actor,
) -> LinkMailOutcome:
    """E-mail the link `url` (holding `token`) to `person` now.

    `expires_at` is when the link stops working; `actor` is the admin who made it (named in the
    mail). Returns the outcome; never raises for a missing mailbox or base URL, an unreadable
    mailbox password, an address a mail cannot carry, a database failure or any SMTP failure.
    """
    try:
        prepared = _prepare(purpose, url, expires_at, person, actor)
    except ServiceError:  # the database failed just after the link was committed
        prepared = NO_DATABASE
    if isinstance(prepared, str):
        logger.info("%s link for staff user %s not e-mailed: %s", purpose, person.id, prepared)
        return LinkMailOutcome(False, reason=prepared)
    try:
        if not person.email.isascii():  # smtplib sends envelope addresses as ASCII only
            raise ValueError(person.email)
        # CRLF line ends, as SMTP requires: servers refuse bare LFs (SMTP smuggling) or read a
        # whole message without one CRLF as a single overlong line.
        raw = build_message(prepared.outgoing).as_bytes(policy=policy.SMTP)
    except ValueError:
        logger.info("%s link for staff user %s not e-mailed: %s", purpose, person.id, BAD_ADDRESS)
        return LinkMailOutcome(False, reason=BAD_ADDRESS)
    sender = prepared.outgoing.from_address
    try:
        send(prepared.endpoint, raw, envelope_from=sender, recipients=[person.email])
    except MailTransportError as error:
        reason = _reason(error, token)
        logger.warning("%s link for staff user %s not e-mailed: %s", purpose, person.id, reason)
        return LinkMailOutcome(False, reason=reason)
    logger.info("%s link for staff user %s e-mailed from %s", purpose, person.id, sender)
    return LinkMailOutcome(True, sender=sender)
