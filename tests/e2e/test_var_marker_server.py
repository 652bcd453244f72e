"""Reflex's variable marker in a link or a name cannot hang the real server (issue 27, item 1).

A viewer follows `/login?next=/<reflex.Var>x</reflex.Var>` (an outsider can send that link); an
agent names a saved view with the marker, then deletes it. The server must keep answering
`/ping` and the API throughout.
"""

from __future__ import annotations

import re
import time
import urllib.request
import uuid

import pytest

from tests.e2e.conftest import AppServer, add_user, session_cookie

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
MARKER = "<reflex.Var>x</reflex.Var>"


def _answers(app: AppServer) -> bool:
    started = time.monotonic()
    with urllib.request.urlopen(f"{app.base_url}/ping", timeout=5) as response:
        return response.status == 200 and time.monotonic() - started < 2


def test_a_next_link_with_the_marker_lands_on_the_console(
    anonymous_page, app_server: AppServer
) -> None:
    email = f"viewer-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "viewer")
    anonymous_page.context.add_cookies([session_cookie(app_server, email)])
    anonymous_page.goto(f"{app_server.base_url}/login?next=/%3Creflex.Var%3Ex%3C/reflex.Var%3E")
    anonymous_page.wait_for_url(f"{app_server.base_url}/", timeout=15_000)
    expect(anonymous_page.get_by_text(re.compile(r"Showing \d+ of"))).to_be_visible()
    assert _answers(app_server)


def test_a_view_named_with_the_marker_is_saved_and_deleted(
    anonymous_page, app_server: AppServer
) -> None:
    email = f"agent-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "agent")
    page = anonymous_page
    page.context.add_cookies([session_cookie(app_server, email)])
    page.goto(f"{app_server.base_url}/?status=open")
    page.get_by_role("button", name="Save view").click()
    page.locator("#view-name").fill(f"v {MARKER}")
    page.locator("#save-view-submit").click()
    expect(page.get_by_text(re.compile(r"View “v .*” saved"))).to_be_visible()
    assert _answers(app_server)
    page.get_by_role("button", name=f"Delete view v {MARKER}").click()
    expect(page.get_by_role("alertdialog")).to_contain_text(re.compile(r"Delete the view “v .*”"))
    assert _answers(app_server)
    page.get_by_test_id("confirm-delete-view").click()
    expect(page.get_by_text(re.compile(r"View “v .*” deleted"))).to_be_visible()
    assert _answers(app_server)
