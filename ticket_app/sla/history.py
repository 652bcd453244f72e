"""A ticket's `TicketHistory` from what the database records, as plain values.

The services (and migration 0013's backfill) read a ticket's field changes from its audit
events and its comments, and hand them here; this module decides what the clock sees:
- the ticket's first status, priority and category are the old values of the first change of
  each (else the current ones);
- each status change is a `StatusChanged`;
- each priority or category change is a `TargetsChanged` with the targets `targets_for` gives
  for the labels from then on (the current policies: a policy edit applies to the whole history,
  and the clock keeps spent and paused time);
- a public comment by a staff user is a `StaffReplied` (an internal note is one with
  `public=False`, which answers nobody); a public comment without a staff author (the
  requester's e-mail) is a `CustomerMessaged`; an internal note without an author (what the
  mail channel notes for staff) is nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from ticket_app.sla.clock import (
    CustomerMessaged,
    SlaEvent,
    SlaTargets,
    StaffReplied,
    StatusChanged,
    TargetsChanged,
    TicketHistory,
)

LABEL_FIELDS = ("priority", "category")
CLOCK_FIELDS = ("status", *LABEL_FIELDS)
"""The audited fields the clock depends on."""


@dataclass(frozen=True)
class FieldChange:
    """An audited change of `field` (`status`, `priority` or `category`) at `at`."""

    at: datetime
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class CommentFact:
    """A comment at `at`: public or internal, written by a staff user or not."""

    at: datetime
    public: bool
    by_staff: bool


TargetsFor = Callable[[str, str], SlaTargets]
"""(priority, category) -> the targets of the policy matching them."""


def build_history(
    *,
    created_at: datetime,
    status: str,
    priority: str,
    category: str,
    changes: Iterable[FieldChange],
    comments: Iterable[CommentFact],
    targets_for: TargetsFor,
) -> TicketHistory:
    """The clock's view of a ticket whose current labels are `status`, `priority`, `category`.

    `changes` and `comments` in any order; those before `created_at` (clock skew between
    writers) are taken as made at `created_at`.
    """
    ordered = sorted(changes, key=lambda change: change.at)
    first: dict[str, str] = {"status": status, "priority": priority, "category": category}
    seen: set[str] = set()
    for change in ordered:
        if change.field in first and change.field not in seen and change.old is not None:
            first[change.field] = change.old
            seen.add(change.field)
    labels = {"priority": first["priority"], "category": first["category"]}
    events: list[SlaEvent] = []
    for change in ordered:
        at = max(change.at, created_at)
        if change.field == "status" and change.new is not None:
            events.append(StatusChanged(at, change.new))
        elif change.field in LABEL_FIELDS and change.new is not None:
            labels[change.field] = change.new
            events.append(TargetsChanged(at, targets_for(labels["priority"], labels["category"])))
    for comment in comments:
        at = max(comment.at, created_at)
        if comment.by_staff:
            events.append(StaffReplied(at, public=comment.public))
        elif comment.public:
            events.append(CustomerMessaged(at))
    return TicketHistory(
        created_at=created_at,
        targets=targets_for(first["priority"], first["category"]),
        events=events,
        status=first["status"],
    )
