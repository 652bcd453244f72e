"""What a browser on another site can do with a signed-in user's cookie (nothing), the event
socket's origin check, security headers on every answer, the host allow-list, and Link headers
that never echo the request's Host.

CORS is added by Reflex when it mounts the API; `with_reflex_cors` applies Reflex's own CORS
setup (from rxconfig) to the API app, so the answers checked are the served ones.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from reflex.app import App as ReflexApp
from sqlalchemy.engine import Engine
from starlette.websockets import WebSocketDisconnect

from tests.auth.support import Clients, add_ticket, add_token, add_user, bearer, sign_in
from ticket_app.api.app import create_api
from ticket_app.api.security import SECURITY_HEADERS, html_script_hashes
from ticket_app.models import Role
from ticket_app.services.identity import setup
from ticket_app.services.tickets import get_ticket, list_ticket_events, list_tickets

OWN = "http://testserver"
EVIL = "http://evil.example"
TICKET = {"title": "t", "description": "d", "category": "general", "priority": "low"}


def with_reflex_cors(api: FastAPI) -> FastAPI:
    """The API as Reflex serves it: with the CORS middleware rxconfig configures."""
    ReflexApp._add_cors(api)
    return api


@pytest.fixture
def agent_browser(db: Engine) -> TestClient:
    """A client signed in as an agent, the API wrapped in Reflex's CORS middleware."""
    add_user(Role.AGENT)
    with TestClient(with_reflex_cors(create_api())) as client:
        sign_in(client, "agent@example.com")
        yield client


# Cross-origin requests with the session cookie -------------------------------------------------


def test_foreign_origin_gets_no_cors_permission(agent_browser: TestClient) -> None:
    add_ticket()
    response = agent_browser.get("/api/tickets/", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in response.headers
    # Reflex's CORS middleware sends Allow-Credentials on every answer; without an
    # Allow-Origin naming the page's origin, browsers still refuse the page the response.
    preflight = agent_browser.options(
        "/api/tickets/1/",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "PATCH"},
    )
    assert preflight.status_code >= 400
    assert "access-control-allow-origin" not in preflight.headers


def test_in_process_api_emits_no_cors_headers(clients: Clients) -> None:
    add_user(Role.AGENT)
    client = clients()
    sign_in(client, "agent@example.com")
    response = client.get("/api/tickets/", headers={"Origin": EVIL})
    assert response.status_code == 200
    cors = [name for name in response.headers if name.startswith("access-control-")]
    assert cors == []


@pytest.mark.parametrize("origin", [EVIL, "null", "http://testserver:8080", "https://testserver"])
def test_cookie_writes_from_a_foreign_origin_are_refused(
    agent_browser: TestClient, origin: str
) -> None:
    ticket_id = add_ticket()
    events_before = list_ticket_events(ticket_id).items
    patch = agent_browser.patch(
        f"/api/tickets/{ticket_id}/", json={"priority": "critical"}, headers={"Origin": origin}
    )
    create = agent_browser.post("/api/tickets/", json=TICKET, headers={"Origin": origin})
    classify = agent_browser.post(
        "/api/tickets/classify/", json={"description": "x"}, headers={"Origin": origin}
    )
    assert (patch.status_code, create.status_code, classify.status_code) == (403, 403, 403)
    assert "access-control-allow-origin" not in patch.headers
    assert get_ticket(ticket_id).priority == "high"
    assert list_tickets().total == 1
    assert list_ticket_events(ticket_id).items == events_before


def test_cookie_writes_without_origin_are_judged_by_their_referer(
    agent_browser: TestClient,
) -> None:
    ticket_id = add_ticket()
    foreign = agent_browser.patch(
        f"/api/tickets/{ticket_id}/",
        json={"priority": "critical"},
        headers={"Referer": f"{EVIL}/page.html"},
    )
    assert foreign.status_code == 403 and get_ticket(ticket_id).priority == "high"
    refused = agent_browser.post("/api/tickets/", json=TICKET, headers={"Referer": EVIL + "/"})
    assert refused.status_code == 403 and list_tickets().total == 1
    own = agent_browser.post("/api/tickets/", json=TICKET, headers={"Referer": f"{OWN}/tickets"})
    assert own.status_code == 201


def test_cookie_writes_from_our_own_origin_work(agent_browser: TestClient) -> None:
    ticket_id = add_ticket()
    patch = agent_browser.patch(
        f"/api/tickets/{ticket_id}/", json={"priority": "critical"}, headers={"Origin": OWN}
    )
    create = agent_browser.post("/api/tickets/", json=TICKET, headers={"Origin": OWN})
    assert (patch.status_code, create.status_code) == (200, 201)
    assert get_ticket(ticket_id).priority == "critical"
    # Scripts send no Origin at all; a cookie without one is not a cross-site browser request.
    assert agent_browser.post("/api/tickets/", json=TICKET).status_code == 201


def test_a_bearer_token_may_write_from_any_origin(clients: Clients) -> None:
    """Tokens are not sent by browsers on their own, so a foreign page cannot ride them."""
    add_user(Role.AGENT)
    client = clients(headers=bearer(add_token("agent@example.com")))
    response = client.post("/api/tickets/", json=TICKET, headers={"Origin": EVIL})
    assert response.status_code == 201


def test_sign_in_form_from_a_foreign_page_sets_no_cookie(clients: Clients) -> None:
    add_user(Role.AGENT)
    client = clients(follow_redirects=False)
    form = {"email": "agent@example.com", "password": "correct horse battery staple"}
    response = client.post("/api/auth/login", data=form, headers={"Origin": EVIL})
    assert response.status_code == 303
    assert "error=origin" in response.headers["location"]
    assert "set-cookie" not in response.headers
    own = client.post("/api/auth/login", data=form, headers={"Origin": OWN})
    assert own.status_code == 303
    assert "set-cookie" in own.headers


SAME_SITE_OTHER_PORT = "http://testserver:8080"  # cookies do not tell ports apart


@pytest.mark.parametrize("origin", [EVIL, SAME_SITE_OTHER_PORT])
def test_no_sign_in_from_a_foreign_page_whatever_the_content_type(
    clients: Clients, origin: str
) -> None:
    """A page may post JSON as text/plain without a preflight; it still may not sign in."""
    add_user(Role.AGENT)
    client = clients()
    body = b'{"email": "agent@example.com", "password": "correct horse battery staple"}'
    for content_type in ("text/plain", "application/json"):
        response = client.post(
            "/api/auth/login",
            content=body,
            headers={"Origin": origin, "Content-Type": content_type},
        )
        assert response.status_code == 403, content_type
        assert response.json()["errors"][0]["field"] == "origin"
        assert "set-cookie" not in response.headers
    own = client.post(
        "/api/auth/login", content=body, headers={"Origin": OWN, "Content-Type": "application/json"}
    )
    assert own.status_code == 200


@pytest.mark.parametrize("origin", [EVIL, SAME_SITE_OTHER_PORT])
def test_no_forced_sign_out_from_a_foreign_page(agent_browser: TestClient, origin: str) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = agent_browser.post(
            "/api/auth/logout",
            content=b"x=1",
            headers={"Origin": origin, "Content-Type": content_type},
            follow_redirects=False,
        )
        assert response.status_code in (303, 403), content_type
        assert "set-cookie" not in response.headers
    assert agent_browser.get("/api/me/").status_code == 200
    own = agent_browser.post("/api/auth/logout", headers={"Origin": OWN})
    assert own.status_code == 204
    assert agent_browser.get("/api/me/").status_code == 401


def test_no_first_admin_setup_from_a_foreign_page(clients: Clients) -> None:
    body = {
        "setup_token": setup.setup_token(),
        "email": "first@example.com",
        "password": "correct horse battery staple",
    }
    response = clients().post("/api/auth/setup", json=body, headers={"Origin": EVIL})
    assert response.status_code == 403
    assert not setup.has_admin()
    assert clients().post("/api/auth/setup", json=body, headers={"Origin": OWN}).status_code == 201


# The console's event socket ---------------------------------------------------------------------

EVENT_SOCKET = "/_event/?EIO=4&transport=websocket"


def test_event_socket_refuses_a_foreign_origin(clients: Clients) -> None:
    client = clients()
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(EVENT_SOCKET, headers={"Origin": EVIL}),
    ):
        pass
    assert refused.value.code == 1008  # policy violation, before the app sees it
    polling = client.get("/_event/?EIO=4&transport=polling", headers={"Origin": EVIL})
    assert polling.status_code == 403
    assert polling.json()["errors"][0]["field"] == "origin"


@pytest.mark.parametrize("headers", [{"Origin": OWN}, {}], ids=["same origin", "no origin"])
def test_event_socket_lets_our_own_origin_through(
    clients: Clients, headers: dict[str, str]
) -> None:
    client = clients()
    # Reflex is not mounted in-process, so the request then finds no route: any answer but the
    # refusal shows it passed the origin check.
    try:
        with client.websocket_connect(EVENT_SOCKET, headers=headers):
            pass
    except WebSocketDisconnect as closed:
        assert closed.code != 1008
    polling = client.get("/_event/?EIO=4&transport=polling", headers=headers)
    assert polling.status_code == 404


# Security headers and the host allow-list -------------------------------------------------------


def assert_security_headers(response) -> None:
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    for name, value in SECURITY_HEADERS.items():
        if name == "Content-Security-Policy" and response.request.url.path == "/api/docs":
            # The docs page may also run its own inline scripts, each named by its hash.
            own = " ".join(sorted(html_script_hashes(response.text)))
            value = value.replace("script-src 'self'", f"script-src 'self' {own}")
        assert headers[name] == value


def test_security_headers_on_every_kind_of_answer(client: TestClient, clients: Clients) -> None:
    ticket_id = add_ticket()
    anonymous = clients()
    answers = {
        "200": client.get("/api/tickets/"),
        "201": client.post("/api/tickets/", json=TICKET),
        "csv": client.get("/api/tickets/export/"),
        "401": anonymous.get("/api/tickets/"),
        "404 ticket": client.get("/api/tickets/999999/"),
        "404 path": client.get("/api/no-such-thing"),
        "404 outside the api": anonymous.get("/some/console/page"),
        "405": client.delete(f"/api/tickets/{ticket_id}/"),
        "422": client.post("/api/tickets/", json={}),
        "docs": anonymous.get("/api/docs"),
        "refused socket": anonymous.get("/_event/", headers={"Origin": EVIL}),
    }
    expected = {"200": 200, "201": 201, "csv": 200, "401": 401, "404 ticket": 404}
    expected |= {"404 path": 404, "404 outside the api": 404, "405": 405, "422": 422}
    expected |= {"docs": 200, "refused socket": 403}
    assert {name: r.status_code for name, r in answers.items()} == expected
    for name, response in answers.items():
        try:
            assert_security_headers(response)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name}: {exc!r}") from exc


def test_unknown_host_names_are_refused_when_hosts_are_listed(
    clients: Clients, settings_env
) -> None:
    settings_env(ALLOWED_HOSTS="desk.example.com")
    client = clients(base_url="http://desk.example.com")
    assert client.get("/api/tickets/").status_code == 401  # served (then needs a credential)
    other = clients().get("/api/tickets/")  # Host: testserver
    assert other.status_code == 400
    assert_security_headers(other)


# Link headers -----------------------------------------------------------------------------------


def next_link(response) -> str:
    link = response.headers["link"]
    assert link.startswith("<") and link.endswith('>; rel="next"'), link
    return link[1 : -len('>; rel="next"')]


def test_link_is_relative_without_a_public_base_url(client: TestClient) -> None:
    for n in range(3):
        add_ticket(f"t{n}")
    first = client.get("/api/tickets/?limit=2")
    link = next_link(first)
    assert link.startswith("/api/tickets/?")
    second = client.get(link)
    assert second.status_code == 200
    assert "link" not in second.headers
    titles = [t["title"] for t in first.json() + second.json()]
    assert sorted(titles) == ["t0", "t1", "t2"]


@pytest.mark.parametrize(
    "spoof",
    [
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"},
    ],
    ids=["host", "forwarded"],
)
def test_a_spoofed_host_never_reaches_the_link(
    client: TestClient, settings_env, spoof: dict[str, str]
) -> None:
    ticket_id = add_ticket()
    for n in range(2):
        add_ticket(f"t{n}")
        client.patch(f"/api/tickets/{ticket_id}/", json={"title": f"title {n}"})
    for base in (None, "https://desk.example.com"):
        if base:
            settings_env(PUBLIC_BASE_URL=base)
        for path in ("/api/tickets/?limit=1", f"/api/tickets/{ticket_id}/events/?limit=1"):
            link = next_link(client.get(path, headers=spoof))
            assert "evil" not in link
            if base:
                assert link.startswith(f"{base}/api/tickets/")
            else:
                assert link.startswith("/api/tickets/")


def test_link_uses_the_public_base_url_when_set(client: TestClient, settings_env) -> None:
    settings_env(PUBLIC_BASE_URL="https://desk.example.com/")
    for n in range(2):
        add_ticket(f"t{n}")
    link = next_link(client.get("/api/tickets/?limit=1&category=technical"))
    assert link.startswith("https://desk.example.com/api/tickets/?")
    assert "category=technical" in link and "limit=1" in link and "cursor=" in link
    path = link.removeprefix("https://desk.example.com")
    assert [t["title"] for t in client.get(path).json()] == ["t0"]
