"""Staff users, their signed-in sessions and their API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import PasswordLinkPurpose, Role
from ticket_app.models.base import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    UTCDateTime,
    enum_check,
    timestamp_column,
    utc_now,
)

STAFF_USER_CHECKS: dict[str, str] = {
    "ck_staff_users_role": enum_check("role", Role),
    "ck_staff_users_email_lower": "email = lower(email)",
    "ck_staff_users_email_not_blank": "length(trim(email)) > 0",
    "ck_staff_users_name_not_blank": "length(trim(name)) > 0",
}


class StaffUser(SQLModel, table=True):
    """A member of staff who signs in.

    Emails are stored lower-cased, so uniqueness is case-insensitive; users are deactivated, never
    deleted, so the audit trail keeps its actors.
    """

    __tablename__ = "staff_users"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in STAFF_USER_CHECKS.items()),
        sa.Index("ux_staff_users_email", "email", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=False))
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    role: Role = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    is_active: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    password_hash: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    last_login_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


USER_AGENT_MAX_LENGTH = 200
"""A session keeps this much of the browser's `User-Agent`, to name it in "My account"."""


class StaffSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the cookie's random token is stored."""

    __tablename__ = "staff_sessions"
    __table_args__ = (
        sa.Index("ux_staff_sessions_token_hash", "token_hash", unique=True),
        sa.Index("ix_staff_sessions_user_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    last_seen_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    user_agent: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(USER_AGENT_MAX_LENGTH), nullable=True)
    )


API_TOKEN_CHECKS: dict[str, str] = {
    "ck_api_tokens_name_not_blank": "length(trim(name)) > 0",
    "ck_api_tokens_scopes_not_blank": "length(trim(scopes)) > 0",
}


class ApiToken(SQLModel, table=True):
    """A personal access token for automation; acts with its owner's role, within its scopes.

    `scopes` is a comma-separated list (`tickets:read,tickets:write`); `prefix` is the token's
    first characters, shown so people can recognise a token; only the SHA-256 is stored.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in API_TOKEN_CHECKS.items()),
        sa.Index("ux_api_tokens_token_hash", "token_hash", unique=True),
        sa.Index("ix_api_tokens_user_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    prefix: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    scopes: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    expires_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


PASSWORD_LINK_CHECKS: dict[str, str] = {
    "ck_password_links_purpose": enum_check("purpose", PasswordLinkPurpose),
}


class PasswordLink(SQLModel, table=True):
    """A one-time link that sets a user's password: an invitation or a reset.

    Only the SHA-256 of the link's random token is stored; `used_at` is set when it is used
    (once), and it is worthless after `expires_at`. Links go with their user.
    """

    __tablename__ = "password_links"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in PASSWORD_LINK_CHECKS.items()),
        sa.Index("ux_password_links_token_hash", "token_hash", unique=True),
        sa.Index("ix_password_links_user_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    purpose: PasswordLinkPurpose = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
