"""Saved views: a name and the list's query parameters."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ticket_app.enums import Category, Priority, Status
from ticket_app.models import NAME_MAX_LENGTH
from ticket_app.schemas.fields import NO_NUL_PATTERN, NameText
from ticket_app.schemas.list_query import ASSIGNEE_PATTERN, LANGUAGE_PATTERN, TicketSort


def _view_query_schema(schema: dict[str, Any]) -> None:
    """A view's `query` in the schema: the list's parameters, each with the list's rule."""

    def choice(enum: type[StrEnum]) -> dict[str, Any]:
        return {"type": "string", "enum": [member.value for member in enum]}

    search = {"type": "string", "maxLength": 200, "pattern": NO_NUL_PATTERN}
    since = {"type": "string", "format": "date-time"}
    schema["properties"] = {
        "category": choice(Category),
        "priority": choice(Priority),
        "status": choice(Status),
        "search": search,
        "q": search,
        "assignee": {"type": "string", "pattern": ASSIGNEE_PATTERN},
        "sort": choice(TicketSort),
        "language": {"type": "string", "pattern": LANGUAGE_PATTERN},
        "frustrated": {"type": "string", "enum": ["true", "false"]},
        "created_since": since,
        "updated_since": since,
    }
    schema["additionalProperties"] = False


VIEW_QUERY_KEYS = (
    "category",
    "priority",
    "status",
    "search",
    "q",
    "assignee",
    "sort",
    "language",
    "frustrated",
    "created_since",
    "updated_since",
)
"""The list's query parameters a saved view may hold."""


class SavedViewCreate(BaseModel):
    """A named set of list filters, search and sort (`query`: the list's query parameters)."""

    model_config = ConfigDict(extra="forbid")

    name: NameText = Field(description=f"1 to {NAME_MAX_LENGTH} characters; unique per owner.")
    query: dict[str, str] = Field(
        default_factory=dict,
        json_schema_extra=_view_query_schema,
        description=f"Query parameters of the list: {', '.join(VIEW_QUERY_KEYS)}; values as in "
        "the list's query string (`assignee` may be `me`: whoever opens the view).",
    )
    shared: bool = Field(
        default=False, strict=True, description="Shown to the whole team (admins only)."
    )


class SavedViewRead(BaseModel):
    """A saved view; `count` is the number of tickets it matches now (when asked for)."""

    id: int
    name: str
    query: dict[str, str]
    shared: bool
    owner_id: int
    owner_name: str
    count: int | None = None
