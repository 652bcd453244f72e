"""Opening a ticket page directly: the heading takes focus and the browser logs no error."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import AppServer
from tests.support.seed import post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)


def test_a_direct_load_focuses_the_heading_without_console_errors(
    page, app_server: AppServer
) -> None:
    ticket = post_json(
        f"{app_server.base_url}/api/tickets/",
        {"title": "Direct load", "description": "Opened by URL", "category": "general"},
        token=app_server.token,
    )
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{app_server.base_url}/tickets/{ticket['id']}")
    heading = page.locator("#ticket-heading")
    expect(heading).to_contain_text("Direct load")
    expect(heading).to_be_focused()
    page.wait_for_timeout(500)
    assert [text for text in errors if "ref" in text or "focus" in text] == []
