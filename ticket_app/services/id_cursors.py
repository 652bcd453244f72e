"""Opaque page cursors that carry one row id: `<prefix><id>` in unpadded URL-safe base64.

The prefix names the list a cursor belongs to, so a cursor from one list is refused by another.
"""

from __future__ import annotations

import base64
import binascii

from ticket_app.schemas import is_id_text
from ticket_app.services.errors import InvalidCursorError


def encode_id_cursor(prefix: str, row_id: int) -> str:
    """The cursor for the rows after `row_id` in the list named by `prefix`."""
    return base64.urlsafe_b64encode(f"{prefix}{row_id}".encode()).decode().rstrip("=")


def decode_id_cursor(prefix: str, cursor: str) -> int:
    """The row id inside a cursor from `encode_id_cursor(prefix, ...)`.

    Raises InvalidCursorError for anything else: other lists' cursors, non-ASCII digits, ids
    outside the id column's range.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
    digits = raw.removeprefix(prefix)
    if not raw.startswith(prefix) or not is_id_text(digits):
        raise InvalidCursorError("cursor is not one this API issued")
    return int(digits)
