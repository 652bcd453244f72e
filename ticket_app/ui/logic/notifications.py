"""Notifications as the console lists them, and the choices of which are also e-mailed.

A notification: what happened, on which ticket, by whom, when.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from ticket_app.enums import NotificationKind
from ticket_app.schemas import NotificationPreferenceRead, NotificationRead
from ticket_app.ui.logic.tickets import relative_time

PAGE_SIZE = 50
"""How many notifications the page lists (the newest)."""

_WHAT = {
    NotificationKind.ASSIGNED: "Assigned to you",
    NotificationKind.REPLIED: "New reply",
    NotificationKind.SLA_WARNING: "Target close",
    NotificationKind.SLA_BREACHED: "Target broken",
    NotificationKind.MENTIONED: "Mentioned you",
}
_WITH_EXCERPT = (NotificationKind.REPLIED, NotificationKind.MENTIONED)


def headline(item: NotificationRead) -> str:
    """One line saying what happened: "Assigned to you", "Target broken: first response"."""
    what = _WHAT[item.kind]
    if item.kind in (NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACHED) and item.detail:
        return f"{what}: {item.detail}"
    return what


def notification_rows(
    items: Sequence[NotificationRead], now: datetime | None = None
) -> list[dict[str, str]]:
    """The notifications flattened to the strings the page renders (newest first, as given).

    `unread` is "true" or ""; `excerpt` is the text's first words for replies and mentions,
    else empty.
    """
    return [
        {
            "id": str(item.id),
            "ticket_id": str(item.ticket_id),
            "headline": headline(item),
            "ticket": f"#{item.ticket_id} {item.ticket_title}",
            "excerpt": item.detail if item.kind in _WITH_EXCERPT else "",
            "actor": item.actor,
            "when": relative_time(item.created_at.astimezone(UTC), now),
            "when_iso": item.created_at.astimezone(UTC).isoformat(),
            "unread": "" if item.read_at else "true",
        }
        for item in items
    ]


PREFERENCE_LABELS = {
    NotificationKind.ASSIGNED: "A ticket is assigned to me",
    NotificationKind.REPLIED: "Someone replies on a ticket I own or follow",
    NotificationKind.MENTIONED: "A colleague mentions me in a note",
    NotificationKind.SLA_WARNING: "A service-level target is close",
    NotificationKind.SLA_BREACHED: "A service-level target is broken",
}
"""What each kind of notification is, as the e-mail choices name it."""


def preference_rows(items: Sequence[NotificationPreferenceRead]) -> list[dict[str, str]]:
    """The e-mail choices as the page renders them, in the order given.

    Each row: `kind` (its value), `label` (what it is about) and `email` ("true" or "").
    """
    return [
        {
            "kind": item.kind.value,
            "label": PREFERENCE_LABELS[item.kind],
            "email": "true" if item.email else "",
        }
        for item in items
    ]
