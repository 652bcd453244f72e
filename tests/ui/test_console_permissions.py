"""Every console action that reads or changes data, for anonymous, viewer, agent and admin.

Each action is sent as the browser would (the event socket's Cookie header carries the session)
and its effect is checked in the database or the state; whether it may happen comes from the
permission table, so the console and the API cannot drift apart.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests.conftest import SYSTEM, TEST_PASSWORD
from ticket_app.models import Role, SavedView, TicketEvent
from ticket_app.schemas import TicketCreate, TicketFilters
from ticket_app.services.access import Action, role_allows
from ticket_app.services.database import service_session
from ticket_app.services.identity import sessions, users
from ticket_app.services.identity import tokens as identity_tokens
from ticket_app.services.tickets import create_ticket, get_ticket, list_tickets
from ticket_app.ui.logic.tickets import ticket_row
from ticket_app.ui.state import NavState, StatsState, TicketFormState, TicketListState
from ticket_app.ui.state.account import AccountState
from ticket_app.ui.state.admin import StaffState, TokensState
from ticket_app.ui.state.bulk import BulkState
from ticket_app.ui.state.sla_report import SlaReportState

ROLES: list[str | None] = [None, "viewer", "agent", "admin"]


def _run(outcome: Any) -> list[Any]:
    """Run a handler's result (value, coroutine or async generator) and list what it sent."""

    async def collect() -> list[Any]:
        if inspect.isasyncgen(outcome):
            return [item async for item in outcome]
        if inspect.iscoroutine(outcome):
            return [await outcome]
        return [outcome]

    return asyncio.run(collect())


def _state(cls: type[rx.State], cookie: str) -> Any:
    """`cls`'s state inside a whole state tree (a page's on_load asks for SessionState)."""
    router = RouterData.from_router_data(
        {"headers": {"cookie": cookie} if cookie else {}, "pathname": "/", "asPath": "/"}
    )
    root = rx.State(_reflex_internal_init=True)
    root.router = router
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.router = router
    return state


@dataclass
class World:
    """What the actions work on: one ticket, another staff member and one of their tokens."""

    ticket_id: int
    colleague: str
    colleague_token_id: int


def _new_ticket() -> int:
    data = TicketCreate(
        title="Printer", description="It is on fire", category="technical", priority="high"
    )
    return create_ticket(data, actor=SYSTEM).id


def _read_list(state: TicketListState, world: World) -> tuple[Any, Callable[[], bool]]:
    return state.refresh(), lambda: len(state.shown_ids()) == 1


def _load_more(state: TicketListState, world: World) -> tuple[Any, Callable[[], bool]]:
    _new_ticket()
    first = list_tickets(TicketFilters(), limit=1)
    state.next_cursor = first.next_cursor or ""
    return state.load_more(), lambda: len(state.shown_ids()) == 1


def _edit(state: TicketListState, world: World) -> tuple[Any, Callable[[], bool]]:
    state._set_pages([[ticket_row(get_ticket(world.ticket_id))]])
    outcome = state.update_field(str(world.ticket_id), "status", "closed")
    return outcome, lambda: get_ticket(world.ticket_id).status.value == "closed"


def _assign_to_me(state: TicketListState, world: World) -> tuple[Any, Callable[[], bool]]:
    state._set_pages([[ticket_row(get_ticket(world.ticket_id))]])
    outcome = state.assign_to_me(str(world.ticket_id))
    return outcome, lambda: get_ticket(world.ticket_id).assignee_id is not None


def _bulk(state: BulkState, world: World) -> tuple[Any, Callable[[], bool]]:
    state.selected, state.status = [str(world.ticket_id)], "resolved"
    return state.apply(), lambda: get_ticket(world.ticket_id).status.value == "resolved"


def _view_counts(state: NavState, world: World) -> tuple[Any, Callable[[], bool]]:
    return state.refresh_counts(), lambda: [v["count"] for v in state.builtin][-1:] == ["1"]


def _save_view(state: NavState, world: World) -> tuple[Any, Callable[[], bool]]:
    state.new_name = "Mine"
    outcome = state.save({"query": "?status=open&sort=-priority"})

    def saved() -> bool:
        with service_session() as session:
            mine = session.exec(select(SavedView).where(SavedView.name == "Mine")).first()
            return mine is not None

    return outcome, saved


def _stats(state: StatsState, world: World) -> tuple[Any, Callable[[], bool]]:
    return state.refresh(), lambda: state.loaded and state.total_count >= 1


def _sla_report(state: SlaReportState, world: World) -> tuple[Any, Callable[[], bool]]:
    return state.refresh(), lambda: state.loaded and len(state.compliance_rows) == 15


def _submit(state: TicketFormState, world: World) -> tuple[Any, Callable[[], bool]]:
    state.title, state.description = "New", "Please refund the double charge."
    state.category, state.priority = "billing", "low"
    return state.submit({}), lambda: list_tickets().total == 2


def _staff_list(state: StaffState, world: World) -> tuple[Any, Callable[[], bool]]:
    return state.on_load(), lambda: len(state.users) >= 2


def _invite(state: StaffState, world: World) -> tuple[Any, Callable[[], bool]]:
    state.new_email, state.new_role = "new@example.com", "agent"
    emails = lambda: {user.email for user in users.list_users()}  # noqa: E731
    return state.invite({}), lambda: "new@example.com" in emails()


def _change_role(state: StaffState, world: World) -> tuple[Any, Callable[[], bool]]:
    def promoted() -> bool:
        return any(u.email == world.colleague and u.role == Role.ADMIN for u in users.list_users())

    return state.change_role(world.colleague, "admin"), promoted


def _deactivate(state: StaffState, world: World) -> tuple[Any, Callable[[], bool]]:
    def deactivated() -> bool:
        return any(u.email == world.colleague and not u.is_active for u in users.list_users())

    return state.set_active(world.colleague, False), deactivated


def _tokens_list(state: TokensState, world: World) -> tuple[Any, Callable[[], bool]]:
    return state.on_load(), lambda: bool(state.tokens)


def _token_create(state: TokensState, world: World) -> tuple[Any, Callable[[], bool]]:
    state.new_name = "script"
    return state.create({}), lambda: state.created_secret.startswith("tdk_")


def _revoke_colleagues_token(state: TokensState, world: World) -> tuple[Any, Callable[[], bool]]:
    def revoked() -> bool:
        tokens = identity_tokens.list_tokens(actor=SYSTEM, owner_email=world.colleague)
        return tokens[0].revoked_at is not None

    return state.revoke(str(world.colleague_token_id)), revoked


def _reset_link(state: StaffState, world: World) -> tuple[Any, Callable[[], bool]]:
    colleague = next(u for u in users.list_users() if u.email == world.colleague)
    return state.reset_link(str(colleague.id)), lambda: state.issued_link.startswith("/reset/")


def _own_sessions(state: AccountState, world: World) -> tuple[Any, Callable[[], bool]]:
    return state.on_load(), lambda: any(row["current"] == "yes" for row in state.sessions)


def _change_own_password(state: AccountState, world: World) -> tuple[Any, Callable[[], bool]]:
    new = "quartz zebra lantern meadow"
    form = {"current_password": TEST_PASSWORD, "new_password": new, "confirm_password": new}

    def changed() -> bool:
        with service_session() as session:
            events = session.exec(select(TicketEvent).where(TicketEvent.field == "password"))
            return events.first() is not None

    return state.change_password(form), changed


CASES: dict[str, tuple[type[rx.State], Action, Callable[..., Any]]] = {
    "list tickets": (TicketListState, Action.TICKETS_READ, _read_list),
    "load more": (TicketListState, Action.TICKETS_READ, _load_more),
    "edit inline": (TicketListState, Action.TICKETS_EDIT, _edit),
    "assign to me": (TicketListState, Action.TICKETS_EDIT, _assign_to_me),
    "bulk change": (BulkState, Action.TICKETS_EDIT, _bulk),
    "view counts": (NavState, Action.TICKETS_READ, _view_counts),
    "save view": (NavState, Action.VIEWS_MANAGE_OWN, _save_view),
    "stats": (StatsState, Action.TICKETS_READ, _stats),
    "sla report": (SlaReportState, Action.TICKETS_READ, _sla_report),
    "submit ticket": (TicketFormState, Action.TICKETS_CREATE, _submit),
    "staff list": (StaffState, Action.STAFF_MANAGE, _staff_list),
    "invite staff": (StaffState, Action.STAFF_MANAGE, _invite),
    "change role": (StaffState, Action.STAFF_MANAGE, _change_role),
    "deactivate": (StaffState, Action.STAFF_MANAGE, _deactivate),
    "reset link": (StaffState, Action.STAFF_MANAGE, _reset_link),
    "own sessions": (AccountState, Action.ACCOUNT_MANAGE_OWN, _own_sessions),
    "change own password": (AccountState, Action.ACCOUNT_MANAGE_OWN, _change_own_password),
    "own tokens": (TokensState, Action.TOKENS_MANAGE_OWN, _tokens_list),
    "create token": (TokensState, Action.TOKENS_MANAGE_OWN, _token_create),
    "revoke another's token": (TokensState, Action.TOKENS_MANAGE_ALL, _revoke_colleagues_token),
}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
@pytest.mark.parametrize("case", list(CASES))
def test_console_action_follows_the_permission_table(
    db: Engine, case: str, role: str | None
) -> None:
    state_class, action, perform = CASES[case]
    users.create_user("colleague@example.com", "agent", TEST_PASSWORD, actor=SYSTEM)
    # The desk is set up (an admin exists): a page sends a tab without a session to sign in,
    # not to the first-admin setup.
    users.create_user("owner@example.com", "admin", TEST_PASSWORD, actor=SYSTEM)
    _, token = identity_tokens.create_token("colleague@example.com", "theirs", actor=SYSTEM)
    world = World(_new_ticket(), "colleague@example.com", token.id)
    cookie = ""
    if role is not None:
        users.create_user(f"{role}@example.com", role, TEST_PASSWORD, actor=SYSTEM)
        identity_tokens.create_token(f"{role}@example.com", "mine", actor=SYSTEM)
        signed_in = sessions.sign_in(f"{role}@example.com", TEST_PASSWORD)
        cookie = f"{sessions.SESSION_COOKIE}={signed_in.token}"

    outcome, happened = perform(_state(state_class, cookie), world)
    sent = " ".join(map(str, _run(outcome)))

    allowed = role_allows(role, action)
    assert happened() is allowed, f"{case} as {role or 'anonymous'}: {sent}"
    if role is None:
        assert "/login" in sent
    elif not allowed:  # a signed-in user is told no, not sent to sign in again
        assert "/login" not in sent and "error" in sent
