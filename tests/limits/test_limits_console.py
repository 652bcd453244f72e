"""Console changes spend the same per-user writes allowance as the API (issue 27, item 4).

One agent session sending new-ticket events over the event socket created 2,762 tickets in 65 s
against `RATE_LIMIT_WRITES` = 600/minute: console events never met the limit. Here every
console handler that changes something is sent as the browser would (the socket's Cookie
header), after the user's API token has used up their allowance, and must change nothing and
say why with a fixed toast; and console changes alone fill the bucket the API then refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests.conftest import SYSTEM, TEST_PASSWORD
from tests.ui.test_console_permissions import _run, _state
from ticket_app.api.app import create_api
from ticket_app.models import SavedView
from ticket_app.schemas import TicketCreate
from ticket_app.services.comments import list_comments
from ticket_app.services.database import service_session
from ticket_app.services.identity import sessions, tokens, users
from ticket_app.services.tickets import create_ticket, get_ticket, list_tickets
from ticket_app.settings import get_settings
from ticket_app.ui.logic.tickets import ticket_row
from ticket_app.ui.state import NavState, TicketFormState, TicketListState
from ticket_app.ui.state.admin import StaffState, TokensState
from ticket_app.ui.state.bulk import BulkState
from ticket_app.ui.state.session import TOO_MANY_CHANGES
from ticket_app.ui.state.ticket_io import load_view
from ticket_app.ui.state.ticket_page import TicketPageState

EMAIL = "lead@example.com"


class Desk:
    """An admin signed in to the console (`cookie`) who also holds an API token (`api`)."""

    def __init__(self, api: TestClient, cookie: str) -> None:
        self.api = api
        self.cookie = cookie

    def api_create(self, title: str = "From a script") -> int:
        response = self.api.post("/api/tickets/", json={"title": title, "description": "Text."})
        return response.status_code


@pytest.fixture
def desk(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """RATE_LIMIT_WRITES=2/minute, an admin with a token and a console session."""
    monkeypatch.setenv("RATE_LIMIT_WRITES", "2/minute")
    get_settings.cache_clear()
    users.create_user(EMAIL, "admin", TEST_PASSWORD, name="Lead", actor=SYSTEM)
    users.create_user("colleague@example.com", "agent", TEST_PASSWORD, actor=SYSTEM)
    secret, _ = tokens.create_token(EMAIL, "script", actor=SYSTEM)
    cookie = f"{sessions.SESSION_COOKIE}={sessions.sign_in(EMAIL, TEST_PASSWORD).token}"
    with TestClient(create_api(), headers={"Authorization": f"Bearer {secret}"}) as api:
        yield Desk(api, cookie)
    get_settings.cache_clear()


def _ticket(title: str = "Printer") -> int:
    data = TicketCreate(title=title, description="It is on fire", category="technical")
    return create_ticket(data, actor=SYSTEM).id


def _page(ticket_id: int, cookie: str) -> TicketPageState:
    state = _state(TicketPageState, cookie)
    state.shown_id = str(ticket_id)
    state._show(load_view(ticket_id, with_timeline=True))
    return state


Case = Callable[[str], tuple[Any, Callable[[], bool]]]


def _create(cookie: str) -> tuple[Any, Callable[[], bool]]:
    before = list_tickets().total
    state = _state(TicketFormState, cookie)
    state.title, state.description = "New", "Please refund the double charge."
    return state.submit({}), lambda: list_tickets().total == before + 1


def _inline_edit(cookie: str) -> tuple[Any, Callable[[], bool]]:
    ticket_id = _ticket()
    state = _state(TicketListState, cookie)
    state._set_pages([[ticket_row(get_ticket(ticket_id))]])
    outcome = state.update_field(str(ticket_id), "status", "closed")
    return outcome, lambda: get_ticket(ticket_id).status.value == "closed"


def _page_field(cookie: str) -> tuple[Any, Callable[[], bool]]:
    ticket_id = _ticket()
    outcome = _page(ticket_id, cookie).save_field("priority", "critical")
    return outcome, lambda: get_ticket(ticket_id).priority.value == "critical"


def _comment(cookie: str) -> tuple[Any, Callable[[], bool]]:
    ticket_id = _ticket()
    outcome = _page(ticket_id, cookie).send_comment({"body": "On my way."})
    return outcome, lambda: list_comments(ticket_id).total > 0


def _merge(cookie: str) -> tuple[Any, Callable[[], bool]]:
    kept, duplicate = _ticket("Printer"), _ticket("Printer again")
    state = _page(duplicate, cookie)
    state.merge_into = str(kept)
    return state.confirm_merge(), lambda: get_ticket(duplicate).duplicate_of_id == kept


def _bulk(cookie: str) -> tuple[Any, Callable[[], bool]]:
    ticket_id = _ticket()
    state = _state(BulkState, cookie)
    state.selected, state.status = [str(ticket_id)], "resolved"
    return state.apply(), lambda: get_ticket(ticket_id).status.value == "resolved"


def _save_view(cookie: str) -> tuple[Any, Callable[[], bool]]:
    state = _state(NavState, cookie)
    state.new_name = "Mine"

    def saved() -> bool:
        with service_session() as session:
            return session.exec(select(SavedView)).first() is not None

    return state.save({"query": "?status=open"}), saved


def _create_token(cookie: str) -> tuple[Any, Callable[[], bool]]:
    state = _state(TokensState, cookie)
    state.new_name = "another"
    return state.create({}), lambda: state.created_secret.startswith("tdk_")


def _invite(cookie: str) -> tuple[Any, Callable[[], bool]]:
    state = _state(StaffState, cookie)
    state.new_email, state.new_role = "new@example.com", "agent"
    return state.invite({}), lambda: any(
        user.email == "new@example.com" for user in users.list_users()
    )


def _change_role(cookie: str) -> tuple[Any, Callable[[], bool]]:
    state = _state(StaffState, cookie)
    return state.change_role("colleague@example.com", "viewer"), lambda: any(
        u.email == "colleague@example.com" and u.role.value == "viewer" for u in users.list_users()
    )


WRITES: dict[str, Case] = {
    "create ticket": _create,
    "inline edit": _inline_edit,
    "ticket page field": _page_field,
    "comment": _comment,
    "merge": _merge,
    "bulk change": _bulk,
    "save view": _save_view,
    "create token": _create_token,
    "invite staff": _invite,
    "change role": _change_role,
}


@pytest.mark.parametrize("case", list(WRITES))
def test_a_console_change_past_the_users_allowance_changes_nothing(desk: Desk, case: str) -> None:
    assert [desk.api_create(), desk.api_create()] == [201, 201]
    assert desk.api_create() == 429  # the allowance is spent

    outcome, happened = WRITES[case](desk.cookie)
    sent = " ".join(map(str, _run(outcome)))

    assert not happened(), f"{case} went through: {sent}"
    assert TOO_MANY_CHANGES in sent
    assert "/login" not in sent


@pytest.mark.parametrize("case", list(WRITES))
def test_a_console_change_within_the_allowance_goes_through(desk: Desk, case: str) -> None:
    outcome, happened = WRITES[case](desk.cookie)
    sent = " ".join(map(str, _run(outcome)))
    assert happened(), f"{case} was refused: {sent}"
    assert TOO_MANY_CHANGES not in sent


def test_console_creates_fill_the_bucket_the_api_then_refuses(desk: Desk) -> None:
    for _ in range(2):
        outcome, happened = _create(desk.cookie)
        _run(outcome)
        assert happened()
    outcome, happened = _create(desk.cookie)
    assert TOO_MANY_CHANGES in " ".join(map(str, _run(outcome)))
    assert not happened()
    assert list_tickets().total == 2
    refused = desk.api.post("/api/tickets/", json={"title": "Script", "description": "Text."})
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["type"] == "rate_limited"
    # Reads have their own bucket: the console and the API still show tickets.
    assert desk.api.get("/api/tickets/").status_code == 200
