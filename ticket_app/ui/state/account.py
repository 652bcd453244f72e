"""State of "My account" (one's password and sessions) and of the one-time password link page.

"My account" checks the session in every handler. The password form is an uncontrolled form:
the passwords arrive with its submit event only and are never kept in the state. The link page
(`/invite/<token>`, `/reset/<token>`) needs no session: it says whether the link can be used and
shows a plain HTML form posted to `/api/auth/password-link`, which sets the `HttpOnly` cookie.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC

import reflex as rx

from ticket_app.schemas import SessionRead
from ticket_app.services.access import Action
from ticket_app.services.errors import (
    InvalidInputError,
    LinkUnusableError,
    ServiceError,
    TooManyAttemptsError,
)
from ticket_app.services.identity import account as identity_account
from ticket_app.services.identity import links as identity_links
from ticket_app.services.identity.sessions import session_token_from_cookie_header
from ticket_app.services.rate_limits import WRITES
from ticket_app.ui.safe_events import toast_error, toast_success
from ticket_app.ui.state.session import authorize, open_page

UNAVAILABLE = "The database is unavailable; nothing was changed."
_LINK_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,100}")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def session_row(row: SessionRead) -> dict[str, str]:
    """One session as "My account" lists it (all values text; never the token)."""
    return {
        "id": str(row.id),
        "client": row.user_agent or "Unknown browser",
        "created": _when(row.created_at),
        "created_iso": row.created_at.astimezone(UTC).isoformat(),
        "last_seen": _when(row.last_seen_at),
        "last_seen_iso": row.last_seen_at.astimezone(UTC).isoformat(),
        "current": "yes" if row.current else "",
    }


def password_error_text(exc: ServiceError) -> str:
    """Why a password change was refused, in words for the page."""
    if isinstance(exc, InvalidInputError):
        if exc.field == "current_password":
            return "The current password is not correct."
        return f"New password {exc}"
    if isinstance(exc, TooManyAttemptsError):
        return f"Too many wrong passwords. Try again in {exc.retry_after} seconds."
    return UNAVAILABLE


class AccountState(rx.State):
    """My account: change one's password, list one's sessions, sign out the others."""

    sessions: list[dict[str, str]] = rx.field(default_factory=list)
    password_error: str = ""
    message: str = ""

    def _token(self) -> str | None:
        return session_token_from_cookie_header(self.router.headers.cookie)

    async def _reload(self, actor) -> None:
        token = self._token()
        rows = await asyncio.to_thread(
            lambda: identity_account.list_sessions(actor, session_token=token)
        )
        self.sessions = [session_row(row) for row in rows]

    @rx.event
    async def on_load(self):
        """Check the session (everyone signed in) and list its user's sessions."""
        actor, refusal = await open_page(self, Action.ACCOUNT_MANAGE_OWN)
        if actor is None:
            return refusal
        self.password_error = self.message = ""
        try:
            await self._reload(actor)
        except ServiceError:
            self.message = UNAVAILABLE
        return None

    @rx.event
    async def change_password(self, form_data: dict):
        """Change one's password (the current one required); the other sessions end."""
        actor, refusal = await authorize(self, Action.ACCOUNT_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        current = str(form_data.get("current_password") or "")
        new = str(form_data.get("new_password") or "")
        confirm = str(form_data.get("confirm_password") or "")
        if new != confirm:
            self.password_error = "The new password and its confirmation differ."
            return None
        token = self._token()
        try:
            ended = await asyncio.to_thread(
                lambda: identity_account.change_password(actor, current, new, session_token=token)
            )
            await self._reload(actor)
        except ServiceError as exc:
            self.password_error = password_error_text(exc)
            return None
        self.password_error = ""
        others = f" {ended} other session{'s' if ended != 1 else ''} signed out." if ended else ""
        return toast_success(f"Password changed.{others}")

    @rx.event
    async def sign_out_others(self):
        """Sign out every other session of this user (this one stays)."""
        actor, refusal = await authorize(self, Action.ACCOUNT_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        token = self._token()
        try:
            ended = await asyncio.to_thread(
                lambda: identity_account.sign_out_others(actor, session_token=token)
            )
            await self._reload(actor)
        except ServiceError:
            return toast_error(UNAVAILABLE)
        return toast_success(f"Signed out {ended} other session{'s' if ended != 1 else ''}.")

    @rx.event
    async def sign_out_session(self, session_id: str):
        """Sign out one other session of this user."""
        actor, refusal = await authorize(self, Action.ACCOUNT_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        try:
            await asyncio.to_thread(
                lambda: identity_account.sign_out_session(actor, int(session_id))
            )
            await self._reload(actor)
        except ValueError:
            return toast_error("Unknown session.")
        except ServiceError as exc:
            return toast_error(str(exc) if isinstance(exc, LookupError) else UNAVAILABLE)
        return toast_success("Session signed out.")


class PasswordLinkState(rx.State):
    """The page of an invitation or reset link: whether it works, and the form if it does."""

    token: str = ""
    """The link's token, from the page's path (it goes back in the form's hidden field)."""
    purpose: str = ""
    email: str = ""
    name: str = ""
    problem: str = ""
    """Why the link cannot be used ("" when it can)."""
    message: str = ""
    """What went wrong with the last form post (from `?error=`)."""

    @rx.var
    def heading(self) -> str:
        """The page's heading for the link's purpose."""
        if self.problem:
            return "This link cannot be used"
        return "Choose a new password" if self.purpose == "reset" else "Welcome to Triage Desk"

    @rx.event
    async def on_load(self):
        """Read the token from the path and ask whether its link can be used."""
        self.token = self.purpose = self.email = self.name = self.problem = ""
        self.message = dict(self.router.url.query_parameters).get("error", "")[:300]
        token = (self.router.url.path or "").rstrip("/").rsplit("/", 1)[-1]
        if not _LINK_TOKEN.fullmatch(token):
            self.problem = LinkUnusableError.MESSAGES["unknown"]
            return
        try:
            info = await asyncio.to_thread(identity_links.link_info, token)
        except LinkUnusableError as exc:
            self.problem = str(exc)
            return
        except ServiceError:
            self.problem = "The database is unavailable; try again in a moment."
            return
        self.token, self.purpose = token, info.purpose.value
        self.email, self.name = info.email, info.name
