"""Parse one raw RFC 5322 message into what the help desk keeps of it.

Mail is hostile input: headers may be malformed, charsets unknown or wrong, the body HTML only
(with scripts), attachments huge, multiparts nested deeply. `parse_message` never trusts any of
it: every header read tolerates defects, every text part decodes (unknown charsets fall back to
UTF-8 with replacement characters), HTML becomes plain text through `html2text` (the console
never renders mail HTML), and quoted history and signatures are cut with `mail-parser-reply`.
What cannot be read at all raises `UnparseableMailError` with a reason for the quarantine list.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import html2text
from mailparser_reply import EmailReplyParser

from ticket_app.mail.subjects import clean_subject

MESSAGE_ID_MAX_LENGTH = 255
MAX_MULTIPART_DEPTH = 30
# Languages whose reply headers ("On ... wrote:", "Am ... schrieb:") and signatures the reply
# parser recognises; the help desk's customers write in any of these.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "fi", "pt"]
_MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
_DERIVED_DOMAIN = "derived.triage-desk.invalid"


class UnparseableMailError(ValueError):
    """The message cannot become a ticket or a comment; `reason` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    """A file that came with a message: name as sent (cleaned), the sender's claimed type, bytes."""

    filename: str
    content_type: str
    payload: bytes


@dataclass(frozen=True)
class DroppedAttachment:
    """A file not kept: its name, its size in bytes and why (over a size limit)."""

    filename: str
    size: int
    reason: str


@dataclass(frozen=True)
class Bounce:
    """A delivery-status report: the Message-ID of the mail that failed and the server's words."""

    original_message_id: str | None
    recipient: str | None
    status: str | None
    diagnostic: str


@dataclass(frozen=True)
class ParsedMail:
    """What the help desk keeps of one message.

    `message_id` is the message's own id in angle brackets or, when it has none, a stable id
    derived from the raw bytes (the same bytes always give the same id, so a re-fetch is still
    recognised). `references` lists In-Reply-To's ids first, then References' ids newest first,
    without repeats. `body` is the whole text (HTML converted); `reply` is the new part only
    (quoted history and signature cut), falling back to `body` when cutting leaves nothing.
    """

    message_id: str
    derived_message_id: bool
    in_reply_to: list[str]
    references: list[str]
    from_name: str
    from_address: str | None
    reply_to_address: str | None
    to_addresses: list[str]
    subject: str
    title: str
    date: datetime | None
    body: str
    reply: str
    html_only: bool
    headers: dict[str, str]
    attachments: list[Attachment] = field(default_factory=list)
    dropped: list[DroppedAttachment] = field(default_factory=list)
    bounce: Bounce | None = None

    @property
    def requester_address(self) -> str | None:
        """Where answers go: `Reply-To` when given, else `From` (lower-cased)."""
        return self.reply_to_address or self.from_address

    @property
    def thread_ids(self) -> list[str]:
        """The ids to look up, in threading order: In-Reply-To, then every References id."""
        seen: list[str] = []
        for message_id in [*self.in_reply_to, *self.references]:
            if message_id not in seen:
                seen.append(message_id)
        return seen


def message_ids(value: str | None) -> list[str]:
    """The `<id>` tokens in a Message-ID, In-Reply-To or References header, in order."""
    return [token[:MESSAGE_ID_MAX_LENGTH] for token in _MESSAGE_IDS.findall(value or "")]


def derived_message_id(raw: bytes) -> str:
    """A stable id for a message that has none: a hash of its bytes (RFC 5322 section 3.6.4)."""
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@{_DERIVED_DOMAIN}>"


def _header(message: Message, name: str) -> str:
    """Header `name` as text, '' when absent or unreadable (a defective header is not fatal)."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError, AttributeError):
        raw = message.get_all(name, failobj=[None])[0] if hasattr(message, "get_all") else None
        return str(raw or "")
    return str(value or "").strip()


def _first_address(value: str) -> tuple[str, str | None]:
    """(display name, lower-cased address) of the first mailbox in `value`; address None if none."""
    pairs = [pair for pair in getaddresses([value]) if pair[1]] or [parseaddr(value)]
    name, address = pairs[0]
    address = address.strip().lower()
    if not address or "@" not in address or any(ch.isspace() for ch in address):
        return name.strip(), None
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError, TypeError):
        return name.strip(), None
    return name.strip(), address[:254]


def _decoded_text(part: Message) -> str:
    """The text of a text/* part, whatever its charset claims (unknown ones fall back to UTF-8)."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError, AttributeError):
        pass
    payload = part.get_payload(decode=True) or b""
    if not isinstance(payload, bytes):
        return str(payload)
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def html_to_text(html: str) -> str:
    """Plain text of an HTML body (scripts and styles dropped, links kept as text)."""
    converter = html2text.HTML2Text()
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.body_width = 0
    return converter.handle(html).strip()


def _depth(message: Message) -> int:
    """How deeply multiparts nest, counted without recursion (a hostile mail may nest deeply)."""
    deepest = 0
    stack: list[tuple[Message, int]] = [(message, 1)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_MULTIPART_DEPTH:
            return deepest
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend((child, depth + 1) for child in payload)
    return deepest


def _leaf_parts(message: Message) -> list[Message]:
    """Every non-multipart part in document order (iterative; `_depth` bounds the nesting)."""
    leaves: list[Message] = []
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed(payload))
        else:
            leaves.append(part)
    return leaves


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    return part.get_content_maintype() not in ("text", "multipart", "message")


def _body_parts(leaves: list[Message]) -> tuple[str, bool]:
    """(text of the body, whether it came from HTML only) from the message's leaf parts."""
    plain = [p for p in leaves if p.get_content_type() == "text/plain" and not _is_attachment(p)]
    if plain:
        return "\n\n".join(_decoded_text(p).strip() for p in plain).strip(), False
    html = [p for p in leaves if p.get_content_type() == "text/html" and not _is_attachment(p)]
    if html:
        return "\n\n".join(html_to_text(_decoded_text(p)) for p in html).strip(), True
    return "", False


def _reply_part(body: str) -> str:
    """The new text of a reply (quoted history and signature cut), or all of `body` if none."""
    try:
        parsed = EmailReplyParser(languages=REPLY_LANGUAGES).read(body)
        replies = parsed.replies
        latest = (replies[0].body if replies else parsed.latest_reply) or ""
    except (ValueError, IndexError, AttributeError, TypeError, re.error):
        return body
    return latest.strip() or body


def _attachment_name(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except (ValueError, TypeError, LookupError):
        name = None
    cleaned = re.sub(r"[\x00-\x1f/\\]+", "_", (name or "").strip())[:200]
    return cleaned or f"attachment-{index}"


def _attachments(
    leaves: list[Message], *, max_file_bytes: int, max_message_bytes: int
) -> tuple[list[Attachment], list[DroppedAttachment]]:
    kept: list[Attachment] = []
    dropped: list[DroppedAttachment] = []
    total = 0
    for index, part in enumerate(leaves, start=1):
        if not _is_attachment(part):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        name = _attachment_name(part, index)
        if len(payload) > max_file_bytes:
            dropped.append(DroppedAttachment(name, len(payload), "over the per-file limit"))
        elif total + len(payload) > max_message_bytes:
            dropped.append(DroppedAttachment(name, len(payload), "over the per-message limit"))
        else:
            total += len(payload)
            kept.append(Attachment(name, part.get_content_type(), payload))
    return kept, dropped


def _bounce(message: Message, leaves: list[Message]) -> Bounce | None:
    """The delivery-status report in `message` (RFC 3464), or None when it is not one."""
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    recipient = status = None
    diagnostic = ""
    original_id = None
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in part.get_payload() or []:
                if not isinstance(block, Message):
                    continue
                recipient = recipient or _header(block, "Final-Recipient").split(";")[-1].strip()
                status = status or _header(block, "Status") or None
                diagnostic = diagnostic or _header(block, "Diagnostic-Code")
        elif content_type in ("message/rfc822", "text/rfc822-headers") and original_id is None:
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                original_id = next(iter(message_ids(_header(inner[0], "Message-ID"))), None)
            else:
                found = re.search(r"(?im)^message-id:\s*(<[^<>\s]+>)", _decoded_text(part))
                original_id = found.group(1) if found else None
    if not diagnostic:
        human = [p for p in leaves if p.get_content_type() == "text/plain"]
        diagnostic = _decoded_text(human[0]).strip()[:2000] if human else ""
    return Bounce(original_id, recipient or None, status, diagnostic or "Delivery failed.")


_KEPT_HEADERS = (
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "List-Unsubscribe",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "Return-Path",
    "Sender",
)


def parse_message(
    raw: bytes, *, max_file_bytes: int = 10_000_000, max_message_bytes: int = 25_000_000
) -> ParsedMail:
    """Parse `raw` (one RFC 5322 message, bytes as received) into a `ParsedMail`.

    Attachments over `max_file_bytes`, or beyond `max_message_bytes` in total, are listed in
    `dropped` instead of kept. Raises UnparseableMailError (with a reason) for empty input,
    multiparts nested deeper than MAX_MULTIPART_DEPTH, or a message with neither a usable sender
    nor any text.
    """
    if not raw or not raw.strip():
        raise UnparseableMailError("The message is empty.")
    too_deep = f"Multipart parts nest more than {MAX_MULTIPART_DEPTH} levels deep."
    try:
        message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[assignment]
    except RecursionError as error:
        raise UnparseableMailError(too_deep) from error
    if _depth(message) > MAX_MULTIPART_DEPTH:
        raise UnparseableMailError(too_deep)
    leaves = _leaf_parts(message)
    own_ids = message_ids(_header(message, "Message-ID"))
    message_id = own_ids[0] if own_ids else derived_message_id(raw)
    from_name, from_address = _first_address(_header(message, "From"))
    _, reply_to = _first_address(_header(message, "Reply-To"))
    to_addresses = [
        address.lower()
        for _, address in getaddresses([_header(message, "To"), _header(message, "Cc")])
        if address
    ]
    body, html_only = _body_parts(leaves)
    subject = _header(message, "Subject")
    if from_address is None and not body and not subject:
        raise UnparseableMailError("The message has no sender, no subject and no text.")
    try:
        date = parsedate_to_datetime(_header(message, "Date")) if _header(message, "Date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    attachments, dropped = _attachments(
        leaves, max_file_bytes=max_file_bytes, max_message_bytes=max_message_bytes
    )
    references = list(reversed(message_ids(_header(message, "References"))))
    return ParsedMail(
        message_id=message_id,
        derived_message_id=not own_ids,
        in_reply_to=message_ids(_header(message, "In-Reply-To")),
        references=references,
        from_name=from_name[:100],
        from_address=from_address,
        reply_to_address=reply_to,
        to_addresses=to_addresses,
        subject=subject[:998],
        title=(clean_subject(subject) or "(no subject)")[:200],
        date=date,
        body=body,
        reply=_reply_part(body) if body else "",
        html_only=html_only,
        headers={name: _header(message, name) for name in _KEPT_HEADERS if name in message},
        attachments=attachments,
        dropped=dropped,
        bounce=_bounce(message, leaves),
    )
