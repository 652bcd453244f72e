"""One ticket's page, its plain logic: the id in its URL, field edits, what it shows, conflicts.

The page shows a ticket flattened to strings (`ticket_fields`) and its timeline as rows
(`timeline_rows`); `latest_other_change` tells whether someone else changed a field meanwhile.
`TicketView` is what the page reads of a ticket at once (`state.ticket_page.load_view`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from ticket_app.enums import ActorKind, EventKind
from ticket_app.schemas import (
    TAG_SEPARATOR,
    AttachmentRead,
    EventRead,
    RequesterRead,
    SimilarTicket,
    TicketRead,
    TicketUpdate,
    TimelineEntry,
    UserRead,
    tags_of_text,
)
from ticket_app.services.errors import DatabaseUnavailableError
from ticket_app.services.ticket_query import is_row_id
from ticket_app.ui.logic.form import validation_messages
from ticket_app.ui.logic.mail import attachment_row, comment_mail_fields, requester_ticket_rows
from ticket_app.ui.logic.tickets import label_of_value, save_error_message, sla_cells
from ticket_app.ui.logic.triage import triage_fields

LOADING, READY, NOT_FOUND, FAILED = "loading", "ready", "not_found", "failed"
"""What a ticket page shows: the ticket being read, the ticket, "no such ticket", a failure."""
TEXT_FIELDS = ("title", "description", "requester_name", "requester_email")
CHOICE_FIELDS = ("status", "priority", "category", "assignee_id")
TAGS_FIELD = "tags"
"""The ticket's tags, which the page holds as one text: sorted, joined with `, `."""
# Fields the page may clear: an empty input or the "Unassigned" choice stores null.
CLEARABLE_FIELDS = frozenset({"requester_name", "requester_email", "assignee_id"})
FIELD_LABELS = {
    "title": "title",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "category": "category",
    "assignee_id": "assignee",
    "requester_name": "requester name",
    "requester_email": "requester email",
    "tags": "tags",
}
UNASSIGNED_LABEL = "Unassigned"
# Events that change a field someone may be editing; comments (and their audit lines) do not.
CONFLICTING_EVENTS = frozenset({EventKind.CHANGED, EventKind.MERGED})


def ticket_id_from_path(path: str) -> int | None:
    """The ticket id in a page path such as "/tickets/12" or "/tickets/12/", else None.

    None also for ids that are not ASCII digits or lie outside the id column's range.
    """
    parts = [part for part in path.split("/") if part]
    if len(parts) != 2 or parts[0] != "tickets":
        return None
    raw = parts[1]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if is_row_id(value) else None


def field_update(field: str, raw: str) -> TicketUpdate:
    """The partial update that sets `field` to `raw`, the text typed or chosen on the page.

    An empty requester field or assignee ("" is "Unassigned") stores null; `tags` is the whole
    set, comma-separated. Raises ValueError for a field the page does not edit and pydantic's
    ValidationError for a refused value.
    """
    if field == TAGS_FIELD:
        return TicketUpdate.model_validate({field: tags_of_text(raw)})
    if field not in TEXT_FIELDS and field not in CHOICE_FIELDS:
        raise ValueError(f"{field} cannot be edited here")
    value: str | int | None = raw
    if field in CLEARABLE_FIELDS and not raw.strip():
        value = None
    elif field == "assignee_id":
        value = int(raw) if raw.isascii() and raw.isdigit() else raw
    return TicketUpdate.model_validate({field: value})


def tags_added(current: str, typed: str) -> str:
    """The page's tags text (`current`) with the comma-separated tags `typed` added.

    Typed tags are kept as typed (the service trims and lower-cases them and says what it
    refuses); repeats are dropped.
    """
    tags = tags_of_text(current)
    return TAG_SEPARATOR.join([*tags, *(t for t in tags_of_text(typed) if t not in tags)])


def tags_removed(current: str, tag: str) -> str:
    """The page's tags text (`current`) without `tag`."""
    return TAG_SEPARATOR.join(t for t in tags_of_text(current) if t != tag)


def _exact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def staff_names(staff: Iterable[UserRead]) -> dict[int, str]:
    """Staff user id -> the name shown for them."""
    return {user.id: user.name for user in staff}


def names_by_label(view: TicketView) -> dict[str, str]:
    """Staff actor labels (their e-mail addresses) -> names, for `view`'s staff.

    The audit trail names an actor by label; the page names people as the console does.
    """
    extra = [view.former_assignee] if view.former_assignee else []
    return {user.email: user.name for user in [*view.staff, *extra]}


def person_of(label: str, people: Mapping[str, str]) -> str:
    """An actor label in the console's words: the staff member's name instead of their e-mail.

    `people` maps labels to names (`names_by_label`). A token's label, "address (token name)",
    keeps its token part: "Name (token name)". Anything else stays as it is.
    """
    if label in people:
        return people[label]
    address, separator, rest = label.partition(" (")
    if separator and address in people:
        return f"{people[address]} ({rest}"
    return label


def ticket_fields(ticket: TicketRead, names: Mapping[int, str]) -> dict[str, str]:
    """A ticket flattened to the strings the page shows; "" stands for none.

    `names` maps staff ids to names (for the assignee). Times are UTC to the minute
    (`*_exact`) and ISO 8601 (`*_iso`, for `<time datetime>`). The triage reading (AI
    suggestion with source and confidences, language, sentiment, frustration, the ticket it
    duplicates) is flattened by `logic.triage.triage_fields`.
    """
    assignee = ticket.assignee_id
    return {
        "id": str(ticket.id),
        "title": ticket.title,
        "description": ticket.description,
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "assignee_id": str(assignee) if assignee is not None else "",
        "assignee_name": (
            UNASSIGNED_LABEL if assignee is None else names.get(assignee, f"User #{assignee}")
        ),
        "requester_name": ticket.requester_name or "",
        "requester_email": ticket.requester_email or "",
        "requester_id": str(ticket.requester_id) if ticket.requester_id is not None else "",
        TAGS_FIELD: TAG_SEPARATOR.join(ticket.tags),
        **triage_fields(ticket),
        **sla_cells(ticket),
        "created_exact": _exact(ticket.created_at),
        "created_iso": ticket.created_at.astimezone(UTC).isoformat(),
        "updated_exact": _exact(ticket.updated_at),
        "updated_iso": ticket.updated_at.astimezone(UTC).isoformat(),
    }


def _value_text(field: str, value: str | None, names: Mapping[int, str]) -> str:
    """An audit value in words: labels for enum values, names for assignees."""
    if not value:
        return UNASSIGNED_LABEL if field == "assignee_id" else "(none)"
    if field == "assignee_id" and value.isdigit():
        return names.get(int(value), f"User #{value}")
    if field in ("status", "priority", "category"):
        return label_of_value(value)
    return value


# What the e-mail channel's audit events say on the timeline; `{new}` is the event's new value.
MAIL_EVENT_TEXT = {
    EventKind.MAIL_SENT: "E-mail sent to {new}",
    EventKind.MAIL_FAILED: "E-mail not delivered: {new}",
    EventKind.MAIL_RESENT: "E-mail queued to be sent again",
    EventKind.MAIL_BOUNCED: "E-mail bounced: {new}",
    EventKind.MAIL_RELEASED: "Taken in from the quarantine",
}


def _event_text(event: EventRead, names: Mapping[int, str]) -> str:
    """An audit event in words, e.g. "Status: Open → Closed" or "Created from an e-mail"."""
    if event.field and event.kind == EventKind.CHANGED:
        label = FIELD_LABELS.get(event.field, event.field.replace("_", " ")).capitalize()
        old = _value_text(event.field, event.old_value, names)
        new = _value_text(event.field, event.new_value, names)
        return f"{label}: {old} → {new}"
    if event.kind == EventKind.CREATED and event.actor_kind == ActorKind.MAIL:
        return "Created from an e-mail"
    if event.kind in MAIL_EVENT_TEXT:
        return MAIL_EVENT_TEXT[event.kind].format(new=event.new_value or "(no detail)")
    return event.kind.value.replace("_", " ").capitalize()


def timeline_rows(
    entries: Iterable[TimelineEntry],
    names: Mapping[int, str],
    people: Mapping[str, str] | None = None,
) -> list[dict]:
    """The timeline as flat rows for the page, oldest first.

    `people` maps actor labels to staff names (`names_by_label`): an event's `who` is that
    name, else the label.

    Each row: `key` (unique), `kind` ("event", "reply" or "note"), `who`, `when` (UTC to the
    minute), `when_iso`; events add `what` (e.g. "Status: Open → Closed"), comments `body`
    (plain text as written) and their channel and mail (`logic.mail.comment_mail_fields`:
    `channel_label`, `delivery`, `delivery_text`, `raw_url`, `file_count`, ...). A comment's
    `who` is its author: a staff member's name, or the sender of an e-mail ("Name <address>").
    """
    rows: list[dict] = []
    for entry in entries:
        base = {
            "who": person_of(entry.actor, people or {}),
            "when": _exact(entry.created_at),
            "when_iso": entry.created_at.astimezone(UTC).isoformat(),
        }
        if entry.comment is not None:
            comment = entry.comment
            kind = "reply" if comment.public else "note"
            rows.append(
                {
                    **base,
                    "key": f"c{comment.id}",
                    "kind": kind,
                    "who": comment.author_name,
                    "body": comment.body,
                    **comment_mail_fields(comment),
                }
            )
            continue
        event = entry.event
        if event is None:
            continue
        what = _event_text(event, names)
        rows.append({**base, "key": f"e{event.id}", "kind": "event", "what": what})
    return rows


def latest_other_change(entries: Iterable[TimelineEntry], since: datetime, me: str) -> str | None:
    """Who last changed a field after `since` other than `me` (an actor label), or None.

    Only field changes count (see CONFLICTING_EVENTS): comments overwrite nothing.
    """
    who = None
    for entry in entries:
        event = entry.event
        if (
            event is not None
            and event.kind in CONFLICTING_EVENTS
            and entry.created_at > since
            and entry.actor != me
        ):
            who = entry.actor
    return who


@dataclass(frozen=True)
class TicketView:
    """Everything the page shows of one ticket, read together.

    `staff` are the users a ticket can be assigned to; `former_assignee` is the ticket's
    assignee when they are not among them any more (deactivated, now a viewer), else None.
    `similar` are open tickets like this one, best first (none once it is merged);
    `duplicates` the ids of the tickets merged into this one, oldest first. The e-mail
    channel: `reply_to` whom a public reply is mailed to ("Name <address>"; None: not mailed),
    `files` the files of the ticket itself (those of the mail that opened it; a comment's files
    are on the comment), `requester` the requester's record with their tickets (None without one).
    """

    ticket: TicketRead
    etag: str
    timeline: list[TimelineEntry]
    staff: list[UserRead]
    former_assignee: UserRead | None = None
    similar: list[SimilarTicket] = dataclasses.field(default_factory=list)
    duplicates: list[int] = dataclasses.field(default_factory=list)
    reply_to: str | None = None
    files: list[AttachmentRead] = dataclasses.field(default_factory=list)
    requester: RequesterRead | None = None

    @property
    def names(self) -> dict[int, str]:
        """Staff id -> name, for the assignee and its audit lines."""
        extra = [self.former_assignee] if self.former_assignee else []
        return staff_names([*self.staff, *extra])

    def assignee_choices(self) -> list[dict[str, str]]:
        """`{"value", "label"}` for the assignee picker: "Unassigned", then assignable staff.

        A former assignee stays listed while the ticket holds them, so the picker shows the
        truth; choosing anyone else unassigns them for good.
        """
        choices = [{"value": "", "label": UNASSIGNED_LABEL}]
        choices += [{"value": str(user.id), "label": user.name} for user in self.staff]
        if self.former_assignee is not None:
            former = self.former_assignee
            choices.append({"value": str(former.id), "label": f"{former.name} (not assignable)"})
        return choices


def comment_error_message(exc: Exception) -> str:
    """Why a comment was not added, for the composer (the typed text is always kept)."""
    if isinstance(exc, ValidationError):
        return "; ".join(validation_messages(exc).values())
    if isinstance(exc, DatabaseUnavailableError):
        return "Not sent: the database is unavailable. Your text is kept; try again."
    return f"Not sent: {save_error_message(exc)}. Your text is kept."


REQUESTER_TICKETS_SHOWN = 5
"""How many of the requester's other tickets the ticket page lists (the Requesters page has all)."""


def mail_panel(view: TicketView) -> dict:
    """What the ticket page shows of the e-mail channel, read with `view`.

    `reply_to` ("" when a reply is not mailed), `files` (the ticket's own files as rows),
    `requester_count` (how many tickets the requester has, as text; "" without a requester
    record) and `other_tickets` (up to REQUESTER_TICKETS_SHOWN of the requester's other tickets).
    """
    requester = view.requester
    others = (
        requester_ticket_rows(requester, leave_out=view.ticket.id, limit=REQUESTER_TICKETS_SHOWN)
        if requester is not None
        else []
    )
    return {
        "reply_to": view.reply_to or "",
        "files": [attachment_row(file) for file in view.files if file.comment_id is None],
        "requester_count": str(requester.ticket_count) if requester is not None else "",
        "other_tickets": others,
    }
