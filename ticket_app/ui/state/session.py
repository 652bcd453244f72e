"""Who is signed in to the console, checked on the server for every event that touches data.

The session cookie is `HttpOnly`: the browser sends it with the event socket's handshake and the
server reads it from there (`router.headers.cookie`); page script never sees it. Every handler
that reads or changes tickets calls `actor_of(self)` and asks the permission table, because a
client can send any event, not only the ones its page shows.

Also the two openings every page shares: `open_page` (a page's `on_load` session check) and
`watch_changes` (the loop that keeps an open page up to date while the session lasts).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import reflex as rx

from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import ServiceError
from ticket_app.services.identity.sessions import resolve_session
from ticket_app.services.identity.sessions import session_token_from_cookie_header as cookie_token
from ticket_app.services.identity.setup import has_admin
from ticket_app.services.identity.users import get_user
from ticket_app.services.rate_limits import shared_limiter, user_key
from ticket_app.services.tickets import change_marker
from ticket_app.settings import get_settings
from ticket_app.ui.safe_events import redirect, toast_error

logger = logging.getLogger(__name__)

ShownT = TypeVar("ShownT")
FreshT = TypeVar("FreshT")

SIGNED_OUT_NOTE = "Your session has ended; sign in again."
TOO_MANY_CHANGES = "Too many changes in a short time; nothing was saved. Try again in a minute."
ROLE_REFUSED = "Your role does not allow this."


async def actor_of(state: rx.State) -> Actor | None:
    """The signed-in actor of the browser tab that sent the current event, or None.

    None when there is no session cookie, the session is revoked, expired or idle, the user is
    deactivated, or the database cannot be reached.
    """
    token = cookie_token(state.router.headers.cookie)
    if token is None:
        return None
    try:
        return await asyncio.to_thread(resolve_session, token)
    except ServiceError as exc:
        logger.warning("session not checked: %s", exc)
        return None


async def _may_store(state: rx.State) -> bool:
    """Whether the tab's setters may keep what it sent.

    True with a valid session, and with a session cookie that cannot be checked because the
    database is unavailable (typing goes on while it recovers; every handler that reads or
    writes data checks the session again).
    """
    token = cookie_token(state.router.headers.cookie)
    if token is None:
        return False
    try:
        return await asyncio.to_thread(resolve_session, token) is not None
    except ServiceError:
        return True


def session_setter(setter: Callable[..., Any]) -> Callable[..., Any]:
    """Make a state setter (a handler that stores what the tab sent) work only with a session.

    Without a session the setter stores nothing and returns nothing, so a script that
    opens anonymous tabs cannot grow the server's state (every anonymous tab keeps its small
    defaults until it expires). With one, each text argument is cut to one character more than
    the longest description the API accepts: enough for every field's own "too long" message,
    and a bound on what one tab can make the server keep.

    Use it under `@rx.event`; the wrapped setter becomes a coroutine (one session lookup per
    call; inputs are debounced, so that is a few per second at most).
    """

    @functools.wraps(setter)
    async def guarded(self: rx.State, *args: Any, **kwargs: Any) -> Any:
        if not await _may_store(self):
            return None
        limit = get_settings().max_description_chars + 1

        def bounded(value: Any) -> Any:
            return value[:limit] if isinstance(value, str) else value

        return setter(self, *map(bounded, args), **{name: bounded(v) for name, v in kwargs.items()})

    return guarded


def sign_in_redirect(state: rx.State) -> rx.event.EventSpec:
    """Send the tab to the sign-in page, coming back to its current page (and query) after."""
    url = state.router.url
    here = (url.path or "/") + (f"?{url.query}" if url.query else "")
    return redirect(f"/login?next={quote(here, safe='')}", replace=True)


class SessionState(rx.State):
    """The signed-in user shown in the header, and what the console offers them."""

    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    signed_in: bool = False

    @rx.var
    def can_edit(self) -> bool:
        """Agents and admins triage; viewers only read."""
        return self.user_role in ("agent", "admin")

    @rx.var
    def is_admin(self) -> bool:
        """Admins also manage staff and every token."""
        return self.user_role == "admin"

    @rx.var
    def signed_in_as(self) -> str:
        """Header text, e.g. "Ana Diaz · agent"."""
        return f"{self.user_name} · {self.user_role}" if self.signed_in else ""

    async def _load(self) -> Actor | None:
        """Resolve the session and show who it is; None (and nothing shown) without one."""
        actor = await actor_of(self)
        if actor is None or actor.user_id is None:
            self.signed_in = False
            self.user_email = self.user_name = self.user_role = ""
            return None
        try:
            user = await asyncio.to_thread(get_user, actor.user_id)
        except ServiceError:
            return None
        self.user_email, self.user_name, self.user_role = user.email, user.name, user.role.value
        self.signed_in = True
        return actor

    async def admit(self, action: Action) -> tuple[Actor | None, rx.event.EventSpec | None]:
        """(the actor, None) when the signed-in user may do `action`; else (None, where to go).

        The session is read once. No session: the first-admin setup page while no admin exists,
        else sign-in. Signed in without the permission: the console.
        """
        actor = await self._load()
        if actor is None:
            try:
                admin_exists = await asyncio.to_thread(has_admin)
            except ServiceError:
                admin_exists = True
            if not admin_exists:
                return None, redirect("/setup", replace=True)
            return None, sign_in_redirect(self)
        if not actor.can(action):
            return None, redirect("/", replace=True)
        return actor, None


async def open_page(
    state: rx.State, action: Action
) -> tuple[Actor | None, rx.event.EventSpec | None]:
    """A page's `on_load` opening: (the actor, None), or (None, where to send the tab).

    Also shows who is signed in in the header (`SessionState`); the session is read once.
    """
    return await (await state.get_state(SessionState)).admit(action)


async def authorize(
    state: rx.State, action: Action, *, counts_as: str | None = None
) -> tuple[Actor | None, rx.event.EventSpec | None]:
    """(the actor, None) when the tab's user may do `action`; else (None, what to do instead).

    Without a valid session the tab goes to sign-in; a signed-in user without the permission
    gets a toast saying so (the server refused; nothing was read or changed). `counts_as` names
    the rate-limit bucket the action spends (services.rate_limits, e.g. WRITES for every
    change): the user's one allowance, shared with their API tokens. Over it, a toast says so
    and the handler must change nothing.
    """
    actor = await actor_of(state)
    if actor is None:
        return None, sign_in_redirect(state)
    if not actor.can(action):
        return None, toast_error(ROLE_REFUSED)
    if counts_as is not None and actor.user_id is not None:
        limiter = shared_limiter()
        if await limiter.hit(counts_as, user_key(actor.user_id)) is not None:
            return None, toast_error(TOO_MANY_CHANGES)
    return actor, None


@dataclass(frozen=True)
class Watched(Generic[ShownT]):
    """What a page shows, read under the state's lock at the start of a `watch_changes` round.

    `shown` is what the page's fetch needs (its filters, its ticket id); `seen` the change
    marker its data was read at; `busy` skips the round (a save whose answer must not be
    overtaken is under way).
    """

    shown: ShownT
    seen: str
    busy: bool = False


async def watch_changes(
    state: rx.State,
    every: float,
    *,
    watched: Callable[[], Watched[ShownT] | None],
    fetch: Callable[[Actor, ShownT], Awaitable[FreshT]],
    show: Callable[[Actor, Watched[ShownT], FreshT, str], Awaitable[bool]],
    outage: Callable[[bool], None],
) -> None:
    """Every `every` seconds, re-read what `state`'s page shows when tickets changed.

    The body of a page's background `poll`. Each round reads `watched()` and the session under
    the state's lock; the loop ends when the tab's user may no longer read tickets (signed out,
    expired, deactivated) or `watched()` returns None (the tab left the page). Then it asks the
    cheap change marker and calls `fetch(actor, shown)` (outside the lock) only when the marker
    moved, so an idle console costs one index lookup per round. `show(actor, watched, fresh,
    marker)` applies the result under the lock and returns whether to go on. `outage(True)` is
    called under the lock when the database could not be read (a ServiceError), `outage(False)`
    when a round found nothing changed.
    """
    while True:
        await asyncio.sleep(every)
        async with state:
            look = watched()
            actor = await actor_of(state)
        if actor is None or not actor.can(Action.TICKETS_READ) or look is None:
            return
        if look.busy:
            continue
        try:
            marker = await asyncio.to_thread(change_marker)
            if marker == look.seen:
                async with state:
                    outage(False)
                continue
            fresh = await fetch(actor, look.shown)
        except ServiceError:
            async with state:
                outage(True)
            continue
        async with state:
            if not await show(actor, look, fresh, marker):
                return
