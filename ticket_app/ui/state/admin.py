"""State of the staff page (admins) and the API tokens page (everyone signed in).

Every handler checks the session and the permission table on the server before it reads or
changes anything; the services check again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC

import reflex as rx

from ticket_app.enums import PasswordLinkPurpose
from ticket_app.schemas import TokenRead, UserRead
from ticket_app.services.access import Action, Actor, Scope
from ticket_app.services.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServiceError,
)
from ticket_app.services.identity import links as identity_links
from ticket_app.services.identity import tokens as identity_tokens
from ticket_app.services.identity import users as identity_users
from ticket_app.services.rate_limits import WRITES
from ticket_app.ui.safe_events import toast_error, toast_success
from ticket_app.ui.state.focus import focus_when_rendered
from ticket_app.ui.state.session import (
    ROLE_REFUSED,
    SessionState,
    authorize,
    open_page,
    session_setter,
)

logger = logging.getLogger(__name__)

EXPIRY_CHOICES = {"never": None, "30": 30, "90": 90, "365": 365}


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"


def _iso(value) -> str:
    """A time for `<time datetime>` (shown in the viewer's zone by the page), or ""."""
    return value.astimezone(UTC).isoformat() if value is not None else ""


def user_row(user: UserRead, *, invited: bool = False) -> dict[str, str]:
    """One staff user as the staff table shows it (all values text).

    `invited`: they were invited and have not accepted yet (`links.awaiting_acceptance`), shown
    as an "Invited" label.
    """
    return {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "active": "yes" if user.is_active else "no",
        "last_login": _when(user.last_login_at),
        "last_login_iso": _iso(user.last_login_at),
        "invited": "yes" if invited else "",
    }


def load_user_rows() -> list[dict[str, str]]:
    """Every staff user as a `user_row`, invitations not yet accepted marked (blocking)."""
    invited = identity_links.awaiting_acceptance()
    return [user_row(u, invited=u.id in invited) for u in identity_users.list_users()]


def toggle_id(action: str, user_id: str) -> str:
    """DOM id of a staff row's "Deactivate" or "Reactivate" button (`action` is the word)."""
    return f"{action}-{user_id}"


def token_row(token: TokenRead) -> dict[str, str]:
    """One API token as the tokens table shows it (never the secret)."""
    if token.revoked_at is not None:
        state = "revoked"
    else:
        state = "active" if identity_tokens.expires_in(token.expires_at) != "expired" else "expired"
    return {
        "id": str(token.id),
        "owner": token.user_email,
        "name": token.name,
        "prefix": token.prefix + "…",
        "scopes": ", ".join(token.scopes),
        "created": _when(token.created_at),
        "expires": identity_tokens.expires_in(token.expires_at) if token.expires_at else "never",
        "last_used": _when(token.last_used_at),
        "last_used_iso": _iso(token.last_used_at),
        "state": state,
    }


async def open_admin_page(state: rx.State, action: Action) -> tuple[Actor | None, object]:
    """The staff and tokens pages' `on_load` opening: `open_page`, the session read once.

    (the actor, None), or (None, what to send): setup or sign-in without a session; for a
    signed-in user without `action`, the console and a toast saying their role does not allow
    this page.
    """
    actor, refusal = await open_page(state, action)
    if actor is not None or not (await state.get_state(SessionState)).signed_in:
        return actor, refusal
    return None, [refusal, toast_error(ROLE_REFUSED, page="/")]


def failure_text(exc: ServiceError) -> str:
    """Why a staff or token change was refused, in words for the page."""
    if isinstance(exc, InvalidInputError):
        return f"{exc.field.replace('_', ' ').capitalize()}: {exc}"
    if isinstance(exc, PermissionDeniedError):
        return "Your role does not allow this."
    if isinstance(exc, NotFoundError):
        return str(exc)
    return "The database is unavailable; nothing was changed."


class StaffState(rx.State):
    """Staff list, invitations (new accounts), reset links, role changes and deactivation.

    Inviting makes the account and a one-time link with which its owner sets their password;
    "Reset link" makes one for an existing account. The link is e-mailed to the person when it
    can be, and shown once (`issued_link`) with `issued_mail` saying whether it was e-mailed
    (else why not, and to pass it on); it is forgotten when dismissed or when the page loads
    again.

    Deactivating asks first: "Deactivate" opens a dialog naming the person (Cancel has focus,
    so Enter alone never deactivates) and only its destructive button deactivates. When the
    dialog has closed, focus goes back to that person's row (their Reactivate button after a
    deactivation, their Deactivate button after Cancel), never to the row that took its place
    when the table re-sorted.
    """

    users: list[dict[str, str]] = rx.field(default_factory=list)
    new_email: str = ""
    new_name: str = ""
    new_role: str = "agent"
    message: str = ""
    issued_link: str = ""
    """The invitation or reset link just made (shown once; "" when none is shown)."""
    issued_note: str = ""
    """What the shown link is, e.g. "Invitation for ann@example.com, expires ..."."""
    issued_mail: str = ""
    """Whether the shown link was e-mailed: "Invitation e-mailed to ann@example.com." or
    "Not e-mailed (no active mailbox to send from): pass this link on."."""
    issued_emailed: bool = False

    confirm_email: str = ""
    """Email of the person the deactivation dialog asks about ("" when it is closed)."""
    confirm_label: str = ""
    """That person as the dialog names them: "Name (email)"."""
    deactivating: bool = False
    _return_focus: str = ""
    """DOM id that gets focus once the dialog has closed."""

    async def _admin(self, counts_as: str | None = None) -> tuple[Actor | None, object]:
        return await authorize(self, Action.STAFF_MANAGE, counts_as=counts_as)

    async def _reload(self) -> None:
        self.users = await asyncio.to_thread(load_user_rows)

    @rx.event
    async def on_load(self):
        """Check the session (admins only, see `open_admin_page`) and load the staff list."""
        actor, refusal = await open_admin_page(self, Action.STAFF_MANAGE)
        if actor is None:
            return refusal
        self.issued_link = self.issued_note = self.issued_mail = ""
        try:
            await self._reload()
        except ServiceError as exc:
            self.message = failure_text(exc)
        return None

    @rx.event
    @session_setter
    def set_new_email(self, value: str) -> None:
        """Store the typed email of the new user."""
        self.new_email = value

    @rx.event
    @session_setter
    def set_new_name(self, value: str) -> None:
        """Store the typed name of the new user."""
        self.new_name = value

    @rx.event
    @session_setter
    def set_new_role(self, value: str) -> None:
        """Store the chosen role of the new user."""
        self.new_role = value

    def _show_link(self, issued: identity_links.IssuedLink, what: str) -> str:
        """Show the link and whether it was e-mailed; returns the toast's words about the mail."""
        self.issued_link = issued.url
        self.issued_note = f"{what} for {issued.user.email}, expires {_when(issued.expires_at)}"
        self.issued_emailed = issued.emailed
        if issued.emailed:
            self.issued_mail = f"{what} e-mailed to {issued.user.email}."
            return "The link was e-mailed."
        self.issued_mail = f"Not e-mailed ({issued.not_emailed_reason}): pass this link on."
        return "Pass the link on: it is shown once."

    @rx.event
    async def invite(self, form_data: dict):
        """Create the account with the typed email, name and role, and show its invitation link."""
        del form_data  # the controlled fields hold the values
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            return refusal
        try:
            issued = await asyncio.to_thread(
                lambda: identity_links.invite_user(
                    self.new_email, self.new_role, name=self.new_name, actor=actor
                )
            )
            await self._reload()
        except ServiceError as exc:
            self.message = failure_text(exc)
            return toast_error(self.message)
        self.new_email = self.new_name = ""
        self.message = ""
        mailed = self._show_link(issued, "Invitation")
        return toast_success(f"{issued.user.email} is invited. {mailed}")

    @rx.event
    async def reset_link(self, user_id: str):
        """Make a password reset link for that user (their older links stop) and show it."""
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            return refusal
        try:
            issued = await asyncio.to_thread(
                lambda: identity_links.issue_link(
                    int(user_id), PasswordLinkPurpose.RESET, actor=actor
                )
            )
        except (ServiceError, ValueError) as exc:
            return toast_error(failure_text(exc) if isinstance(exc, ServiceError) else "Unknown.")
        mailed = self._show_link(issued, "Reset link")
        return toast_success(f"Reset link for {issued.user.email} made. {mailed}")

    @rx.event
    def dismiss_link(self) -> None:
        """Hide the shown link (it cannot be shown again)."""
        self.issued_link = self.issued_note = self.issued_mail = ""

    @rx.event
    async def change_role(self, email: str, role: str):
        """Give a user another role; their open sessions end."""
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            return refusal
        try:
            await asyncio.to_thread(lambda: identity_users.set_role(email, role, actor=actor))
            await self._reload()
        except ServiceError as exc:
            await self._reload()
            return toast_error(failure_text(exc))
        return toast_success(f"{email} is now {role}.")

    @rx.event
    async def set_active(self, email: str, active: bool):
        """Deactivate (sessions and tokens stop at once) or reactivate a user.

        The page reactivates with it directly; it deactivates only through the dialog
        (`ask_deactivate`, then `confirm_deactivate`).
        """
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            return refusal
        try:
            await asyncio.to_thread(lambda: identity_users.set_active(email, active, actor=actor))
            await self._reload()
        except ServiceError as exc:
            return toast_error(failure_text(exc))
        return toast_success(f"{email} {'reactivated' if active else 'deactivated'}.")

    def _close_confirm(self) -> None:
        self.confirm_email = self.confirm_label = ""

    @rx.event
    async def ask_deactivate(self, email: str):
        """Open the dialog that asks whether to deactivate `email` (nothing changes yet)."""
        actor, refusal = await self._admin()
        if actor is None:
            return refusal
        user = next((u for u in self.users if u["email"] == email), None)
        if user is None or self.deactivating:
            return None
        self.confirm_email = email
        self.confirm_label = f"{user['name']} ({email})" if user["name"] else email
        self._return_focus = toggle_id("deactivate", user["id"])
        return None

    @rx.event
    @session_setter
    def confirm_dialog_changed(self, is_open: bool) -> None:
        """The dialog asked to close (Cancel, Esc): cancel unless a deactivation is running."""
        if not is_open and not self.deactivating:
            self._close_confirm()

    @rx.event
    async def confirm_deactivate(self) -> AsyncIterator:
        """Deactivate the person the dialog names; their sessions and tokens stop at once."""
        actor, refusal = await self._admin(counts_as=WRITES)
        if actor is None:
            self._close_confirm()
            yield refusal
            return
        email = self.confirm_email
        if not email or self.deactivating:
            return
        self.deactivating = True
        yield
        try:
            await asyncio.to_thread(lambda: identity_users.set_active(email, False, actor=actor))
            await self._reload()
        except ServiceError as exc:
            self.deactivating = False
            self._close_confirm()
            yield toast_error(failure_text(exc))
            return
        user = next((u for u in self.users if u["email"] == email), None)
        if user is not None:
            self._return_focus = toggle_id("reactivate", user["id"])
        self.deactivating = False
        self._close_confirm()
        yield toast_success(f"{email} deactivated.")

    @rx.event
    def return_focus(self):
        """The dialog has closed: focus the row it was opened from (see the class doc)."""
        target, self._return_focus = self._return_focus, ""
        return focus_when_rendered(target) if target else None


class TokensState(rx.State):
    """Personal API tokens: create (shown once), list, revoke. Admins see every token."""

    tokens: list[dict[str, str]] = rx.field(default_factory=list)
    new_name: str = ""
    new_scope: str = "read_write"
    new_expiry: str = "90"
    created_secret: str = ""
    message: str = ""

    async def _reload(self, actor: Actor) -> None:
        tokens = await asyncio.to_thread(lambda: identity_tokens.list_tokens(actor=actor))
        self.tokens = [token_row(t) for t in tokens]

    @rx.event
    async def on_load(self):
        """Check the session (see `open_admin_page`) and load the tokens this user may see."""
        actor, refusal = await open_admin_page(self, Action.TOKENS_MANAGE_OWN)
        if actor is None:
            return refusal
        self.created_secret = ""
        try:
            await self._reload(actor)
        except ServiceError as exc:
            self.message = failure_text(exc)
        return None

    @rx.event
    @session_setter
    def set_new_name(self, value: str) -> None:
        """Store the typed token name."""
        self.new_name = value

    @rx.event
    @session_setter
    def set_new_scope(self, value: str) -> None:
        """read, write or read_write."""
        self.new_scope = value

    @rx.event
    @session_setter
    def set_new_expiry(self, value: str) -> None:
        """Days until expiry, or "never"."""
        self.new_expiry = value

    @rx.event
    async def create(self, form_data: dict):
        """Create a token for the signed-in user and show its secret once."""
        del form_data
        actor, refusal = await authorize(self, Action.TOKENS_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        scopes = {
            "read": Scope.TICKETS_READ.value,
            "write": Scope.TICKETS_WRITE.value,
        }.get(self.new_scope, f"{Scope.TICKETS_READ.value},{Scope.TICKETS_WRITE.value}")
        try:
            me = await asyncio.to_thread(identity_users.get_user, actor.user_id)
            secret, info = await asyncio.to_thread(
                lambda: identity_tokens.create_token(
                    me.email,
                    self.new_name,
                    scopes=scopes,
                    expires_days=EXPIRY_CHOICES.get(self.new_expiry),
                    actor=actor,
                )
            )
            await self._reload(actor)
        except ServiceError as exc:
            self.message = failure_text(exc)
            return toast_error(self.message)
        self.created_secret = secret
        self.new_name = ""
        self.message = ""
        return toast_success(f"Token “{info.name}” created. Copy it now: it is shown once.")

    @rx.event
    async def revoke(self, token_id: str):
        """Revoke a token; it stops working at once."""
        actor, refusal = await authorize(self, Action.TOKENS_MANAGE_OWN, counts_as=WRITES)
        if actor is None:
            return refusal
        try:
            info = await asyncio.to_thread(
                lambda: identity_tokens.revoke_token(int(token_id), actor=actor)
            )
            await self._reload(actor)
        except (ServiceError, ValueError) as exc:
            text = failure_text(exc) if isinstance(exc, ServiceError) else "Unknown token."
            return toast_error(text)
        return toast_success(f"Token “{info.name}” revoked.")

    @rx.event
    def dismiss_secret(self) -> None:
        """Hide the newly created secret (it cannot be shown again)."""
        self.created_secret = ""
