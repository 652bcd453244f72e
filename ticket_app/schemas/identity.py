"""Staff users and API tokens as the console, the CLI and the API show them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from ticket_app.enums import Role
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
