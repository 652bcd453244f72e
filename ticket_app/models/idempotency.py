"""Idempotency keys of ticket creates, with the answer each one got."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.models.base import timestamp_column, utc_now

IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_CHECKS: dict[str, str] = {
    "ck_idempotency_keys_key_length": (
        f"length(idempotency_key) BETWEEN 1 AND {IDEMPOTENCY_KEY_MAX_LENGTH}"
    ),
    "ck_idempotency_keys_sha256_length": "length(request_sha256) = 64",
}


class IdempotencyKey(SQLModel, table=True):
    """An `Idempotency-Key` a user sent with `POST /api/tickets/`, and the answer it got.

    Migration 0006. Unique per user (a token acts as its owner, so a user's tokens and sessions
    share keys); `request_sha256` is the SHA-256 of the validated request, so a repeat with
    another body can be told apart; `status_code` and `response_body` (JSON) are the first
    answer, replayed as they were. Rows older than 24 hours no longer count and are purged.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in IDEMPOTENCY_KEY_CHECKS.items()),
        sa.Index("ux_idempotency_keys_user_id_key", "user_id", "idempotency_key", unique=True),
        sa.Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    idempotency_key: str = Field(
        sa_column=sa.Column(sa.String(IDEMPOTENCY_KEY_MAX_LENGTH), nullable=False)
    )
    request_sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    status_code: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    ticket_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        )
    )
    response_body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
