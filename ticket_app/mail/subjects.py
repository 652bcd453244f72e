"""Subjects: reply prefixes, the ticket token `[#123]`, and the subject of our replies."""

from __future__ import annotations

import re

# Reply and forward prefixes in the languages mail clients commonly use (en Re/Fwd/Fw, de AW/WG,
# nl/sv/da/no Antw/SV/VS, fr TR/RE, es RV/RE, it R/I, fi VS, pl ODP/PD), with an optional count
# such as "Re[2]:" or "Re(2):".
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|antw|sv|vs|tr|rv|r|i|odp|pd)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\[#(\d{1,10})\]")
_SPACES = re.compile(r"\s+")


def clean_subject(subject: str | None) -> str:
    """`subject` without reply/forward prefixes and ticket tokens, whitespace collapsed.

    Returns "" for no subject. "Re: AW: Fwd: Login broken [#12]" -> "Login broken".
    """
    text = _SPACES.sub(" ", subject or "").strip()
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return _SPACES.sub(" ", _TOKEN.sub(" ", text)).strip()


def ticket_token(subject: str | None) -> int | None:
    """The ticket id in the last `[#id]` token of `subject`, or None when there is none."""
    found = _TOKEN.findall(subject or "")
    return int(found[-1]) if found else None


def reply_subject(original: str | None, ticket_id: int, fallback: str) -> str:
    """The subject of a reply on ticket `ticket_id`: `Re: <original> [#id]`.

    `original` is the customer's subject (prefixes and tokens are removed first, so the subject
    does not grow with each exchange); `fallback` (the ticket's title) stands in when it is empty.
    """
    base = clean_subject(original) or clean_subject(fallback) or f"Ticket {ticket_id}"
    return f"Re: {base} [#{ticket_id}]"
