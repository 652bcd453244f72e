"""Paths and methods: every /api answer is the JSON error body, wrong methods are 405 with a
correct `Allow` (issue 10), unknown /api paths are a JSON 404 also when Reflex is mounted
behind the API (issue 12, item 14)."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from tests.support.tickets import make_ticket
from ticket_app.api.app import create_api

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def documented_methods() -> dict[str, set[str]]:
    """Path (documented form, `{ticket_id}`) -> the methods the OpenAPI schema lists for it."""
    spec = create_api().openapi()
    return {path: {m.upper() for m in item} for path, item in spec["paths"].items()}


DOCUMENTED = documented_methods()


def concrete(path: str, ticket_id: int) -> str:
    """`path` with a real ticket id; any other id (views, mailboxes, comments...) is 1: a method
    is refused by path alone, and a GET of an id that does not exist is a 404 of that route."""
    return re.sub(r"\{\w+_id\}", "1", path.replace("{ticket_id}", str(ticket_id)))


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, (response.request.method, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"detail", "errors"} and body["errors"], body
    assert set(body["errors"][0]) == {"field", "message", "type"}
    return body


def allow_header(response) -> list[str]:
    return [method.strip() for method in response.headers["allow"].split(",")]


def test_wrong_methods_are_405_with_the_paths_methods_in_allow(client: TestClient) -> None:
    ticket_id = make_ticket(client)["id"]
    checked = 0
    for documented_path, allowed in DOCUMENTED.items():
        served = allowed | ({"HEAD"} if documented_path.endswith("openapi.json") else set())
        for path in (documented_path, documented_path.rstrip("/")):
            url = concrete(path, ticket_id)
            for method in sorted(set(METHODS) - served - {"OPTIONS", "HEAD"}):
                response = client.request(method, url)
                assert_json_error(response, 405)
                assert set(allow_header(response)) == served | {"OPTIONS"}, (method, url)
                checked += 1
    assert checked > 40


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/api/tickets/stats/", ["GET", "OPTIONS"]),
        ("PATCH", "/api/tickets/stats", ["GET", "OPTIONS"]),
        ("GET", "/api/tickets/classify/", ["POST", "OPTIONS"]),
        ("GET", "/api/tickets/classify", ["POST", "OPTIONS"]),
        ("PATCH", "/api/tickets/export/", ["GET", "POST", "OPTIONS"]),
        ("PUT", "/api/tickets/", ["GET", "POST", "OPTIONS"]),
        ("DELETE", "/api/tickets/1/", ["GET", "PATCH", "OPTIONS"]),
        ("POST", "/api/tickets/1/events", ["GET", "OPTIONS"]),
        ("GET", "/api/auth/login", ["POST", "OPTIONS"]),
        ("DELETE", "/api/me/", ["GET", "OPTIONS"]),
        ("PUT", "/api/canned-responses/", ["GET", "POST", "OPTIONS"]),
        ("GET", "/api/canned-responses/1/", ["PATCH", "DELETE", "OPTIONS"]),
        ("GET", "/api/canned-responses/1/render/", ["POST", "OPTIONS"]),
        ("POST", "/api/tickets/1/followers/", ["GET", "OPTIONS"]),
        ("GET", "/api/tickets/1/followers/me", ["PUT", "DELETE", "OPTIONS"]),
        ("POST", "/api/tags/", ["GET", "OPTIONS"]),
        ("POST", "/api/notifications/preferences/", ["GET", "PUT", "OPTIONS"]),
        ("GET", "/api/account/password/", ["POST", "OPTIONS"]),
        ("POST", "/api/account/sessions", ["GET", "OPTIONS"]),
        ("GET", "/api/account/sessions/sign-out-others/", ["POST", "OPTIONS"]),
        ("GET", "/api/account/sessions/1/", ["DELETE", "OPTIONS"]),
        ("GET", "/api/staff/invitations/", ["POST", "OPTIONS"]),
        ("GET", "/api/staff/1/password-links", ["POST", "OPTIONS"]),
        ("GET", "/api/auth/password-link", ["POST", "OPTIONS"]),
        ("POST", "/api/sla/report/", ["GET", "OPTIONS"]),
        ("PUT", "/api/sla/report", ["GET", "OPTIONS"]),
    ],
)
def test_literal_paths_are_not_taken_for_ticket_ids(
    client: TestClient, method: str, path: str, allow: list[str]
) -> None:
    response = client.request(method, path)
    body = assert_json_error(response, 405)
    assert allow_header(response) == allow
    assert body["errors"][0]["field"] == "method"


def test_options_lists_every_method_of_the_path(client: TestClient) -> None:
    for path, allow in [
        ("/api/tickets/", ["GET", "POST", "OPTIONS"]),
        ("/api/tickets", ["GET", "POST", "OPTIONS"]),
        ("/api/tickets/7/", ["GET", "PATCH", "OPTIONS"]),
        ("/api/tickets/stats/", ["GET", "OPTIONS"]),
        ("/api/tags", ["GET", "OPTIONS"]),
        ("/api/sla/report/", ["GET", "OPTIONS"]),
    ]:
        response = client.options(path)
        assert response.status_code == 204, path
        assert allow_header(response) == allow, path


def test_method_answers_need_no_credentials(anonymous_client: TestClient) -> None:
    """They describe the API, which its public schema does anyway; data still needs a token."""
    assert anonymous_client.put("/api/tickets/").status_code == 405
    assert anonymous_client.options("/api/tickets/").status_code == 204
    assert anonymous_client.get("/api/tickets/").status_code == 401


UNKNOWN = [
    "/api",
    "/api/",
    "/api/nope",
    "/api/tickets/abc/",
    "/api/tickets/-1/",
    "/api/tickets/1/x",
]


def test_unknown_api_paths_are_a_json_404(anonymous_client: TestClient) -> None:
    for path in UNKNOWN:
        for method in METHODS:
            response = anonymous_client.request(method, path)
            if method == "HEAD":  # a HEAD answer has no body
                assert response.status_code == 404
                continue
            body = assert_json_error(response, 404)
            assert body["errors"][0]["field"] == "path"


def reflex_like_app() -> Starlette:
    """Stands in for Reflex's app, which mounts itself behind ours at "" (see rx.App with
    api_transformer): it answers anything with an HTML page, and other methods with plain text."""

    async def page(request: Request):
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", status_code=405)
        return HTMLResponse("<html><body>404: Page not found</body></html>", status_code=404)

    return Starlette(routes=[Route("/{path:path}", page, methods=METHODS)])


@pytest.fixture
def mounted_client(client: TestClient) -> Iterator[TestClient]:
    """The API with a Reflex-like app mounted behind it, as the served app is put together."""
    api = create_api()
    api.mount("", reflex_like_app())
    with TestClient(api, headers=dict(client.headers)) as test_client:
        yield test_client


def test_with_reflex_mounted_unknown_api_paths_are_still_json(mounted_client: TestClient) -> None:
    assert_json_error(mounted_client.get("/api/nope"), 404)
    assert_json_error(mounted_client.get("/api/tickets/abc/"), 404)
    response = mounted_client.put("/api/tickets/")
    assert_json_error(response, 405)
    assert allow_header(response) == ["GET", "POST", "OPTIONS"]
    assert_json_error(mounted_client.delete("/api/tickets/1/"), 405)
    assert mounted_client.get("/api/tickets/").status_code == 200
    # Outside /api the console still answers.
    assert mounted_client.get("/some/page").headers["content-type"].startswith("text/html")


# What the admin's token gets where not 200: mailboxes, the quarantine and one's own sessions
# are managed in a signed-in session only (403); the other ids do not exist in this test (the
# route's own 404, naming `id`, not the unknown-path 404).
NOT_200 = {
    "/api/mailboxes/": (403, ""),
    "/api/mailboxes/{mailbox_id}/": (403, ""),
    "/api/mail/quarantine/": (403, ""),
    "/api/mail/quarantine/{quarantine_id}/raw/": (403, ""),
    "/api/account/sessions/": (403, ""),
    "/api/tickets/{ticket_id}/mail/{mail_id}/raw/": (404, "id"),
    "/api/tickets/{ticket_id}/comments/{comment_id}/raw/": (404, "id"),
    "/api/tickets/{ticket_id}/attachments/{attachment_id}/": (404, "id"),
    "/api/requesters/{requester_id}/": (404, "id"),
}


def test_every_documented_operation_answers_on_both_path_forms(client: TestClient) -> None:
    ticket_id = make_ticket(client)["id"]
    seen: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for documented_path, methods in DOCUMENTED.items():
        if "GET" not in methods or documented_path.startswith("/api/auth"):
            continue
        for path in (documented_path, documented_path.rstrip("/")):
            response = client.get(concrete(path, ticket_id))
            field = response.json()["errors"][0]["field"] if response.status_code >= 400 else ""
            seen[documented_path].append((response.status_code, field))
    wrong = {
        path: answers
        for path, answers in seen.items()
        if answers != [NOT_200.get(path, (200, ""))] * 2
    }
    assert wrong == {}


def test_a_plain_function_route_runs_off_the_event_loop_and_keeps_its_parameters() -> None:
    from fastapi import APIRouter, Depends, FastAPI, Query

    from ticket_app.api.routing import slash_routes

    router = APIRouter()
    route = slash_routes(router, {})
    seen: dict[str, object] = {}

    async def on_the_loop() -> None:
        seen["loop"] = threading.current_thread()

    def handler(size: int = Query(ge=1), _: None = Depends(on_the_loop)) -> dict[str, int]:
        """A blocking handler: it must not hold up the event loop's other requests."""
        seen["handler"] = threading.current_thread()
        return {"size": size}

    assert route("GET", "/things")(handler) is handler
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        answer = client.get("/things/?size=3")
        refused = client.get("/things?size=0")
        schema = client.get("/openapi.json").json()

    assert answer.json() == {"size": 3}
    assert refused.status_code == 422
    assert seen["handler"] is not seen["loop"]
    parameters = schema["paths"]["/things/"]["get"]["parameters"]
    assert [(p["name"], p["schema"]["minimum"]) for p in parameters] == [("size", 1)]
