"""REST routes for one's own account (`/api/account/`) and for admins' staff links (`/api/staff/`).

- `/api/account/password/`, `/api/account/sessions/`: the signed-in person's password and
  sessions (a session only: no API token may change a password or end sessions).
- `/api/staff/invitations/`, `/api/staff/{id}/password-links/`: an admin's one-time links that
  let someone set their password (an invitation makes the account). The link's URL holds its
  secret and is in the answer only; it is built from `PUBLIC_BASE_URL`. It is also e-mailed to
  the person at once when it can be (`emailed`, else `not_emailed_reason`); a mail server's
  failure is part of the answer, never an error.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from starlette.concurrency import run_in_threadpool

from ticket_app.api.auth import cookie_scheme, require
from ticket_app.api.deps import ERROR_RESPONSES, request_client
from ticket_app.api.errors import documented_errors
from ticket_app.api.routing import slash_routes
from ticket_app.models import MAX_ROW_ID
from ticket_app.schemas import (
    InvitationCreate,
    PasswordChange,
    PasswordLinkCreate,
    PasswordLinkRead,
    SessionRead,
    SessionsSignedOut,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.identity import account, links
from ticket_app.services.identity.links import IssuedLink

account_router = APIRouter(prefix="/api/account", tags=["account"])
staff_router = APIRouter(prefix="/api/staff", tags=["staff"])
_account_route = slash_routes(account_router, ERROR_RESPONSES)
_staff_route = slash_routes(staff_router, {**ERROR_RESPONSES, **documented_errors([409])})

Owner = Annotated[Actor, Depends(require(Action.ACCOUNT_MANAGE_OWN))]
Admin = Annotated[Actor, Depends(require(Action.STAFF_MANAGE))]
SessionToken = Annotated[str | None, Depends(cookie_scheme)]
UserId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A staff user's id.")]
SessionId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="One of your sessions' id.")]


def _link_read(issued: IssuedLink) -> PasswordLinkRead:
    return PasswordLinkRead(
        url=issued.url,
        purpose=issued.purpose,
        expires_at=issued.expires_at,
        user=issued.user,
        emailed=issued.emailed,
        not_emailed_reason=issued.not_emailed_reason,
    )


@_account_route(
    "POST",
    "/password",
    response_model=SessionsSignedOut,
    summary="Change your password",
)
async def change_password(
    request: Request, payload: PasswordChange, actor: Owner, session_token: SessionToken
) -> SessionsSignedOut:
    """Change your own password; your other sessions are signed out (this one stays).

    A wrong `current_password` is a 422 naming it, and counts against the sign-in failure
    limit of your account and address (429 with `Retry-After` when reached); a `new_password`
    that fails the policy is a 422 naming it.
    """
    ended = await run_in_threadpool(
        lambda: account.change_password(
            actor,
            payload.current_password,
            payload.new_password,
            session_token=session_token,
            client=request_client(request),
        )
    )
    return SessionsSignedOut(signed_out_sessions=ended)


@_account_route(
    "GET",
    "/sessions",
    response_model=list[SessionRead],
    summary="Your signed-in sessions",
)
def list_sessions(actor: Owner, session_token: SessionToken) -> list[SessionRead]:
    """Your sessions that are still signed in, most recently used first (`current`: this one)."""
    return account.list_sessions(actor, session_token=session_token)


@_account_route(
    "POST",
    "/sessions/sign-out-others",
    response_model=SessionsSignedOut,
    summary="Sign out everywhere else",
)
async def sign_out_others(actor: Owner, session_token: SessionToken) -> SessionsSignedOut:
    """Sign out every one of your sessions but this one."""
    ended = await run_in_threadpool(
        lambda: account.sign_out_others(actor, session_token=session_token)
    )
    return SessionsSignedOut(signed_out_sessions=ended)


@_account_route(
    "DELETE",
    "/sessions/{session_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out one of your sessions",
)
async def sign_out_session(session_id: SessionId, actor: Owner) -> None:
    """Sign out that session of yours (404 when it is not yours or is over already)."""
    await run_in_threadpool(lambda: account.sign_out_session(actor, session_id))


@_staff_route(
    "POST",
    "/invitations",
    response_model=PasswordLinkRead,
    status_code=status.HTTP_201_CREATED,
    summary="Invite someone",
)
async def invite(payload: InvitationCreate, actor: Admin) -> PasswordLinkRead:
    """Make an account and a one-time link with which its owner sets their password (admins).

    The link (`url`) is in this answer only. It works once, for INVITATION_LINK_HOURS. It is
    e-mailed to the invitee at once from the first active mailbox (`emailed`); when it cannot be
    (no mailbox, PUBLIC_BASE_URL unset, the mail server refused or did not answer in
    LINK_MAIL_TIMEOUT_SECONDS), `not_emailed_reason` says why: pass the link on yourself. 409
    when the email is taken.
    """
    issued = await run_in_threadpool(
        lambda: links.invite_user(payload.email, payload.role, name=payload.name, actor=actor)
    )
    return _link_read(issued)


@_staff_route(
    "POST",
    "/{user_id:int}/password-links",
    response_model=PasswordLinkRead,
    status_code=status.HTTP_201_CREATED,
    summary="A password reset (or new invitation) link",
)
async def issue_password_link(
    user_id: UserId, payload: PasswordLinkCreate, actor: Admin
) -> PasswordLinkRead:
    """A one-time link with which the user sets a new password (admins); older links end.

    `purpose` `reset` (default; works for RESET_LINK_HOURS) or `invite` (a new invitation,
    INVITATION_LINK_HOURS). The user's password and sessions stay until the link is used;
    using it signs out all their sessions. E-mailed to the user at once when it can be, as an
    invitation is (`emailed`, `not_emailed_reason`). 404 for an unknown user, 422 for a
    deactivated one.
    """
    issued = await run_in_threadpool(
        lambda: links.issue_link(user_id, payload.purpose, actor=actor)
    )
    return _link_read(issued)
