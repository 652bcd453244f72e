"""The ticket page's plain functions: URL ids, field updates, flattening, conflict detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ticket_app.models import ActorKind, Category, CommentChannel, EventKind, Priority, Role, Status
from ticket_app.schemas import CommentRead, EventRead, TicketRead, TimelineEntry, UserRead
from ticket_app.ui.logic.ticket_page import (
    TicketView,
    field_update,
    latest_other_change,
    ticket_fields,
    ticket_id_from_path,
    timeline_rows,
)

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _ticket(**changes: object) -> TicketRead:
    values: dict[str, object] = {
        "id": 7,
        "title": "Printer on fire",
        "description": "Line one\nline two",
        "category": Category.TECHNICAL,
        "priority": Priority.HIGH,
        "status": Status.IN_PROGRESS,
        "suggested_category": Category.BILLING,
        "suggested_priority": None,
        "created_at": T0,
        "updated_at": T0 + timedelta(hours=1),
    }
    return TicketRead(**{**values, **changes})


def _user(user_id: int, name: str) -> UserRead:
    return UserRead(
        id=user_id,
        email=f"{name.lower()}@example.com",
        name=name,
        role=Role.AGENT,
        is_active=True,
        created_at=T0,
        last_login_at=None,
    )


def _event(
    event_id: int, actor: str, at: datetime, kind: EventKind = EventKind.CHANGED, **values: str
) -> TimelineEntry:
    event = EventRead(
        id=event_id,
        ticket_id=7,
        actor_kind=ActorKind.USER,
        actor_user_id=None,
        actor_label=actor,
        kind=kind,
        field=values.get("field"),
        old_value=values.get("old"),
        new_value=values.get("new"),
        created_at=at,
    )
    return TimelineEntry(kind="event", created_at=at, actor=actor, event=event)


def _comment(comment_id: int, actor: str, at: datetime, *, public: bool) -> TimelineEntry:
    comment = CommentRead(
        id=comment_id,
        ticket_id=7,
        author=actor,
        author_id=1,
        author_name="Ana Diaz",
        body="<b>Hi</b>\nthere",
        public=public,
        channel=CommentChannel.CONSOLE,
        created_at=at,
    )
    return TimelineEntry(kind="comment", created_at=at, actor=actor, comment=comment)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/tickets/12", 12),
        ("/tickets/12/", 12),
        ("/tickets/0", None),
        ("/tickets/abc", None),
        ("/tickets/١٢", None),
        ("/tickets/99999999999999999999999", None),
        ("/tickets/12/extra", None),
        ("/other/12", None),
        ("/", None),
    ],
)
def test_ticket_id_from_path(path: str, expected: int | None) -> None:
    assert ticket_id_from_path(path) == expected


def test_field_update_clears_optional_fields_and_validates() -> None:
    assert field_update("requester_name", "  ").model_dump(exclude_unset=True) == {
        "requester_name": None
    }
    assert field_update("assignee_id", "").model_dump(exclude_unset=True) == {"assignee_id": None}
    assert field_update("assignee_id", "3").assignee_id == 3
    assert field_update("status", "closed").status == Status.CLOSED
    assert field_update("title", "  Spaces  ").model_dump(exclude_unset=True) == {"title": "Spaces"}
    for field, value in [
        ("title", "   "),
        ("requester_email", "not an address"),
        ("priority", "urgent"),
        ("assignee_id", "me"),
    ]:
        with pytest.raises(ValidationError):
            field_update(field, value)
    with pytest.raises(ValueError, match="cannot be edited"):
        field_update("external_id", "x")


def test_ticket_fields_flatten_for_display() -> None:
    fields = ticket_fields(_ticket(assignee_id=4, requester_email="r@example.com"), {4: "Bo"})
    assert fields["id"] == "7"
    assert fields["description"] == "Line one\nline two"
    assert (fields["status"], fields["assignee_id"], fields["assignee_name"]) == (
        "in_progress",
        "4",
        "Bo",
    )
    assert (fields["requester_name"], fields["requester_email"]) == ("", "r@example.com")
    assert fields["suggestion"] == "Billing"
    assert fields["created_exact"] == "2025-03-01 09:30 UTC"
    assert fields["updated_iso"] == "2025-03-01T10:30:00+00:00"
    assert ticket_fields(_ticket(), {})["assignee_name"] == "Unassigned"


def test_timeline_rows_tell_replies_notes_and_events_apart() -> None:
    entries = [
        _event(1, "intake", T0, EventKind.CREATED),
        _event(2, "ana@example.com", T0, field="status", old="open", new="in_progress"),
        _event(3, "ana@example.com", T0, field="assignee_id", old=None, new="4"),
        _comment(1, "ana@example.com", T0, public=True),
        _comment(2, "ana@example.com", T0, public=False),
    ]
    rows = timeline_rows(entries, {4: "Bo"})
    assert [row["kind"] for row in rows] == ["event", "event", "event", "reply", "note"]
    assert [row.get("what") for row in rows[:3]] == [
        "Created",
        "Status: Open → In progress",
        "Assignee: Unassigned → Bo",
    ]
    assert rows[3]["body"] == "<b>Hi</b>\nthere"
    assert rows[3]["who"] == "Ana Diaz"
    assert len({row["key"] for row in rows}) == len(rows)


def test_latest_other_change_counts_field_changes_by_others_after_the_base() -> None:
    since = T0
    mine = _event(1, "me@example.com", T0 + timedelta(seconds=5), field="status")
    before = _event(2, "bo@example.com", T0 - timedelta(seconds=5), field="status")
    comment = _comment(1, "cy@example.com", T0 + timedelta(seconds=6), public=True)
    assert latest_other_change([mine, before, comment], since, "me@example.com") is None
    first = _event(3, "bo@example.com", T0 + timedelta(seconds=7), field="priority")
    last = _event(4, "cy@example.com", T0 + timedelta(seconds=8), field="category")
    assert latest_other_change([mine, first, last], since, "me@example.com") == "cy@example.com"


def test_assignee_choices_keep_a_current_assignee_who_is_no_longer_assignable() -> None:
    staff = [_user(1, "Ana"), _user(2, "Bo")]
    view = TicketView(_ticket(assignee_id=9), '"e"', [], staff, _user(9, "Cy"))
    assert view.names == {1: "Ana", 2: "Bo", 9: "Cy"}
    assert view.assignee_choices() == [
        {"value": "", "label": "Unassigned"},
        {"value": "1", "label": "Ana"},
        {"value": "2", "label": "Bo"},
        {"value": "9", "label": "Cy (not assignable)"},
    ]
