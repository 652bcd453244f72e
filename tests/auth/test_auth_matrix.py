"""Every API route against every kind of caller, with the expected answer read off the permission
table (`PERMISSIONS`, `SCOPE_OF_ACTION`).

The routes are walked from the app itself, hidden twins without the trailing slash included, and
each must be classified in ROUTES below: a new route fails `test_every_route_is_classified` until
someone states what it requires. Callers: anonymous; viewer, agent and admin sessions (signed in
through POST /api/auth/login); tokens with only tickets:read, only tickets:write, or both (of an
admin, so the scope is the only limit, and of a viewer and an agent, so the role limits too);
revoked, expired and unknown tokens; a token and a session of a deactivated user; and a valid
session sent with an invalid bearer token (the bearer header wins: 401).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.auth import (
    Clients,
    add_ticket,
    add_token,
    add_user,
    bearer,
    expire_token,
    sign_in,
)
from ticket_app.api.app import create_api
from ticket_app.models import Role, utc_now
from ticket_app.services.access import Action, Scope, role_allows, scopes_allow
from ticket_app.services.identity import tokens, users
from ticket_app.settings import get_settings

PUBLIC = "public"  # answers the same whoever asks
SIGNED_IN = "signed in"  # any valid session or token


@dataclass(frozen=True)
class RouteSpec:
    """What a route requires, a request that succeeds when allowed, and its success status."""

    access: Action | str
    call: Callable[[TestClient, str, str], Response]  # (client, method, path) -> response
    success: int
    # A GET that acts in the caller's name (the export): refused to the session cookie, so a
    # cross-site <img> cannot trigger it; browsers use the POST twin.
    sessions_refused: bool = False


TICKET = {
    "title": "Cannot print",
    "description": "The printer says paper jam but there is no paper in it.",
    "category": "technical",
    "priority": "medium",
}


def plain(client: TestClient, method: str, path: str) -> Response:
    return client.request(method, path)


def with_json(payload: dict) -> Callable[[TestClient, str, str], Response]:
    def call(client: TestClient, method: str, path: str) -> Response:
        return client.request(method, path, json=payload)

    return call


def new_view(client: TestClient, method: str, path: str) -> Response:
    """Save a view under a name of its own (names are unique per person)."""
    return client.request(method, path, json={"name": f"View {uuid.uuid4()}", "query": {}})


def delete_own_view(client: TestClient, method: str, path: str) -> Response:
    """Delete a view the caller has just saved (a made-up id when it may not save one)."""
    saved = new_view(client, "POST", "/api/views/")
    view_id = saved.json()["id"] if saved.status_code == 201 else 1
    return client.request(method, path.replace("{view_id}", str(view_id)))


def own_canned_response(
    inner: Callable[[TestClient, str, str], Response],
) -> Callable[[TestClient, str, str], Response]:
    """`inner` on the path of a canned response the caller has just created (a made-up id when
    it may not create one: a refused caller's answer comes before the lookup)."""

    def call(client: TestClient, method: str, path: str) -> Response:
        made = client.post("/api/canned-responses/", json={"title": "Hi", "body": "Hello"})
        response_id = made.json()["id"] if made.status_code == 201 else 1
        return inner(client, method, path.replace("{response_id}", str(response_id)))

    return call


def put_preferences(client: TestClient, method: str, path: str) -> Response:
    return client.request(method, path, json=[{"kind": "replied", "email": True}])


def render_for_a_ticket(client: TestClient, method: str, path: str) -> Response:
    return client.request(method, path, json={"ticket_id": add_ticket("Render me")})


def merge_into_another(client: TestClient, method: str, path: str) -> Response:
    """Merge a ticket made for this call into another (a ticket merges only once, and the
    route is called twice: with and without its trailing slash)."""
    duplicate = add_ticket("Printer on fire again")
    path = re.sub(r"/api/tickets/[0-9]+/", f"/api/tickets/{duplicate}/", path)
    return client.request(method, path, json={"into": add_ticket("Printer still on fire")})


MISSING_ID = "999999"
RAW_MAIL = (
    b"From: Casey <casey@customer.example>\r\nTo: support@desk.test\r\n"
    b"Subject: Printer jammed\r\nMessage-ID: <matrix@customer.example>\r\n\r\n"
    b"The printer on floor 2 jams on every page.\r\n"
)


def unknown_ids(inner: Callable[[TestClient, str, str], Response]) -> Callable:
    """`inner` on the path with every id but the ticket's pointing at no row: an allowed caller
    gets the route's own 404 (the permission check comes first), a refused one 401 or 403."""

    def call(client: TestClient, method: str, path: str) -> Response:
        return inner(client, method, re.sub(r"\{\w+\}", MISSING_ID, path))

    return call


def raw_mail(client: TestClient, method: str, path: str) -> Response:
    return client.request(
        method, path, content=RAW_MAIL, headers={"Content-Type": "message/rfc822"}
    )


# Keyed by (method, path with one trailing slash); the twin without the slash shares the entry.
ROUTES: dict[tuple[str, str], RouteSpec] = {
    ("GET", "/api/tickets/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("POST", "/api/tickets/"): RouteSpec(Action.TICKETS_CREATE, with_json(TICKET), 201),
    ("GET", "/api/tickets/stats/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("GET", "/api/tickets/export/"): RouteSpec(
        Action.TICKETS_EXPORT, plain, 200, sessions_refused=True
    ),
    ("POST", "/api/tickets/export/"): RouteSpec(Action.TICKETS_EXPORT, plain, 200),
    ("POST", "/api/tickets/classify/"): RouteSpec(
        Action.TICKETS_CLASSIFY, with_json({"description": "I was charged twice"}), 200
    ),
    ("GET", "/api/tickets/{ticket_id}/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("PATCH", "/api/tickets/{ticket_id}/"): RouteSpec(
        Action.TICKETS_EDIT, with_json({"status": "in_progress"}), 200
    ),
    ("GET", "/api/tickets/{ticket_id}/events/"): RouteSpec(Action.AUDIT_READ, plain, 200),
    ("GET", "/api/tickets/{ticket_id}/comments/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("POST", "/api/tickets/{ticket_id}/comments/"): RouteSpec(
        Action.TICKETS_COMMENT, with_json({"body": "On it.", "public": True}), 201
    ),
    ("GET", "/api/tickets/{ticket_id}/similar/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("GET", "/api/tickets/{ticket_id}/duplicates/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("POST", "/api/tickets/{ticket_id}/merge/"): RouteSpec(
        Action.TICKETS_EDIT, merge_into_another, 200
    ),
    ("POST", "/api/tickets/bulk/"): RouteSpec(
        Action.TICKETS_EDIT, with_json({"filters": {}, "changes": {"status": "resolved"}}), 200
    ),
    ("GET", "/api/views/"): RouteSpec(Action.VIEWS_MANAGE_OWN, plain, 200),
    ("POST", "/api/views/"): RouteSpec(Action.VIEWS_MANAGE_OWN, new_view, 201),
    ("DELETE", "/api/views/{view_id}/"): RouteSpec(Action.VIEWS_MANAGE_OWN, delete_own_view, 204),
    ("GET", "/api/me/"): RouteSpec(SIGNED_IN, plain, 200),
    # Canned responses: everyone lists (viewers: the shared ones), agents keep their own and
    # insert them; sharing is an admin's in a session (a shared body is not needed here).
    ("GET", "/api/canned-responses/"): RouteSpec(Action.CANNED_READ, plain, 200),
    ("POST", "/api/canned-responses/"): RouteSpec(
        Action.CANNED_MANAGE_OWN, with_json({"title": "Hi", "body": "Hello"}), 201
    ),
    ("PATCH", "/api/canned-responses/{response_id}/"): RouteSpec(
        Action.CANNED_MANAGE_OWN, own_canned_response(with_json({"title": "Hey"})), 200
    ),
    ("DELETE", "/api/canned-responses/{response_id}/"): RouteSpec(
        Action.CANNED_MANAGE_OWN, own_canned_response(plain), 204
    ),
    ("POST", "/api/canned-responses/{response_id}/render/"): RouteSpec(
        Action.CANNED_MANAGE_OWN, own_canned_response(render_for_a_ticket), 200
    ),
    ("GET", "/api/tickets/{ticket_id}/followers/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("PUT", "/api/tickets/{ticket_id}/followers/me/"): RouteSpec(Action.TICKETS_FOLLOW, plain, 204),
    ("DELETE", "/api/tickets/{ticket_id}/followers/me/"): RouteSpec(
        Action.TICKETS_FOLLOW, plain, 204
    ),
    ("GET", "/api/tags/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("GET", "/api/notifications/"): RouteSpec(Action.NOTIFICATIONS_READ, plain, 200),
    ("POST", "/api/notifications/read/"): RouteSpec(
        Action.NOTIFICATIONS_READ, with_json({"all": True}), 200
    ),
    ("GET", "/api/notifications/preferences/"): RouteSpec(Action.NOTIFICATIONS_READ, plain, 200),
    ("PUT", "/api/notifications/preferences/"): RouteSpec(
        Action.NOTIFICATIONS_PREFERENCES, put_preferences, 200
    ),
    # The e-mail channel: raw mail needs the mail:inbound scope; mailboxes and the quarantine
    # are an admin's, in a session (no token scope covers them); a ticket's mail and files are
    # read like the ticket. Ids other than the ticket's name no row: allowed is the route's 404.
    ("POST", "/api/inbound/email/"): RouteSpec(Action.MAIL_INBOUND, raw_mail, 200),
    ("GET", "/api/mailboxes/"): RouteSpec(Action.MAILBOXES_MANAGE, plain, 200),
    ("POST", "/api/mailboxes/"): RouteSpec(Action.MAILBOXES_MANAGE, with_json({}), 422),
    ("GET", "/api/mailboxes/{mailbox_id}/"): RouteSpec(
        Action.MAILBOXES_MANAGE, unknown_ids(plain), 404
    ),
    ("PATCH", "/api/mailboxes/{mailbox_id}/"): RouteSpec(
        Action.MAILBOXES_MANAGE, unknown_ids(with_json({"active": False})), 404
    ),
    ("DELETE", "/api/mailboxes/{mailbox_id}/"): RouteSpec(
        Action.MAILBOXES_MANAGE, unknown_ids(plain), 404
    ),
    ("POST", "/api/mailboxes/{mailbox_id}/test/"): RouteSpec(
        Action.MAILBOXES_MANAGE, unknown_ids(plain), 404
    ),
    ("GET", "/api/mail/quarantine/"): RouteSpec(Action.MAILBOXES_MANAGE, plain, 200),
    ("GET", "/api/mail/quarantine/{quarantine_id}/raw/"): RouteSpec(
        Action.MAILBOXES_MANAGE, unknown_ids(plain), 404
    ),
    ("POST", "/api/mail/quarantine/{quarantine_id}/retry/"): RouteSpec(
        Action.MAILBOXES_MANAGE, unknown_ids(plain), 404
    ),
    ("POST", "/api/mail/quarantine/{quarantine_id}/discard/"): RouteSpec(
        Action.MAILBOXES_MANAGE, unknown_ids(plain), 404
    ),
    ("GET", "/api/tickets/{ticket_id}/mail/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("GET", "/api/tickets/{ticket_id}/mail/{mail_id}/raw/"): RouteSpec(
        Action.TICKETS_READ, unknown_ids(plain), 404
    ),
    ("GET", "/api/tickets/{ticket_id}/comments/{comment_id}/raw/"): RouteSpec(
        Action.TICKETS_READ, unknown_ids(plain), 404
    ),
    ("POST", "/api/tickets/{ticket_id}/comments/{comment_id}/resend/"): RouteSpec(
        Action.TICKETS_COMMENT, unknown_ids(plain), 404
    ),
    ("GET", "/api/tickets/{ticket_id}/attachments/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("GET", "/api/tickets/{ticket_id}/attachments/{attachment_id}/"): RouteSpec(
        Action.TICKETS_READ, unknown_ids(plain), 404
    ),
    ("GET", "/api/requesters/{requester_id}/"): RouteSpec(
        Action.TICKETS_READ, unknown_ids(plain), 404
    ),
    # Service levels: read like tickets, written by an admin in a session (no token scope
    # covers them). Ids name no row: an allowed caller reaches the route's own 404.
    ("GET", "/api/sla/policies/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("POST", "/api/sla/policies/"): RouteSpec(Action.SLA_MANAGE, with_json({}), 422),
    ("PUT", "/api/sla/policies/{policy_id}/"): RouteSpec(
        Action.SLA_MANAGE, unknown_ids(with_json({"name": "Urgent", "calendar_id": 1})), 404
    ),
    ("DELETE", "/api/sla/policies/{policy_id}/"): RouteSpec(
        Action.SLA_MANAGE, unknown_ids(plain), 404
    ),
    ("GET", "/api/sla/rechecks/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("GET", "/api/sla/calendars/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("GET", "/api/sla/report/"): RouteSpec(Action.TICKETS_READ, plain, 200),
    ("POST", "/api/sla/calendars/"): RouteSpec(Action.SLA_MANAGE, with_json({}), 422),
    ("PUT", "/api/sla/calendars/{calendar_id}/"): RouteSpec(
        Action.SLA_MANAGE, unknown_ids(with_json({"name": "Office"})), 404
    ),
    # One's own password and sessions: every role, in a session only (no token scope covers
    # them). An empty body is refused after the permission check.
    ("POST", "/api/account/password/"): RouteSpec(Action.ACCOUNT_MANAGE_OWN, with_json({}), 422),
    ("GET", "/api/account/sessions/"): RouteSpec(Action.ACCOUNT_MANAGE_OWN, plain, 200),
    ("POST", "/api/account/sessions/sign-out-others/"): RouteSpec(
        Action.ACCOUNT_MANAGE_OWN, plain, 200
    ),
    ("DELETE", "/api/account/sessions/{session_id}/"): RouteSpec(
        Action.ACCOUNT_MANAGE_OWN, unknown_ids(plain), 404
    ),
    # Invitation and reset links are an admin's, in a session.
    ("POST", "/api/staff/invitations/"): RouteSpec(Action.STAFF_MANAGE, with_json({}), 422),
    ("POST", "/api/staff/{user_id}/password-links/"): RouteSpec(
        Action.STAFF_MANAGE, unknown_ids(with_json({})), 404
    ),
    # Sign-in and setup answer everyone alike; an empty body is refused before any check.
    ("POST", "/api/auth/login/"): RouteSpec(PUBLIC, with_json({}), 422),
    ("POST", "/api/auth/password-link/"): RouteSpec(PUBLIC, with_json({}), 422),
    ("POST", "/api/auth/setup/"): RouteSpec(PUBLIC, with_json({}), 422),
    ("POST", "/api/auth/logout/"): RouteSpec(PUBLIC, plain, 204),
    # The API's documentation is public: it describes the API, it holds no data.
    ("GET", "/api/openapi.json/"): RouteSpec(PUBLIC, plain, 200),
    ("HEAD", "/api/openapi.json/"): RouteSpec(PUBLIC, plain, 200),
    ("GET", "/api/docs/"): RouteSpec(PUBLIC, plain, 200),
    ("GET", "/api/docs/oauth2-redirect/"): RouteSpec(PUBLIC, plain, 200),
    ("GET", "/api/redoc/"): RouteSpec(PUBLIC, plain, 200),
}


def canonical(path: str) -> str:
    return path if path.endswith("/") else f"{path}/"


def _walk(routes: Iterable[object]) -> Iterator[tuple[str, str]]:
    for route in routes:
        nested = getattr(route, "effective_candidates", None)  # an included router
        if callable(nested):
            yield from _walk(nested())
            continue
        # The documented form of the path: `{ticket_id}`, not the `{ticket_id:int}` it matches.
        # The /api catch-all (unknown paths: 404, wrong methods: 405) has no method list and
        # requires nothing; tests/api/test_api_routing.py covers it.
        for method in getattr(route, "methods", None) or ():
            yield method, getattr(route, "path_format", route.path)


def app_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the API app serves, from its route table."""
    app = create_api()
    found = sorted(set(_walk(app.routes)))
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    missing = documented - set(found)
    assert not missing, f"the route walk missed documented routes: {missing}"
    # Sign-out last: it ends the session the other requests use.
    return sorted(found, key=lambda route: (route[1].startswith("/api/auth/logout"), route))


ALL_ROUTES = app_routes()


READ = Scope.TICKETS_READ.value
WRITE = Scope.TICKETS_WRITE.value
BOTH = f"{READ},{WRITE}"


def token_client(clients: Clients, role: Role, scopes: str) -> TestClient:
    return clients(headers=bearer(add_token(add_user(role).email, scopes=scopes)))


def session_client(clients: Clients, role: Role) -> TestClient:
    client = clients()
    sign_in(client, add_user(role).email)
    return client


def deactivated_client(clients: Clients, *, with_token: bool) -> TestClient:
    email = add_user(Role.AGENT).email
    client = clients(headers=bearer(add_token(email))) if with_token else clients()
    if not with_token:
        sign_in(client, email)
    assert client.get("/api/me/").status_code == 200  # works until the user is deactivated
    users.set_active(email, False, actor=SYSTEM)
    return client


def revoked_token_client(clients: Clients) -> TestClient:
    secret, token = tokens.create_token(add_user(Role.ADMIN).email, "old", actor=SYSTEM)
    tokens.revoke_token(token.id, actor=SYSTEM)
    return clients(headers=bearer(secret))


def expired_token_client(clients: Clients, db: Engine) -> TestClient:
    secret = add_token(add_user(Role.ADMIN).email, expires_days=1)
    expire_token(db, secret, utc_now() - timedelta(seconds=1))
    return clients(headers=bearer(secret))


def session_with_bad_bearer(clients: Clients) -> TestClient:
    client = clients(headers=bearer("tdk_not-a-real-token"))
    sign_in(client, add_user(Role.ADMIN).email)
    return client


@dataclass(frozen=True)
class Caller:
    """How to build a client, and what the permission table should let it do.

    `role` None: the credential is not valid (401 on every protected route); `scopes` None: a
    session, to which no token scopes apply.
    """

    build: Callable[[Clients, Engine], TestClient]
    role: Role | None
    scopes: str | None = None

    def scope_set(self) -> frozenset[str] | None:
        return None if self.scopes is None else frozenset(self.scopes.split(","))


CALLERS: dict[str, Caller] = {
    "anonymous": Caller(lambda clients, db: clients(), None),
    **{
        f"{role.value} session": Caller(
            lambda clients, db, role=role: session_client(clients, role), role
        )
        for role in Role
    },
    **{
        f"{role.value} token {scopes}": Caller(
            lambda clients, db, role=role, scopes=scopes: token_client(clients, role, scopes),
            role,
            scopes,
        )
        for role, scopes in [
            (Role.ADMIN, READ),
            (Role.ADMIN, WRITE),
            (Role.ADMIN, BOTH),
            (Role.AGENT, WRITE),
            (Role.VIEWER, BOTH),
        ]
    },
    "revoked token": Caller(lambda clients, db: revoked_token_client(clients), None),
    "expired token": Caller(expired_token_client, None),
    "unknown token": Caller(lambda clients, db: clients(headers=bearer("tdk_" + "x" * 43)), None),
    "deactivated user's token": Caller(
        lambda clients, db: deactivated_client(clients, with_token=True), None
    ),
    "deactivated user's session": Caller(
        lambda clients, db: deactivated_client(clients, with_token=False), None
    ),
    "session with an invalid bearer token": Caller(
        lambda clients, db: session_with_bad_bearer(clients), None
    ),
}


def expected_status(caller: Caller, spec: RouteSpec) -> int:
    """The answer the permission table implies for this caller on this route."""
    if spec.access == PUBLIC:
        return spec.success
    if caller.role is None:
        return 401
    if spec.access == SIGNED_IN:
        return spec.success
    if spec.sessions_refused and caller.scopes is None:
        return 403
    action = Action(spec.access)
    allowed = role_allows(caller.role, action) and scopes_allow(caller.scope_set(), action)
    return spec.success if allowed else 403


def test_every_route_is_classified() -> None:
    unclassified = [
        f"{method} {path}" for method, path in ALL_ROUTES if (method, canonical(path)) not in ROUTES
    ]
    assert not unclassified, f"say in ROUTES what these routes require: {unclassified}"
    stale = set(ROUTES) - {(method, canonical(path)) for method, path in ALL_ROUTES}
    assert not stale, f"ROUTES lists routes the app no longer has: {stale}"


@pytest.fixture
def mail_storage(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Raw mail posted by the matrix is stored under this test's own folder."""
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("caller_name", list(CALLERS))
def test_route_answers_follow_the_permission_table(
    caller_name: str, clients: Clients, db: Engine, mail_storage: None
) -> None:
    ticket_id = add_ticket()
    caller = CALLERS[caller_name]
    client = caller.build(clients, db)
    wrong = []
    for method, path in ALL_ROUTES:
        spec = ROUTES[(method, canonical(path))]
        response = spec.call(client, method, path.replace("{ticket_id}", str(ticket_id)))
        expected = expected_status(caller, spec)
        if response.status_code != expected:
            wrong.append(f"{method} {path}: {response.status_code}, expected {expected}")
        if response.status_code == 401:
            assert response.headers.get("www-authenticate") == "Bearer", (method, path)
    assert not wrong, f"{caller_name}:\n" + "\n".join(wrong)


def test_the_callers_meet_every_outcome_of_every_protected_route() -> None:
    """Each protected route is allowed to some caller above, refused (403) to another, and
    needs a credential (401): the matrix can tell a route that checks too little or too much."""
    for (method, path), spec in ROUTES.items():
        if spec.access == PUBLIC:
            continue
        seen = {expected_status(caller, spec) for caller in CALLERS.values()}
        wanted = {spec.success, 401} if spec.access == SIGNED_IN else {spec.success, 401, 403}
        assert seen == wanted, (method, path, seen)
