"""Browsers keep the console's content-hashed build files for good, and nothing else.

`ImmutableAssetsMiddleware` around a small app standing in for Reflex's static mount: a build
file's 200 is `immutable` for a year; a missing build file, a page, the API and an answer that
sets its own `Cache-Control` are left as they were; a `frontend_path` moves the prefix.
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ticket_app.api.asset_cache import IMMUTABLE, ImmutableAssetsMiddleware, assets_prefix


def _answer(request) -> PlainTextResponse:
    name = request.path_params["name"].rsplit("/", 1)[-1]
    if name.startswith("missing"):
        return PlainTextResponse("no such file", status_code=404)
    if name.startswith("private"):
        return PlainTextResponse("x", headers={"Cache-Control": "no-store"})
    return PlainTextResponse("export const x = 1;")


def _client(prefix: str = "/assets/") -> TestClient:
    routes = [Route("/{name:path}", _answer)]
    return TestClient(ImmutableAssetsMiddleware(Starlette(routes=routes), prefix))


def test_a_build_file_is_cached_immutably() -> None:
    answer = _client().get("/assets/pages-CLFYCWha.js")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == IMMUTABLE


@pytest.mark.parametrize(
    "path", ["/", "/tickets/12", "/api/tickets/", "/assets-not/x.js", "/x/assets/y.js"]
)
def test_pages_and_the_api_are_not_marked(path: str) -> None:
    assert "cache-control" not in _client().get(path).headers


def test_a_missing_build_file_is_not_cached() -> None:
    answer = _client().get("/assets/missing-Ab12.js")
    assert answer.status_code == 404
    assert "cache-control" not in answer.headers


def test_an_answers_own_cache_control_is_kept() -> None:
    assert _client().get("/assets/private.js").headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("frontend_path", "prefix"), [("", "/assets/"), ("/", "/assets/"), ("/desk/", "/desk/assets/")]
)
def test_the_prefix_follows_the_frontend_path(frontend_path: str, prefix: str) -> None:
    assert assets_prefix(frontend_path) == prefix
    client = _client(prefix)
    assert client.get(f"{prefix}root-Dlq.js").headers["cache-control"] == IMMUTABLE
    if prefix != "/assets/":
        assert "cache-control" not in client.get("/assets/root-Dlq.js").headers
