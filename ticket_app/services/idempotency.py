"""Idempotency keys for creating tickets: a retried `POST /api/tickets/` creates one ticket.

A client sends `Idempotency-Key: <key>` with a create. The first request with a key stores, in
the same transaction as the ticket, the key, a fingerprint of the validated request and the
answer. Within KEY_TTL (24 hours) a request from the same user with the same key and the same
request gets that first answer again (same status, same ticket); with another request it is
refused (InvalidInputError naming `Idempotency-Key`). Keys are per user: a user's tokens and
sessions share them, another user's identical key is another key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from ticket_app.models import IDEMPOTENCY_KEY_MAX_LENGTH, IdempotencyKey, utc_now
from ticket_app.services.errors import InvalidInputError

KEY_TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"
KEY_PATTERN = rf"^[!-~]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$"
"""1 to 255 visible ASCII characters (no spaces), e.g. a UUID."""
_KEY = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class IdempotentRequest:
    """A create that carries a key: whose (`user_id`), the key, and the request's fingerprint."""

    user_id: int
    key: str
    fingerprint: str


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer to a key: its status code, its JSON body, and the ticket it created."""

    status_code: int
    body: str
    ticket_id: int


def check_key(key: str) -> str:
    """`key` if it is 1 to 255 visible ASCII characters; else InvalidInputError naming it."""
    if not _KEY.fullmatch(key):
        raise InvalidInputError(
            HEADER,
            f"must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters without spaces "
            "(a UUID is a good key)",
        )
    return key


def fingerprint(request: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a request's validated fields as canonical JSON (sorted keys)."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def new_request(user_id: int | None, key: str, request: Mapping[str, Any]) -> IdempotentRequest:
    """An IdempotentRequest for `user_id`'s `key` and validated `request`.

    Raises InvalidInputError naming `Idempotency-Key` for a malformed key or when no user acts
    (a process such as an import has no keys).
    """
    if user_id is None:
        raise InvalidInputError(HEADER, "is only accepted from a signed-in user or their token")
    return IdempotentRequest(user_id=user_id, key=check_key(key), fingerprint=fingerprint(request))


def _live_row(session: Session, request: IdempotentRequest, now: datetime) -> IdempotencyKey | None:
    query = select(IdempotencyKey).where(
        IdempotencyKey.user_id == request.user_id,
        IdempotencyKey.idempotency_key == request.key,
        IdempotencyKey.created_at > now - KEY_TTL,
    )
    return session.exec(query).first()


def find_answer(
    session: Session, request: IdempotentRequest, *, now: datetime | None = None
) -> StoredAnswer | None:
    """The first answer to this user's key within KEY_TTL, or None if the key is new (or expired).

    Raises InvalidInputError naming `Idempotency-Key` when the key was used with another request.
    """
    row = _live_row(session, request, now or utc_now())
    if row is None:
        return None
    if row.request_sha256 != request.fingerprint:
        raise InvalidInputError(
            HEADER,
            "was already used with a different request in the last 24 hours; send the same "
            "request to get its answer again, or use a new key for a new ticket",
        )
    return StoredAnswer(
        status_code=row.status_code, body=row.response_body, ticket_id=row.ticket_id
    )


def remember_answer(
    session: Session,
    request: IdempotentRequest,
    answer: StoredAnswer,
    *,
    now: datetime | None = None,
) -> None:
    """Store the first answer to `request`'s key in `session` (commits with the ticket).

    Expired keys (anyone's; by the created_at index) are deleted first, which also frees this
    key if it expired, so the table holds about a day of keys. A concurrent first request with
    the same key makes the commit fail on the unique index, and the caller replays the winner's
    answer instead.
    """
    now = now or utc_now()
    session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - KEY_TTL))
    session.add(
        IdempotencyKey(
            user_id=request.user_id,
            idempotency_key=request.key,
            request_sha256=request.fingerprint,
            status_code=answer.status_code,
            ticket_id=answer.ticket_id,
            response_body=answer.body,
            created_at=now,
        )
    )
