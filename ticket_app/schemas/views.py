"""Saved views: a name and the list's query parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ticket_app.models import NAME_MAX_LENGTH
from ticket_app.schemas.fields import NameText
from ticket_app.schemas.list_query import LIST_FILTERS, TicketSort

# The keys in the order saved views published them; a filter added later follows, in table order.
_PUBLISHED_KEYS = (
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
VIEW_QUERY_KEYS = _PUBLISHED_KEYS + tuple(
    item.name for item in LIST_FILTERS if item.name not in _PUBLISHED_KEYS
)
"""The list's query parameters a saved view may hold: every list filter and `sort`."""


def _view_query_schema(schema: dict[str, Any]) -> None:
    """A view's `query` in the schema: the list's parameters, each with the list's rule."""
    values = {item.name: item.view_value for item in LIST_FILTERS}
    values["sort"] = {"type": "string", "enum": [member.value for member in TicketSort]}
    schema["properties"] = {key: values[key] for key in VIEW_QUERY_KEYS}
    schema["additionalProperties"] = False


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
    """A saved view; `count` is the number of tickets it matches now (when asked for).

    `count_exact` says whether `count` is exact: counts above `Settings.count_cap` (10,000 by
    default) are estimates, as a list's `X-Total-Count` is.
    """

    id: int
    name: str
    query: dict[str, str]
    shared: bool
    owner_id: int
    owner_name: str
    count: int | None = None
    count_exact: bool | None = None
