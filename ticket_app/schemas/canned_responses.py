"""Canned responses (reply snippets with placeholders) and a ticket's followers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ticket_app.models import CANNED_BODY_MAX_LENGTH, CANNED_TITLE_MAX_LENGTH
from ticket_app.schemas.fields import TEXT_RULES, CannedBody, CannedTitle, RowId, never_null

PLACEHOLDERS = (
    "requester.name",
    "requester.email",
    "ticket.id",
    "ticket.title",
    "agent.name",
)
"""The placeholders a body may hold, written `{{requester.name}}`; others stay as typed."""

_PLACEHOLDER_HELP = ", ".join(f"`{{{{{name}}}}}`" for name in PLACEHOLDERS)


class CannedResponseCreate(BaseModel):
    """A new canned response; `shared` ones are offered to the whole team (admins only)."""

    model_config = ConfigDict(extra="forbid")

    title: CannedTitle = Field(
        description=f"1 to {CANNED_TITLE_MAX_LENGTH} characters, stored stripped. {TEXT_RULES}"
    )
    body: CannedBody = Field(
        description=f"1 to {CANNED_BODY_MAX_LENGTH} characters of plain text, kept as written; "
        f"placeholders {_PLACEHOLDER_HELP} are filled when it is inserted."
    )
    shared: bool = Field(
        default=False, strict=True, description="Offered to the whole team (admins only)."
    )


class CannedResponseUpdate(BaseModel):
    """The fields of a canned response to change; absent ones stay, none may be null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    title: CannedTitle | None = Field(default=None, json_schema_extra=never_null)
    body: CannedBody | None = Field(default=None, json_schema_extra=never_null)
    shared: bool | None = Field(default=None, strict=True, json_schema_extra=never_null)

    @field_validator("title", "body", "shared", mode="before")
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave it out instead")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> CannedResponseUpdate:
        if not self.model_fields_set:
            raise ValueError("name at least one of title, body, shared")
        return self


class CannedResponseRead(BaseModel):
    """A canned response: its owner, whether it is shared, and how often it was inserted."""

    id: int
    title: str
    body: str
    shared: bool
    owner_id: int
    uses: int


class CannedRenderRequest(BaseModel):
    """Which ticket a canned response is inserted into (its placeholders come from it)."""

    model_config = ConfigDict(extra="forbid")

    ticket_id: RowId = Field(description="The ticket being answered.")


class CannedRenderResult(BaseModel):
    """A canned response's body with its placeholders filled, ready for the composer."""

    body: str


class FollowerRead(BaseModel):
    """A staff member following a ticket."""

    user_id: int
    name: str
    email: str
