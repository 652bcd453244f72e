"""Issue 25 without a browser: people named on the ticket page, the new-ticket form's requester.

Item 7: the page names staff by name, not by their actor label (an e-mail address); item 11:
the form stores the requester and opens the new ticket.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.ui.test_states import _drain, _form, _session_cookie
from ticket_app.services.tickets import get_ticket
from ticket_app.ui.logic.ticket_page import person_of


def test_actor_labels_become_names_and_tokens_keep_their_name() -> None:
    people = {"bea@example.com": "Bea Stone"}
    assert person_of("bea@example.com", people) == "Bea Stone"
    assert person_of("bea@example.com (token ci)", people) == "Bea Stone (token ci)"
    assert person_of("gone@example.com", people) == "gone@example.com"
    assert person_of("system", people) == "system"


def test_submit_stores_the_requester_and_opens_the_new_ticket(db: Engine) -> None:
    state = _form(
        _session_cookie("agent"),
        title="Double charge",
        description="refund please",
        requester_name=" Pat Doe ",
        requester_email="pat@example.com",
    )
    outcome = [item for item in _drain(state.submit({})) if item is not None]
    stored = get_ticket(1)
    assert (stored.requester_name, stored.requester_email) == ("Pat Doe", "pat@example.com")
    assert "/tickets/1" in str(outcome[-1])
    assert state.requester_name == state.requester_email == ""


def test_a_refused_requester_address_is_said_under_its_field(db: Engine) -> None:
    state = _form(
        _session_cookie("agent"),
        title="Double charge",
        description="refund please",
        requester_email="not an address",
    )
    _drain(state.submit({}))
    assert "email address" in state.errors["requester_email"]
    assert state.requester_email == "not an address"
