"""Issue 14's ticket-page handlers without a browser, on the `db` fixture's database.

Similar tickets on the page, merging one into another (both linked afterwards), a refused merge
shown as an alert, and the session and role checked by every merge handler.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.ui.test_states import _as, _drain, _session_cookie
from tests.ui.test_ticket_page_state import _page
from ticket_app.models import Category, Priority
from ticket_app.schemas import TicketCreate
from ticket_app.services.similarity import duplicates_of, merge_ticket
from ticket_app.services.tickets import create_ticket, get_ticket
from ticket_app.triage import TriageSuggestion
from ticket_app.ui.state.form import TicketFormState, find_similar

OUTAGE = (
    "Since the maintenance window last night our webhook endpoint receives no deliveries, so "
    "orders no longer sync to the warehouse."
)


def _ticket(title: str, description: str = OUTAGE) -> int:
    data = TicketCreate(title=title, description=description, category="technical", priority="high")
    return create_ticket(data, actor=SYSTEM).id


def test_the_page_lists_similar_tickets_and_merges_into_one(db: Engine) -> None:
    kept = _ticket("Webhook deliveries stopped after maintenance")
    duplicate = _ticket("Webhooks stopped after maintenance")
    state = _page(duplicate, _session_cookie("agent"))
    assert [row["id"] for row in state.similar] == [str(kept)]
    assert state.similar[0]["score"].endswith("%")

    _drain(state.ask_merge(str(kept)))
    assert (state.merge_into, state.merge_into_title) == (
        str(kept),
        "Webhook deliveries stopped after maintenance",
    )
    _drain(state.confirm_merge())
    stored = get_ticket(duplicate)
    assert (stored.duplicate_of_id, stored.status.value) == (kept, "closed")
    assert (state.fields["duplicate_of"], state.fields["status"]) == (str(kept), "closed")
    assert (state.similar, state.merge_into, state.merge_error) == ([], "", "")
    assert duplicates_of(kept) == [duplicate]

    kept_page = _page(kept)
    assert kept_page.duplicates == [str(duplicate)]


def test_a_refused_merge_is_shown_and_nothing_changes(db: Engine) -> None:
    target = _ticket("Webhook deliveries stopped after maintenance")
    elsewhere = _ticket("Printer jam", "Tray two jams every morning.")
    ticket = _ticket("Webhooks stopped after maintenance")
    state = _page(ticket, _session_cookie("agent"))
    _drain(state.ask_merge(str(target)))
    merge_ticket(target, elsewhere, actor=SYSTEM)
    _drain(state.confirm_merge())
    assert state.merge_error == (
        f"Not merged: ticket {target} is itself a duplicate of #{elsewhere}: merge into that one."
    )
    assert (get_ticket(ticket).duplicate_of_id, state.merge_into) == (None, "")


def test_merge_handlers_check_the_session_and_the_role(db: Engine) -> None:
    kept = _ticket("Webhook deliveries stopped after maintenance")
    duplicate = _ticket("Webhooks stopped after maintenance")
    anonymous = _page(duplicate)
    assert "/login" in str(_drain(anonymous.ask_merge(str(kept))))
    anonymous.merge_into = str(kept)
    assert "/login" in str(_drain(anonymous.confirm_merge()))
    viewer = _page(duplicate, _session_cookie("viewer"))
    assert "does not allow" in str(_drain(viewer.ask_merge(str(kept))))
    assert viewer.merge_into == ""
    viewer.merge_into = str(kept)
    assert "does not allow" in str(_drain(viewer.confirm_merge()))
    assert get_ticket(duplicate).duplicate_of_id is None


def test_the_form_finds_open_tickets_like_the_text_being_typed(db: Engine) -> None:
    known = _ticket("Webhook deliveries stopped after maintenance")
    rows = find_similar("Webhook deliveries stopped after the maintenance window; no orders sync")
    assert [row["id"] for row in rows] == [str(known)]
    assert find_similar("Completely unrelated words about gardening tulips") == []


def test_an_empty_title_takes_the_suggested_title_until_the_user_types(db: Engine) -> None:
    suggestion = TriageSuggestion(
        category=Category.TECHNICAL,
        priority=Priority.HIGH,
        category_confidence=0.9,
        priority_confidence=0.6,
        source="offline",
        reason="webhook",
        suggested_title="Webhook deliveries stopped",
    )
    state = _as(TicketFormState(_reflex_internal_init=True), _session_cookie("agent"))
    state.description = OUTAGE
    state._take_suggestion(suggestion, OUTAGE)
    assert (state.title, state.title_from_ai) == ("Webhook deliveries stopped", True)
    asyncio.run(state.set_title("Webhooks down"))
    state._take_suggestion(suggestion, OUTAGE)
    assert (state.title, state.title_from_ai) == ("Webhooks down", False)
