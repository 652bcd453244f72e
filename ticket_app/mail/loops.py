"""When the help desk must not answer a mail automatically (RFC 3834), and how ours say so.

RFC 3834 section 2: an automatic responder must not answer mail that is itself automatic
(`Auto-Submitted` other than `no`), mail from mailing lists (`List-Id`, `Precedence: list`) or
bulk mail (`Precedence: bulk|junk`), nor a null sender (bounces); and every automatic message
it sends carries `Auto-Submitted: auto-replied`. The de-facto headers of Exchange and common
vacation responders (`X-Auto-Response-Suppress`, `X-Autoreply`, `X-Autorespond`) and
mailer-daemon/postmaster senders are treated the same way, as are our own addresses (two help
desks, or one talking to itself, must not answer each other forever).
"""

from __future__ import annotations

from collections.abc import Iterable

from ticket_app.mail.parse import ParsedMail

AUTO_SUBMITTED_REPLY = "auto-replied"
AUTO_SUBMITTED_GENERATED = "auto-generated"
_DAEMON_LOCAL_PARTS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"}
_SUPPRESS_VALUES = {"all", "autoreply", "oof"}


def automatic_reason(mail: ParsedMail, own_addresses: Iterable[str]) -> str | None:
    """Why `mail` must get no automatic answer (a sentence), or None when it may get one.

    `own_addresses` are the help desk's mailbox addresses (any case).
    """
    headers = {name.lower(): value.strip() for name, value in mail.headers.items()}
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = headers.get("precedence", "").lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    if "list-id" in headers:
        return "mailing-list mail (List-Id)"
    suppress = {v.strip().lower() for v in headers.get("x-auto-response-suppress", "").split(",")}
    if suppress & _SUPPRESS_VALUES:
        return "X-Auto-Response-Suppress"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "vacation responder (X-Autoreply)"
    if headers.get("return-path") == "<>":
        return "null sender (Return-Path: <>)"
    sender = mail.from_address
    if sender is None:
        return "no sender address"
    if sender.split("@", 1)[0] in _DAEMON_LOCAL_PARTS:
        return f"system sender ({sender})"
    if sender in {address.lower() for address in own_addresses}:
        return "sent from one of the help desk's own addresses"
    return None


def is_from_own_address(mail: ParsedMail, own_addresses: Iterable[str]) -> bool:
    """Whether `mail` claims to come from one of our mailboxes (it is then never ingested)."""
    return mail.from_address is not None and mail.from_address in {
        address.lower() for address in own_addresses
    }
