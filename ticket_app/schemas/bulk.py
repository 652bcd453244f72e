"""Bulk changes: which tickets, what to set, how many changed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ticket_app.enums import Category, Priority, Status
from ticket_app.schemas.fields import ASSIGNEE_ID_RULE, Count, RowId, never_null
from ticket_app.schemas.list_query import BulkFilters
from ticket_app.schemas.tags import TAG_RULES, TagChanges


class BulkChanges(BaseModel):
    """What to set on every selected ticket; absent fields stay, `assignee_id` null unassigns.

    `add_tags` are added to and `remove_tags` removed from each ticket's tags (a tag in both
    ends up removed); a change that would leave a ticket with more than 20 tags is refused
    before anything changes.
    """

    status: Status | None = Field(default=None, json_schema_extra=never_null)
    priority: Priority | None = Field(default=None, json_schema_extra=never_null)
    category: Category | None = Field(default=None, json_schema_extra=never_null)
    assignee_id: RowId | None = Field(
        default=None, description=f"{ASSIGNEE_ID_RULE}; null: unassign."
    )
    add_tags: TagChanges | None = Field(
        default=None,
        description=f"Tags to add to every selected ticket, 1 to 20. {TAG_RULES}",
        json_schema_extra=never_null,
    )
    remove_tags: TagChanges | None = Field(
        default=None,
        description="Tags to remove from every selected ticket, 1 to 20.",
        json_schema_extra=never_null,
    )

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    @field_validator("status", "priority", "category", "add_tags", "remove_tags", mode="before")
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> BulkChanges:
        if not self.model_fields_set:
            raise ValueError(f"name at least one of {', '.join(type(self).model_fields)}")
        return self


BULK_CONFIRM_ABOVE = 10_000
"""A bulk change selecting more tickets than this needs `confirm_count`."""
MAX_BULK_IDS = 20_000
"""Most ids one bulk request may list (one SQL statement binds them all)."""


class BulkRequest(BaseModel):
    """Change many tickets at once: give exactly one of `ids` and `filters`.

    More than BULK_CONFIRM_ABOVE (10,000) selected tickets need `confirm_count` equal to their
    number; a `confirm_count` that differs from it is refused whatever the number.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["ids"]}, {"required": ["filters"]}]},
    )

    ids: list[RowId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_BULK_IDS,
        description=f"Ticket ids, 1 to {MAX_BULK_IDS:,}; each must exist (else a 404 naming "
        "the first missing one, and nothing changes). Larger selections go by `filters`.",
        json_schema_extra=never_null,
    )
    filters: BulkFilters | None = Field(
        default=None,
        description="Every ticket the list would show for these filters.",
        json_schema_extra=never_null,
    )
    changes: BulkChanges
    confirm_count: Count | None = Field(
        default=None,
        description=f"The number of selected tickets, required above {BULK_CONFIRM_ABOVE:,}; "
        "when given it must equal that number whatever it is (a 422 naming `confirm_count` "
        "says the number).",
    )

    @field_validator("ids", "filters", mode="before")
    @classmethod
    def _present_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave it out instead")
        return value

    @model_validator(mode="after")
    def _one_selection(self) -> BulkRequest:
        if (self.ids is None) == (self.filters is None):
            raise ValueError("give exactly one of ids and filters")
        return self


class BulkResult(BaseModel):
    """How many tickets a bulk change actually changed (unchanged ones are not counted)."""

    updated: int
