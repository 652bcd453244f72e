"""The ticket page's event handlers without a browser, on the `db` fixture's database.

Each handler checks the session itself (a client can send any event): anonymous tabs go to
sign-in, viewers are refused, and nothing is written then.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.ui.test_states import _as, _drain, _session_cookie
from ticket_app.schemas import CommentCreate, TicketCreate, TicketUpdate
from ticket_app.services.access import Actor
from ticket_app.services.comments import add_comment, list_comments
from ticket_app.services.errors import DatabaseUnavailableError
from ticket_app.services.identity import sessions, users
from ticket_app.services.tickets import create_ticket, get_ticket, update_ticket
from ticket_app.ui.state import ticket_composer as composer_module
from ticket_app.ui.state.ticket_io import load_view
from ticket_app.ui.state.ticket_page import READY, TicketPageState


def _ticket() -> int:
    data = TicketCreate(
        title="Printer", description="It is on fire", category="technical", priority="high"
    )
    return create_ticket(data, actor=SYSTEM).id


def _page(ticket_id: int, cookie: str = "") -> TicketPageState:
    """A ticket page state showing `ticket_id` as its on_load would, for a tab with `cookie`."""
    state = _as(TicketPageState(_reflex_internal_init=True), cookie, f"/tickets/{ticket_id}")
    state.shown_id = str(ticket_id)
    state._show(load_view(ticket_id, with_timeline=True))
    return state


def _actor(cookie: str) -> Actor:
    """The actor behind a Cookie header from `_session_cookie`."""
    actor = sessions.resolve_session(cookie.split(f"{sessions.SESSION_COOKIE}=")[1])
    assert actor is not None
    return actor


def _other_actor() -> Actor:
    """A second staff member (an admin), as the other person editing the same ticket."""
    return _actor(_session_cookie("admin"))


def test_a_field_is_saved_and_shown(db: Engine) -> None:
    ticket_id = _ticket()
    state = _page(ticket_id, _session_cookie("agent"))
    _drain(state.save_field("status", "resolved"))
    assert get_ticket(ticket_id).status.value == "resolved"
    assert (state.fields["status"], state.save_note) == ("resolved", "Saved status.")
    assert state.timeline[-1]["what"] == "Status: Open → Resolved"

    agent_id = next(user.id for user in users.list_users() if user.email == "agent@example.com")
    _drain(state.save_field("assignee_id", str(agent_id)))
    assert get_ticket(ticket_id).assignee_id == agent_id
    _drain(state.save_field("assignee_id", ""))
    assert get_ticket(ticket_id).assignee_id is None


def test_a_refused_value_is_reported_under_its_field(db: Engine) -> None:
    ticket_id = _ticket()
    state = _page(ticket_id, _session_cookie("agent"))
    _drain(state.save_field("requester_email", "nope"))
    assert "email address" in state.field_errors["requester_email"]
    assert get_ticket(ticket_id).requester_email is None
    _drain(state.save_field("requester_email", "pat@example.com"))
    assert state.field_errors == {}
    assert get_ticket(ticket_id).requester_email == "pat@example.com"


def test_a_stale_save_warns_and_apply_anyway_saves_over_the_other_change(db: Engine) -> None:
    ticket_id = _ticket()
    state = _page(ticket_id, _session_cookie("agent"))
    update_ticket(ticket_id, TicketUpdate(priority="low"), actor=_other_actor())

    _drain(state.save_field("status", "closed"))
    assert state.conflict_by == "admin"  # named as the console names people, not by e-mail
    assert state.pending_text == "status: Closed"
    assert get_ticket(ticket_id).status.value == "open"

    _drain(state.apply_anyway())
    stored = get_ticket(ticket_id)
    assert (stored.status.value, stored.priority.value) == ("closed", "low")
    assert (state.conflict_by, state.save_note) == ("", "Saved status.")


def test_reload_drops_the_held_change_and_shows_the_stored_ticket(db: Engine) -> None:
    ticket_id = _ticket()
    state = _page(ticket_id, _session_cookie("agent"))
    update_ticket(ticket_id, TicketUpdate(title="Renamed"), actor=_other_actor())
    _drain(state.save_field("title", "Mine"))
    assert state.pending_field == "title"
    versions = dict(state.versions)

    _drain(state.reload())
    assert (state.conflict_by, state.pending_field) == ("", "")
    assert state.fields["title"] == "Renamed"
    assert state.versions["title"] > versions["title"]
    assert get_ticket(ticket_id).title == "Renamed"


def test_fresh_reads_warn_of_field_changes_by_others_but_take_their_comments(db: Engine) -> None:
    ticket_id = _ticket()
    cookie = _session_cookie("agent")
    state = _page(ticket_id, cookie)
    me = _actor(cookie)
    other = _other_actor()

    add_comment(ticket_id, CommentCreate(body="FYI", public=False), actor=other)
    state._take_fresh(load_view(ticket_id, with_timeline=True), me)
    assert state.conflict_by == ""
    assert state.timeline[-1]["kind"] == "note"
    _drain(state.save_field("priority", "low"))
    assert get_ticket(ticket_id).priority.value == "low"

    update_ticket(ticket_id, TicketUpdate(category="billing"), actor=other)
    state._take_fresh(load_view(ticket_id, with_timeline=True), me)
    assert state.conflict_by == "admin"
    # Nobody edits the category here: it follows the live ticket while the warning stands.
    assert state.fields["category"] == "billing"


def test_during_a_conflict_only_the_held_back_field_keeps_its_value(db: Engine) -> None:
    ticket_id = _ticket()
    cookie = _session_cookie("agent")
    state = _page(ticket_id, cookie)
    me, other = _actor(cookie), _other_actor()
    update_ticket(ticket_id, TicketUpdate(priority="low"), actor=other)
    _drain(state.save_field("status", "closed"))
    assert state.pending_field == "status"
    other_id = next(user.id for user in users.list_users() if user.email == "admin@example.com")
    update_ticket(
        ticket_id,
        TicketUpdate(status="in_progress", assignee_id=other_id, requester_name="Pat"),
        actor=other,
    )
    versions = dict(state.versions)

    state._take_fresh(load_view(ticket_id, with_timeline=True), me)
    assert state.conflict_by == "admin"
    assert (state.fields["priority"], state.fields["assignee_id"]) == ("low", str(other_id))
    assert state.fields["requester_name"] == "Pat"
    assert state.versions["requester_name"] == versions["requester_name"] + 1
    assert state.versions["title"] == versions["title"]
    assert state.fields["status"] == "open"  # the held-back change's field, as shown before
    assert state.timeline[-1]["who"] == "admin"
    assert state.pending_text == "status: Closed"


def test_reply_and_note_are_added_through_the_console_channel(db: Engine) -> None:
    ticket_id = _ticket()
    state = _page(ticket_id, _session_cookie("agent"))
    _drain(state.send_comment({"body": "Line one\nline two"}))
    asyncio.run(state.set_public_reply("note"))
    _drain(state.send_comment({"body": "Staff only"}))
    comments = list_comments(ticket_id).items
    assert [(c.body, c.public, c.channel.value) for c in comments] == [
        ("Line one\nline two", True, "console"),
        ("Staff only", False, "console"),
    ]
    assert [row["kind"] for row in state.timeline[-2:]] == ["reply", "note"]
    assert state.page == READY and state.conflict_by == ""


def test_a_failed_send_says_why_and_does_not_clear_the_composer(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise DatabaseUnavailableError("down")

    ticket_id = _ticket()
    state = _page(ticket_id, _session_cookie("agent"))
    monkeypatch.setattr(composer_module, "add_comment", unavailable)
    outcome = _drain(state.send_comment({"body": "Keep me"}))
    assert "database is unavailable" in state.composer_error
    assert "composer-body" not in str(outcome)
    assert not state.sending
    _drain(state.send_comment({"body": "   "}))
    assert state.composer_error == "Write a message first."


def test_handlers_check_the_session_and_the_role(db: Engine) -> None:
    ticket_id = _ticket()
    anonymous = _page(ticket_id)
    assert "/login" in str(_drain(anonymous.save_field("status", "closed")))
    assert "/login" in str(_drain(anonymous.send_comment({"body": "Hi"})))
    assert "/login" in str(_drain(anonymous.reload()))

    viewer = _page(ticket_id, _session_cookie("viewer"))
    assert "does not allow" in str(_drain(viewer.save_field("status", "closed")))
    assert "does not allow" in str(_drain(viewer.send_comment({"body": "Hi"})))
    assert get_ticket(ticket_id).status.value == "open"
    assert list_comments(ticket_id).total == 0
