"""State of the sign-in and first-admin pages.

Both pages post plain HTML forms to the API (`/api/auth/login`, `/api/auth/setup`), which set
the `HttpOnly` session cookie and redirect; these states only read the outcome from the URL
(`?error=...`) and skip the page when there is nothing to do on it.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from ticket_app.console_routes import safe_return_path
from ticket_app.services.errors import ServiceError
from ticket_app.services.identity.setup import has_admin
from ticket_app.ui.safe_events import redirect
from ticket_app.ui.state.session import actor_of


def sign_in_message(params: dict[str, str]) -> tuple[str, str]:
    """(message, tone) for the sign-in page from its query parameters; tone is red or green."""
    error = params.get("error", "")
    if error == "invalid":
        return "Email or password is incorrect.", "red"
    if error == "locked":
        seconds = params.get("retry", "")
        if not seconds.isdigit():
            wait = "a minute"
        else:
            wait = "a second" if int(seconds) <= 1 else f"{int(seconds)} seconds"
        return f"Too many failed sign-ins. Try again in {wait}.", "red"
    if error == "origin":
        return "The sign-in form came from another site; use this page.", "red"
    if params.get("signed_out"):
        return "You are signed out.", "green"
    return "", ""


class SignInState(rx.State):
    """The sign-in page: where to go afterwards and what went wrong last time."""

    next_path: str = "/"
    message: str = ""
    message_tone: str = ""

    @rx.event
    async def on_load(self):
        """Read `next` and `error` from the URL; go straight on if already signed in."""
        params = dict(self.router.url.query_parameters)
        self.next_path = safe_return_path(params.get("next"))
        self.message, self.message_tone = sign_in_message(params)
        if await actor_of(self) is not None:
            return redirect(self.next_path, replace=True)
        try:
            admin_exists = await asyncio.to_thread(has_admin)
        except ServiceError:
            return None
        if not admin_exists:
            return redirect("/setup", replace=True)
        return None


class SetupState(rx.State):
    """The one-time first-admin page."""

    message: str = ""
    email: str = ""
    name: str = ""

    @rx.event
    async def on_load(self):
        """Show the last error; leave for sign-in once an admin exists."""
        params = dict(self.router.url.query_parameters)
        self.message = params.get("error", "")
        self.email = params.get("email", "")
        self.name = params.get("name", "")
        try:
            admin_exists = await asyncio.to_thread(has_admin)
        except ServiceError:
            self.message = "The database is unavailable; try again in a moment."
            return None
        if admin_exists:
            return redirect("/login", replace=True)
        return None
