"""State event handlers run without a browser, on the `db` fixture's database.

Handlers read the session from the event socket's Cookie header, as in the browser; the tests
sign a user in through the service layer and hand the state that header.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM, TEST_PASSWORD
from ticket_app.models import Category, Priority
from ticket_app.schemas import TicketCreate, TicketFilters, TicketUpdate
from ticket_app.services.errors import DatabaseUnavailableError
from ticket_app.services.identity import sessions, users
from ticket_app.services.stats import ticket_stats
from ticket_app.services.tickets import create_ticket, get_ticket, list_ticket_events, update_ticket
from ticket_app.settings import get_settings
from ticket_app.triage import TriageSuggestion
from ticket_app.ui.logic.form import client_errors
from ticket_app.ui.logic.tickets import list_query, ticket_row
from ticket_app.ui.state import StatsState, TicketFormState, TicketListState
from ticket_app.ui.state import form as form_module
from ticket_app.ui.state import tickets as tickets_state
from ticket_app.ui.state.form import FAILED_NOTE, SLOW_NOTE, fetch_suggestion
from ticket_app.ui.state.stats import load_stats_view
from ticket_app.ui.state.ticket_io import PAGE_SIZE, load_page, save_field
from ticket_app.ui.state.views import load_nav, resolved_filters

SUGGESTION = TriageSuggestion(
    Category.BILLING, Priority.HIGH, 0.91, 0.72, "offline", "billing: refund"
)


def _drain(generator: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in generator]

    return asyncio.run(collect())


def _as(state: rx.State, cookie: str = "", path: str = "/") -> rx.State:
    """Give `state` the router data of a tab at `path` whose socket sent `cookie`."""
    state.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie} if cookie else {}, "pathname": path, "asPath": path}
    )
    return state


def _session_cookie(role: str = "agent") -> str:
    """Create a staff user with `role`, sign them in, and return the Cookie header."""
    email = f"{role}@example.com"
    users.create_user(email, role, TEST_PASSWORD, actor=SYSTEM)
    signed_in = sessions.sign_in(email, TEST_PASSWORD)
    return f"other=1; {sessions.SESSION_COOKIE}={signed_in.token}"


def _form(cookie: str = "", **values: Any) -> TicketFormState:
    state = _as(TicketFormState(_reflex_internal_init=True), cookie)
    for name, value in values.items():
        setattr(state, name, value)
    return state


def _list_state(cookie: str = "") -> TicketListState:
    return _as(TicketListState(_reflex_internal_init=True), cookie)


class _SlowClassifier:
    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        await asyncio.sleep(1)
        return SUGGESTION


class _BrokenClassifier:
    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        raise RuntimeError("model exploded")


class _FixedClassifier:
    async def suggest(self, description: str, title: str = "") -> TriageSuggestion:
        return SUGGESTION


def test_fetch_suggestion_quietly_reports_slow_and_failing_classifiers() -> None:
    assert asyncio.run(fetch_suggestion(_FixedClassifier(), "refund")) == (SUGGESTION, "")
    assert asyncio.run(fetch_suggestion(_SlowClassifier(), "refund", timeout=0.05)) == (
        None,
        SLOW_NOTE,
    )
    assert asyncio.run(fetch_suggestion(_BrokenClassifier(), "refund")) == (None, FAILED_NOTE)


def test_client_errors() -> None:
    assert client_errors("", " ") == {
        "title": "Title is required.",
        "description": "Description is required.",
    }
    assert "title" in client_errors("x" * 201, "ok")
    assert client_errors("ok", "ok") == {}


def test_suggestion_fills_only_untouched_selects(db: Engine) -> None:
    state = _form(_session_cookie("agent"), description="refund please")
    asyncio.run(state.set_priority("low"))
    state._take_suggestion(SUGGESTION, "refund please")
    assert (state.category, state.category_from_ai) == ("billing", True)
    assert (state.priority, state.priority_from_ai) == ("low", False)
    assert state.priority_overridden
    assert state.category_badge == "AI suggestion · high confidence"


def test_stale_suggestion_is_not_submitted() -> None:
    state = _form(description="refund please")
    state._take_suggestion(SUGGESTION, "refund please")
    held = state._held_suggestion()
    assert held == SUGGESTION
    assert type(held) is TriageSuggestion
    state.description = "refund please, and my login is broken"
    assert state._held_suggestion() is None


def test_submit_stores_ticket_with_the_held_suggestion_and_clears(db: Engine) -> None:
    state = _form(_session_cookie("agent"), title="Double charge", description="refund please")
    state._take_suggestion(SUGGESTION, "refund please")
    asyncio.run(state.set_priority("medium"))
    _drain(state.submit({}))
    assert state.title == state.description == ""
    assert state.form_error == ""
    stored = get_ticket(1)
    assert (stored.category, stored.priority) == (Category.BILLING, Priority.MEDIUM)
    assert (stored.suggested_category, stored.suggested_priority) == (
        Category.BILLING,
        Priority.HIGH,
    )
    events = list_ticket_events(1).items
    assert [(e.kind.value, e.actor) for e in events] == [("created", "agent@example.com")]


def test_submit_without_a_session_or_as_viewer_stores_nothing(db: Engine) -> None:
    anonymous = _form(title="Sneaky", description="refund please")
    outcome = [item for item in _drain(anonymous.submit({})) if item is not None]
    assert "/login" in str(outcome[0]) and not anonymous.submitting
    viewer = _form(_session_cookie("viewer"), title="Sneaky", description="refund please")
    outcome = [item for item in _drain(viewer.submit({})) if item is not None]
    assert "does not allow" in str(outcome[0]) and not viewer.submitting
    assert load_page(TicketFilters()).total == 0
    assert viewer.title == "Sneaky"


def test_signed_out_session_no_longer_counts(db: Engine) -> None:
    cookie = _session_cookie("agent")
    sessions.sign_out(cookie.split(f"{sessions.SESSION_COOKIE}=")[1])
    state = _form(cookie, title="After sign-out", description="refund please")
    outcome = [item for item in _drain(state.submit({})) if item is not None]
    assert "/login" in str(outcome[0])
    assert load_page(TicketFilters()).total == 0


def test_invalid_submission_keeps_everything_typed(db: Engine) -> None:
    state = _form(_session_cookie(), title="   ", description="text", category="billing")
    _drain(state.submit({}))
    assert state.errors == {"title": "Title is required."}
    assert (state.description, state.category) == ("text", "billing")
    assert load_page(TicketFilters()).total == 0


def test_database_down_keeps_everything_typed(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    async def unavailable(*args: Any, **kwargs: Any) -> None:
        raise DatabaseUnavailableError("down")

    cookie = _session_cookie()
    monkeypatch.setattr(form_module, "submit_ticket", unavailable)
    state = _form(cookie, title="Help", description="It broke", priority="high")
    _drain(state.submit({}))
    assert "database is unavailable" in state.form_error
    assert (state.title, state.description, state.priority) == ("Help", "It broke", "high")
    assert not state.submitting


def _ticket(title: str = "Printer", **fields: Any) -> int:
    data = TicketCreate(
        title=title, description="It is on fire", category="technical", priority="high", **fields
    )
    return create_ticket(data, actor=SYSTEM).id


def test_inline_edit_saves_and_a_refused_value_reverts(db: Engine) -> None:
    ticket_id = _ticket()
    state = _list_state(_session_cookie("agent"))
    state._set_pages([[ticket_row(get_ticket(ticket_id))]])
    _drain(state.update_field(str(ticket_id), "status", "resolved"))
    assert state.rows[0]["status"] == "resolved"
    assert get_ticket(ticket_id).status.value == "resolved"
    changed = list_ticket_events(ticket_id).items[-1]
    assert (changed.field, changed.old_value, changed.new_value, changed.actor) == (
        "status",
        "open",
        "resolved",
        "agent@example.com",
    )

    _drain(state.update_field(str(ticket_id), "priority", "apocalyptic"))
    assert state.rows[0]["priority"] == "high"
    assert get_ticket(ticket_id).priority.value == "high"
    assert state._saving == 0


def test_viewer_and_anonymous_inline_edits_change_nothing(db: Engine) -> None:
    ticket_id = _ticket()
    for cookie in ("", _session_cookie("viewer")):
        state = _list_state(cookie)
        state._set_pages([[ticket_row(get_ticket(ticket_id))]])
        _drain(state.update_field(str(ticket_id), "status", "closed"))
        assert state.rows[0]["status"] == "open"
    assert get_ticket(ticket_id).status.value == "open"
    assert [e.kind.value for e in list_ticket_events(ticket_id).items] == ["created"]


def test_anonymous_tab_reads_nothing(db: Engine) -> None:
    _ticket()
    state = _list_state()
    assert "/login" in str(asyncio.run(state.refresh()))
    state.next_cursor = "anything"
    assert "/login" in str(_drain(state.load_more())[0])
    assert state.rows == [] and state.total == 0
    stats = _as(StatsState(_reflex_internal_init=True))
    asyncio.run(stats.refresh())
    assert not stats.loaded


def test_save_field_refuses_other_fields(db: Engine) -> None:
    ticket_id = _ticket()
    with pytest.raises(ValueError, match="cannot be edited"):
        save_field(ticket_id, "title", "New title", SYSTEM)


def test_pages_follow_the_cursor_and_refresh_keeps_loaded_pages(db: Engine) -> None:
    ids = [_ticket(f"T{i}") for i in range(PAGE_SIZE + 5)]
    state = _list_state(_session_cookie("viewer"))
    asyncio.run(state._reload())
    assert len(state.rows) == PAGE_SIZE and state.next_cursor
    _drain(state.load_more())
    assert [int(row_id) for row_id in state.shown_ids()] == ids[::-1]
    assert state.next_cursor == ""

    newest = _ticket("Brand new")
    asyncio.run(state.refresh())
    assert state.rows[0]["id"] == str(newest)
    assert len(state.shown_ids()) == len(ids) + 1
    assert state.total == len(ids) + 1


def test_loading_page_n_reads_after_a_cursor_and_sends_only_the_new_rows(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Load more at row 475 costs what it costs at row 25 (issue 25).

    Each press is one keyset page read after the last row's cursor, and the browser's update
    holds only that page's rows, up to the 500th row (PAGE_SLOTS pages).
    """
    pages = tickets_state.PAGE_SLOTS
    for number in range(PAGE_SIZE * pages):
        _ticket(f"T{number}")
    reads: list[str | None] = []

    def counted(filters, cursor=None, sort=tickets_state.TicketSort.NEWEST):
        reads.append(cursor)
        return load_page(filters, cursor, sort)

    monkeypatch.setattr(tickets_state, "load_page", counted)
    state = _list_state(_session_cookie("viewer"))
    asyncio.run(state._reload())
    for page_number in range(1, pages):
        cursor = state.next_cursor
        state._clean()
        _drain(state.load_more())
        assert reads[-1] == cursor and cursor, "each page is read after the previous cursor"
        sent = [
            value
            for name, value in next(iter(state.get_delta().values())).items()
            if isinstance(value, list)
        ]
        assert [len(value) for value in sent] == [PAGE_SIZE], (page_number, sent)
    assert len(state.shown_ids()) == PAGE_SIZE * pages
    assert len(set(state.shown_ids())) == PAGE_SIZE * pages


def test_stats_state_shows_the_service_aggregates(db: Engine) -> None:
    _ticket()
    state = StatsState(_reflex_internal_init=True)
    state._apply(load_stats_view())
    assert (state.total_count, state.open_count) == (1, 1)
    state._apply(None)
    assert state.unavailable and state.total_count == 1


def test_stats_state_shows_created_and_resolved_over_the_chosen_period(db: Engine) -> None:
    """Issue 25 item 15: the dashboard's trend, for the period the select chose."""
    _ticket()
    state = StatsState(_reflex_internal_init=True)
    state._apply(load_stats_view(days=7))
    assert len(state.flow_rows) == 7
    assert state.flow_rows[-1]["created"] == 1
    assert state.flow_summary == "Last 7 days: 1 created, 0 resolved"


def test_description_counter_appears_near_the_limit_and_names_the_field() -> None:
    limit = get_settings().max_description_chars
    state = _form(description="x" * (limit // 2))
    assert not state.description_near_limit
    state.description = "x" * int(limit * 0.9)
    assert state.description_near_limit
    assert state.description_count == f"{int(limit * 0.9):,} / {limit:,}"
    state.description = "x" * (limit + 1)
    assert state.description_too_long
    assert state.description_error == f"Description must be at most {limit:,} characters."
    assert client_errors("Title", "x" * (limit + 1)) == {
        "description": f"Description must be at most {limit:,} characters."
    }


def test_unassigned_queue_counts_the_open_unassigned_tickets_the_dashboard_counts(
    db: Engine,
) -> None:
    waiting = [_ticket("Waiting one"), _ticket("Waiting two")]
    done = _ticket("Done without an owner")
    update_ticket(done, TicketUpdate(status="resolved"), actor=SYSTEM)
    users.create_user("lead@example.com", "agent", TEST_PASSWORD, actor=SYSTEM)
    agent = sessions.resolve_session(sessions.sign_in("lead@example.com", TEST_PASSWORD).token)
    assert agent is not None
    queues = {row["key"]: row for row in load_nav(agent).builtin}
    dashboard = {load.name: load.open for load in ticket_stats(workload=True).open_by_assignee}
    assert queues["unassigned"]["count"] == str(len(waiting)) == str(dashboard["Unassigned"])
    assert queues["all"]["count"] == "3"
    query = dict(parse_qsl(urlsplit(queues["unassigned"]["href"]).query))
    listed = load_page(resolved_filters(list_query(query), agent))
    assert sorted(ticket.id for ticket in listed.items) == sorted(waiting)


def test_queue_counts_beyond_the_cap_are_worded_as_the_list_total_is(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The navigation recounts every queue on each page load: beyond the count cap a queue
    that is not a plain enum filter says "N+" or "about N" instead of counting every ticket."""
    for n in range(4):
        _ticket(f"Waiting {n}")
    monkeypatch.setattr(get_settings(), "count_cap", 2)
    users.create_user("lead@example.com", "agent", TEST_PASSWORD, actor=SYSTEM)
    agent = sessions.resolve_session(sessions.sign_in("lead@example.com", TEST_PASSWORD).token)
    assert agent is not None
    queues = {row["key"]: row["count"] for row in load_nav(agent).builtin}
    assert queues["all"] == "4" and queues["open"] == "4"  # the trigger-kept counts: exact
    assert queues["unassigned"] == "2+" or queues["unassigned"].startswith("about ")
    assert queues["mine"] == "0"


def test_clearing_the_description_clears_its_suggestion(db: Engine) -> None:
    """Issue 25, item 13: the old title, category, priority and confidence stayed on screen."""
    titled = dataclasses.replace(SUGGESTION, suggested_title="Refund for a double charge")
    state = _form(_session_cookie("agent"), description="refund please")
    state._take_suggestion(titled, "refund please")
    assert (state.title, state.category, state.priority) == (
        "Refund for a double charge",
        "billing",
        "high",
    )

    assert asyncio.run(state.set_description("")) is None
    assert (state.title, state.category, state.priority) == ("", "", "")
    assert (state.suggested_category, state.suggested_priority) == ("", "")
    assert (state.category_badge, state.priority_badge, state.suggestion_reason) == ("", "", "")
    assert state._held_suggestion() is None


def test_clearing_the_description_keeps_what_the_agent_chose(db: Engine) -> None:
    state = _form(_session_cookie("agent"), description="refund please")
    asyncio.run(state.set_title("My own title"))
    asyncio.run(state.set_priority("low"))
    state._take_suggestion(SUGGESTION, "refund please")
    asyncio.run(state.set_description("   "))
    assert (state.title, state.category, state.priority) == ("My own title", "", "low")
    assert not state.priority_overridden  # no suggestion left to differ from
