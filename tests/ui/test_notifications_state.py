"""The bell and the notifications page without a browser, on the `db` fixture's database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from tests.support.auth import actor_of, add_ticket
from tests.ui.test_mail_states import _tab
from tests.ui.test_states import _drain, _session_cookie
from ticket_app.enums import NotificationKind
from ticket_app.schemas import NotificationPreferenceRead, NotificationRead, TicketUpdate
from ticket_app.services.notification_preferences import get_preferences
from ticket_app.services.notifications import list_notifications
from ticket_app.services.tickets import update_ticket
from ticket_app.ui.logic.notifications import headline, notification_rows, preference_rows
from ticket_app.ui.state.notifications import NotificationPreferencesState, NotificationsState
from ticket_app.ui.state.ticket_page import TicketPageState

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _item(kind: NotificationKind, detail: str = "", read: bool = False) -> NotificationRead:
    return NotificationRead(
        id=7,
        kind=kind,
        ticket_id=42,
        ticket_title="VPN drops",
        actor="ann@example.com",
        detail=detail,
        created_at=NOW - timedelta(minutes=5),
        read_at=NOW if read else None,
    )


def test_headlines_say_what_happened() -> None:
    assert headline(_item(NotificationKind.ASSIGNED, "VPN drops")) == "Assigned to you"
    assert headline(_item(NotificationKind.SLA_BREACHED, "first response")) == (
        "Target broken: first response"
    )
    assert headline(_item(NotificationKind.SLA_WARNING, "resolution")) == "Target close: resolution"


def test_rows_carry_the_ticket_the_excerpt_of_a_reply_and_unread() -> None:
    [reply] = notification_rows([_item(NotificationKind.REPLIED, "Logs attached")], now=NOW)
    assert reply["ticket"] == "#42 VPN drops" and reply["excerpt"] == "Logs attached"
    assert reply["unread"] == "true" and reply["when"]
    [assigned] = notification_rows([_item(NotificationKind.ASSIGNED, "x", read=True)], now=NOW)
    assert assigned["excerpt"] == "" and assigned["unread"] == ""


def test_the_bell_counts_and_the_page_lists_and_marks_read(db: Engine) -> None:
    cookie = _session_cookie("agent")
    admin_cookie = _session_cookie("admin")
    agent = actor_of("agent@example.com")
    ticket_id = add_ticket()
    update_ticket(
        ticket_id, TicketUpdate(assignee_id=agent.user_id), actor=actor_of("admin@example.com")
    )

    bell = _tab(NotificationsState, cookie)
    asyncio.run(bell.start())
    assert bell.unread == 1 and bell.bell_label == "Notifications, 1 unread"

    page = _tab(NotificationsState, cookie, "/notifications")
    asyncio.run(page.on_load())
    [row] = page.rows
    assert row["headline"] == "Assigned to you" and row["ticket_id"] == str(ticket_id)
    asyncio.run(page.mark_all_read())
    assert page.unread == 0 and page.rows[0]["unread"] == ""

    # The admin who assigned it was told nothing.
    other = _tab(NotificationsState, admin_cookie)
    asyncio.run(other.start())
    assert other.unread == 0 and other.bell_label == "Notifications, none unread"


def test_opening_the_ticket_marks_its_notifications_read(db: Engine) -> None:
    cookie = _session_cookie("agent")
    _session_cookie("admin")
    agent, admin = actor_of("agent@example.com"), actor_of("admin@example.com")
    opened, other = add_ticket(), add_ticket("Another")
    for ticket_id in (opened, other):
        update_ticket(ticket_id, TicketUpdate(assignee_id=agent.user_id), actor=admin)
    page = _tab(TicketPageState, cookie, f"/tickets/{opened}")
    _drain(page.on_load())
    bell = asyncio.run(page.get_state(NotificationsState))
    assert bell.unread == 1
    remaining = list_notifications(actor=agent, unread_only=True).items
    assert [item.ticket_id for item in remaining] == [other]


def test_an_anonymous_tab_is_sent_to_sign_in(db: Engine) -> None:
    page = _tab(NotificationsState, "", "/notifications")
    assert asyncio.run(page.on_load()) is not None
    assert page.rows == []


def test_preference_rows_name_each_kind_and_its_choice() -> None:
    rows = preference_rows(
        [
            NotificationPreferenceRead(kind=NotificationKind.ASSIGNED, email=True),
            NotificationPreferenceRead(kind=NotificationKind.REPLIED, email=False),
        ]
    )
    assert rows == [
        {"kind": "assigned", "label": "A ticket is assigned to me", "email": "true"},
        {
            "kind": "replied",
            "label": "Someone replies on a ticket I own or follow",
            "email": "",
        },
    ]


def test_the_page_loads_and_saves_the_e_mail_choices(db: Engine) -> None:
    cookie = _session_cookie("viewer")
    page = _tab(NotificationPreferencesState, cookie, "/notifications")
    asyncio.run(page.load())
    assert [(row["kind"], row["email"]) for row in page.rows] == [
        ("assigned", "true"),
        ("replied", ""),
        ("sla_warning", ""),
        ("sla_breached", ""),
        ("mentioned", "true"),
    ]
    assert asyncio.run(page.set_email("replied", True)) is None
    assert asyncio.run(page.set_email("gossip", True)) is None
    assert {row["kind"]: row["email"] for row in page.rows}["replied"] == "true"
    stored = get_preferences(actor=actor_of("viewer@example.com"))
    assert [item.kind for item in stored if item.email] == [
        NotificationKind.ASSIGNED,
        NotificationKind.REPLIED,
        NotificationKind.MENTIONED,
    ]


def test_an_anonymous_tab_cannot_read_or_change_e_mail_choices(db: Engine) -> None:
    page = _tab(NotificationPreferencesState, "", "/notifications")
    assert asyncio.run(page.load()) is not None
    assert asyncio.run(page.set_email("replied", True)) is not None
    assert page.rows == []
