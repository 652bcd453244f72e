"""REST routes for the caller's notifications: `/api/notifications/`.

What the console's bell shows, for scripts too: a token reads its owner's notifications.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from ticket_app.api.auth import require
from ticket_app.api.deps import ERROR_RESPONSES, PAGE_SIZE_MAX, CursorQuery, next_page_url
from ticket_app.api.routing import paged_response, slash_routes
from ticket_app.enums import NotificationKind
from ticket_app.schemas import (
    NotificationPreferenceChange,
    NotificationPreferenceRead,
    NotificationRead,
    NotificationsReadRequest,
    NotificationsReadResult,
)
from ticket_app.services import notification_preferences
from ticket_app.services import notifications as notification_service
from ticket_app.services.access import Action, Actor

router = APIRouter(prefix="/api/notifications", tags=["notifications"])
_route = slash_routes(router, ERROR_RESPONSES)

Recipient = Annotated[Actor, Depends(require(Action.NOTIFICATIONS_READ))]
Chooser = Annotated[Actor, Depends(require(Action.NOTIFICATIONS_PREFERENCES))]


@_route(
    "GET",
    "",
    response_model=list[NotificationRead],
    summary="Your notifications, newest first",
    responses=paged_response("All your notifications across all pages."),
)
def list_notifications(
    request: Request,
    response: Response,
    actor: Recipient,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=PAGE_SIZE_MAX,
            description=f"Notifications per page, 1 to {PAGE_SIZE_MAX}; outside that range: 422.",
        ),
    ] = 20,
    cursor: CursorQuery = None,
    unread: Annotated[bool, Query(description="`true`: only unread ones.")] = False,
) -> list[NotificationRead]:
    """What you were told about: assignments, replies, service-level warnings and breaches.

    `X-Unread-Count` says how many are unread; the next page's URL is in the `Link` header.
    """
    page = notification_service.list_notifications(
        actor=actor, limit=limit, cursor=cursor or None, unread_only=unread
    )
    response.headers["X-Total-Count"] = str(page.total)
    response.headers["X-Unread-Count"] = str(page.unread)
    if page.next_cursor is not None:
        response.headers["Link"] = (
            f'<{next_page_url(request, page.next_cursor, limit)}>; rel="next"'
        )
    return page.items


@_route(
    "POST",
    "/read",
    response_model=NotificationsReadResult,
    summary="Mark notifications read",
)
def mark_read(payload: NotificationsReadRequest, actor: Recipient) -> NotificationsReadResult:
    """Mark the notifications in `ids` read, or all of yours with `{"all": true}`.

    Ids that are not yours are ignored; the answer says how many were marked and how many stay
    unread.
    """
    return notification_service.mark_read(payload, actor=actor)


@_route(
    "GET",
    "/preferences",
    response_model=list[NotificationPreferenceRead],
    summary="Which of your notifications are also e-mailed",
)
def get_preferences(actor: Recipient) -> list[NotificationPreferenceRead]:
    """Every notification kind with `email`: whether you are also sent an e-mail about it.

    Until you choose, `assigned` and `mentioned` are e-mailed and the others are not. Mail goes
    out only while a mailbox is connected; the bell lists every notification either way.
    """
    return notification_preferences.get_preferences(actor=actor)


@_route(
    "PUT",
    "/preferences",
    response_model=list[NotificationPreferenceRead],
    summary="Choose which of your notifications are also e-mailed",
)
def set_preferences(
    actor: Chooser,
    payload: Annotated[
        list[NotificationPreferenceChange],
        Body(
            max_length=len(NotificationKind),
            description="The kinds to set (a kind listed twice: its last value counts); kinds "
            "left out keep their choice.",
        ),
    ],
) -> list[NotificationPreferenceRead]:
    """Set `email` for the kinds listed (all of them, or some); answers every kind's choice.

    Each change is in the audit trail.
    """
    return notification_preferences.set_preferences(payload, actor=actor)
