"""Build the mail the help desk sends: agent replies and acknowledgements.

Headers are set on `email.message.EmailMessage` from stored values, never concatenated, and
CR/LF in any stored value is flattened first, so a subject or a name cannot inject a header.
Threading follows RFC 5322 section 3.6.4: `In-Reply-To` is the parent's Message-ID and
`References` is the parent's References (or its In-Reply-To when it has no References) followed
by the parent's Message-ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from ticket_app.mail.loops import AUTO_SUBMITTED_REPLY

_LINE_BREAKS = re.compile(r"[\r\n\x00]+")
# RFC 5322 has no hard limit on References; long threads are cut to the first id and the most
# recent ones, as RFC 5322 3.6.4 and most clients (Thunderbird, mutt) do.
MAX_REFERENCES = 20


def _one_line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value).strip()


def new_message_id(domain: str) -> str:
    """A fresh, globally unique Message-ID (`<...@domain>`) for mail we send."""
    return make_msgid(domain=_one_line(domain) or "triage-desk.invalid")


def thread_references(parent_message_id: str | None, parent_references: list[str]) -> list[str]:
    """`References` for a reply to the parent (RFC 5322 3.6.4), oldest first, at most 20 ids.

    `parent_references` is the parent's References in header order (oldest first), or its
    In-Reply-To ids when it had no References.
    """
    chain = [ref for ref in parent_references if ref]
    if parent_message_id and parent_message_id not in chain:
        chain.append(parent_message_id)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain


@dataclass(frozen=True)
class OutgoingAttachment:
    """A file an agent attached to a reply: name, MIME type (`type/subtype`) and bytes."""

    filename: str
    content_type: str
    payload: bytes


@dataclass(frozen=True)
class Outgoing:
    """Everything one outgoing mail needs.

    `automatic` marks mail no person wrote (RFC 3834), with `auto_submitted` its
    `Auto-Submitted` value: `auto-replied` for an answer to a message (acknowledgements),
    `auto-generated` for mail no message caused (notifications).
    """

    from_name: str
    from_address: str
    to_name: str
    to_address: str
    subject: str
    body: str
    message_id: str
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    automatic: bool = False
    auto_submitted: str = AUTO_SUBMITTED_REPLY
    date: datetime | None = None
    attachments: list[OutgoingAttachment] = field(default_factory=list)


def build_message(outgoing: Outgoing) -> EmailMessage:
    """The RFC 5322 message for `outgoing`: plain text (UTF-8), threading headers set.

    Raises ValueError when an address is not a valid addr-spec.
    """
    message = EmailMessage()
    message["From"] = Address(
        display_name=_one_line(outgoing.from_name), addr_spec=_one_line(outgoing.from_address)
    )
    message["To"] = Address(
        display_name=_one_line(outgoing.to_name), addr_spec=_one_line(outgoing.to_address)
    )
    message["Subject"] = _one_line(outgoing.subject)
    message["Message-ID"] = _one_line(outgoing.message_id)
    if outgoing.date is not None:
        message["Date"] = format_datetime(outgoing.date)
    if outgoing.in_reply_to:
        message["In-Reply-To"] = _one_line(outgoing.in_reply_to)
    if outgoing.references:
        message["References"] = " ".join(_one_line(ref) for ref in outgoing.references)
    if outgoing.automatic:
        message["Auto-Submitted"] = _one_line(outgoing.auto_submitted)
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(outgoing.body, subtype="plain", charset="utf-8")
    for attachment in outgoing.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.payload,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=_one_line(attachment.filename),
        )
    return message
