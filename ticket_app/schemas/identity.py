"""Staff users and API tokens as the console, the CLI and the API show them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from ticket_app.enums import PasswordLinkPurpose, Role
from ticket_app.schemas.fields import iso_utc


class UserRead(BaseModel):
    """A staff user as the console, the CLI and the API show it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @field_serializer("created_at", "last_login_at", when_used="json")
    def _utc(self, value: datetime | None) -> str | None:
        return iso_utc(value)


class SessionRead(BaseModel):
    """One of the caller's signed-in sessions (never its token)."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str | None
    current: bool = Field(description="Whether this is the session making the request.")

    @field_serializer("created_at", "last_seen_at", "expires_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return iso_utc(value)


class MeRead(BaseModel):
    """`GET /api/me/`: the user behind the session or token."""

    id: int
    email: str
    name: str
    role: Role


class TokenRead(BaseModel):
    """An API token's metadata; the secret itself is shown once, at creation, and never again."""

    id: int
    user_id: int
    user_email: str
    name: str
    prefix: str = Field(description="First characters of the token, to recognise it.")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @field_serializer("created_at", "expires_at", "last_used_at", "revoked_at", when_used="json")
    def _utc(self, value: datetime | None) -> str | None:
        return iso_utc(value)


class NewToken(BaseModel):
    """A token just created: `token` is the secret, shown only in this answer."""

    token: str
    info: TokenRead


class InvitationCreate(BaseModel):
    """`POST /api/staff/invitations/`: who to invite, with which role."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254, description="The invitee's email (their sign-in name).")
    role: Role
    name: str | None = Field(
        default=None, max_length=100, description="Shown in the console; default: the email's name."
    )


class PasswordLinkCreate(BaseModel):
    """`POST /api/staff/{id}/password-links/`: a reset link, or a new invitation link."""

    model_config = ConfigDict(extra="forbid")

    purpose: PasswordLinkPurpose = PasswordLinkPurpose.RESET


class PasswordLinkRead(BaseModel):
    """A one-time password link just made; `url` holds its secret and is shown only now."""

    url: str = Field(
        description="The link; it works once, until `expires_at`. Pass it on to the person "
        "unless `emailed`."
    )
    purpose: PasswordLinkPurpose
    expires_at: datetime
    user: UserRead
    emailed: bool = Field(
        description="Whether the link was e-mailed to the user (from the first active mailbox)."
    )
    not_emailed_reason: str | None = Field(
        description="Why it was not e-mailed, e.g. `no active mailbox to send from` or "
        "`mail server unreachable: connection refused`; null when it was."
    )

    @field_serializer("expires_at", when_used="json")
    def _utc(self, value: datetime) -> str | None:
        return iso_utc(value)


class PasswordChange(BaseModel):
    """`POST /api/account/password/`: the current password and the new one."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class SessionsSignedOut(BaseModel):
    """How many of the caller's other sessions were signed out."""

    signed_out_sessions: int = Field(ge=0)
