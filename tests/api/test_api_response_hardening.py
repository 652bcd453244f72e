"""Answers that used to escape the API's conventions (issue 27, item 13): a control character in a
path is a JSON 404 with the security headers, never routed to a resource (`/api/tickets/%0A` was
the ticket list), also when Reflex's outer router would have answered it (plain-text 404s and
trailing-slash 307s without headers); an unexpected error is a JSON 500 with the headers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette

from tests.api.test_api_routing import assert_json_error, reflex_like_app
from tests.auth.test_auth_browser import assert_security_headers
from tests.support.tickets import make_ticket
from ticket_app.api.app import create_api
from ticket_app.api.security import html_script_hashes, inline_script_hashes, secure_asgi_app
from ticket_app.services import tickets as ticket_service

CONTROL_CHARACTERS = [*range(0x20), 0x7F]
# Where a control character can sit: after a route's slash, instead of it, inside a segment,
# before a trailing slash (Reflex's router answered that with a 307 to the path without it),
# and outside /api.
PATH_SHAPES = [
    "/api/tickets/{c}",
    "/api/tickets{c}",
    "/api/tickets/{{id}}/{c}",
    "/api/x{c}y",
    "/api/me{c}/",
    "/api/tickets/{c}/",
    "/{c}",
    "/some{c}page/",
]


def served_app() -> Starlette:
    """The app as `reflex run` serves it (rx.App.__call__ with api_transformer): an outer
    Starlette app mounting the API at "", the console mounted behind the API, and the whole
    wrapped by `secure_asgi_app` as `ticket_app.ticket_app.TriageDeskApp` does."""
    api = create_api()
    api.mount("", reflex_like_app())
    outer = Starlette()
    outer.mount("", api)
    return secure_asgi_app(outer)


@pytest.fixture
def served(client: TestClient) -> Iterator[TestClient]:
    """A client of `served_app()` with the admin token of `client`; redirects not followed."""
    with TestClient(
        served_app(), headers=dict(client.headers), follow_redirects=False
    ) as test_client:
        yield test_client


def encoded(shape: str, code: int, ticket_id: int) -> str:
    return shape.format(c=f"%{code:02X}").replace("{id}", str(ticket_id))


def test_control_characters_in_paths_are_json_404s_with_headers(served: TestClient) -> None:
    ticket_id = make_ticket(served)["id"]
    for shape in PATH_SHAPES:
        for code in CONTROL_CHARACTERS:
            path = encoded(shape, code, ticket_id)
            for method in ("GET", "POST"):
                response = served.request(method, path)
                try:
                    body = assert_json_error(response, 404)
                    assert body["errors"][0] == {
                        "field": "path",
                        "message": "No such path: it contains a control character.",
                        "type": "not_found",
                    }
                    assert_security_headers(response)
                except (AssertionError, KeyError) as exc:
                    raise AssertionError(f"{method} {path}: {exc!r}") from exc


def test_the_api_app_alone_refuses_control_characters_too(client: TestClient) -> None:
    make_ticket(client)
    for path in ("/api/tickets/%0A", "/api/tickets/%0D", "/api/tickets%00", "/api/tickets/%7F/"):
        response = client.get(path)
        assert_json_error(response, 404)
        assert_security_headers(response)
    assert len(client.get("/api/tickets/").json()) == 1


def test_paths_without_control_characters_are_served_as_before(served: TestClient) -> None:
    ticket_id = make_ticket(served)["id"]
    listed = served.get("/api/tickets/")
    assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [ticket_id]
    assert_security_headers(listed)
    assert served.get(f"/api/tickets/{ticket_id}").json()["id"] == ticket_id
    # Percent-encoded printable characters and non-ASCII letters are ordinary path characters.
    assert_json_error(served.get("/api/tickets/%20/"), 404)
    assert_json_error(served.get("/api/caf%C3%A9"), 404)
    page = served.get("/some/console/page")
    assert page.headers["content-type"].startswith("text/html")
    assert_security_headers(page)


def test_an_unexpected_error_is_a_json_500_with_headers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ticket_service, "list_tickets", broken)
    for app in (create_api(), served_app()):
        with TestClient(
            app, headers=dict(client.headers), raise_server_exceptions=False
        ) as test_client:
            response = test_client.get("/api/tickets/")
            body = assert_json_error(response, 500)
            assert body["errors"][0]["type"] == "internal" and "a bug" not in response.text
            assert_security_headers(response)


def test_the_policy_allows_the_compiled_pages_inline_scripts_by_hash(
    tmp_path: Path, client: TestClient
) -> None:
    (tmp_path / "tickets").mkdir()
    (tmp_path / "index.html").write_text(
        '<html><head><script>window.a = "</b>";</script><script src="/assets/x.js"></script>'
        '<script type="module">import "/assets/y.js";</script></head></html>'
    )
    (tmp_path / "tickets" / "new.html").write_text('<script>window.a = "</b>";</script>')
    (tmp_path / "ignored.html.gz").write_bytes(b"\x1f\x8b")
    expected = sorted(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in ('window.a = "</b>";', 'import "/assets/y.js";')
    )
    assert inline_script_hashes(tmp_path) == expected
    assert inline_script_hashes(tmp_path / "missing") == []
    api = create_api()
    outer = Starlette()
    outer.mount("", api)
    with TestClient(secure_asgi_app(outer, tmp_path), headers=dict(client.headers)) as served:
        policy = served.get("/api/tickets/").headers["content-security-policy"]
    script_src = next(part.split()[1:] for part in policy.split(";") if "script-src" in part)
    assert script_src == ["'self'", *expected, "'unsafe-eval'"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_the_docs_pages_may_run_their_own_inline_scripts_and_no_others(
    anonymous_client: TestClient, path: str
) -> None:
    response = anonymous_client.get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    page_hashes = html_script_hashes(response.text)
    assert page_hashes or path == "/api/redoc"  # ReDoc's page loads its script from a file
    assert all(source in policy for source in page_hashes)
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    listing = anonymous_client.get("/api/tickets/")
    assert not any(source in listing.headers["Content-Security-Policy"] for source in page_hashes)
