"""No credential in any log line: cookies, `Authorization` values and API tokens are redacted.

Why at record creation: Reflex logs whole events (their router data carries the socket's
`cookie` header) when it cannot process one, e.g. an unknown handler from a tab left open across
a deploy; a session cookie copied from such a line signs in. Library loggers, our own and any
handler added later all create their records through `logging`'s record factory, so redacting
there covers every path, including exception text, without knowing who logs what.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"

_HEADER_VALUE = re.compile(
    r"""(?ix)
    (\b(?:set-)?cookie|\bauthorization|\bx-api-key)   # header name, any case
    (['"]?\s*[:=]\s*)                                 # `: `, `=`, `': '`, `": "`
    (?:
        '(?:[^'\\\n]|\\.)*'                           # a quoted value
      | "(?:[^"\\\n]|\\.)*"
      | [^,}\n]*                                      # or up to the end of the field
    )
    """
)
_CREDENTIALS = (
    (re.compile(r"\btriage_session=[^;,\s'\"]+"), f"triage_session={REDACTED}"),
    (re.compile(r"\btdk_[A-Za-z0-9_\-]+"), f"tdk_{REDACTED}"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]+=*"), f"Bearer {REDACTED}"),
    # One-time password links: the page paths (and the router data Reflex logs) hold the token.
    (re.compile(r"/(invite|reset)/[A-Za-z0-9_\-]+"), rf"/\1/{REDACTED}"),
)

_installed = False


def redact(text: str) -> str:
    """`text` with credential values replaced by `[redacted]`.

    Replaces the value of any `cookie`, `set-cookie`, `authorization` or `x-api-key` field (as
    HTTP header text, a Python dict repr or JSON), and, anywhere, session cookies
    (`triage_session=...`), API tokens (`tdk_...`), `Bearer ...` credentials and the tokens
    of one-time password links (`/invite/...`, `/reset/...`).
    """
    text = _HEADER_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED!r}", text)
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text


def install() -> None:
    """Redact every log record from now on, in this process (idempotent).

    The message is formatted once with its arguments and redacted; only a record that held a
    credential is rewritten (message without arguments), so formatters that read a record's
    arguments keep working. Exception text that held one is cached redacted (handlers print the
    cached text); stack text is redacted.
    """
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep it for the handler to report
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if redact(text) != text:
                record.exc_text = redact(text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(redacting_record)
    _installed = True
