"""Coming back from a ticket page puts the agent where they left the list."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import AppServer
from tests.support.seed import post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)


def test_back_from_a_ticket_focuses_its_row_and_j_continues_below(
    page, app_server: AppServer
) -> None:
    tag = uuid.uuid4().hex[:8]
    for n in range(6):
        post_json(
            f"{app_server.base_url}/api/tickets/",
            {"title": f"{tag} row {n}", "description": "Keyboard return", "category": "general"},
            token=app_server.token,
        )
    page.goto(f"{app_server.base_url}/?q={tag}")
    links = page.get_by_test_id("ticket-link")
    expect(links).to_have_count(6)
    page.locator("body").press("j")
    for _ in range(3):
        page.keyboard.press("j")
    expect(links.nth(3)).to_be_focused()
    opened = links.nth(3).get_attribute("data-ticket-id")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{opened}/?$"))
    expect(page.locator("#ticket-heading")).to_be_focused()

    page.go_back()
    expect(links.nth(3)).to_be_focused()
    page.keyboard.press("j")
    expect(links.nth(4)).to_be_focused()


def test_n_opens_the_form_with_the_title_field_ready_to_type(page, app_server: AppServer) -> None:
    page.goto(f"{app_server.base_url}/")
    expect(page.get_by_test_id("ticket-link").first).to_be_visible()
    page.locator("body").press("n")
    expect(page).to_have_url(re.compile(r"/tickets/new/?$"))
    expect(page.locator("#ticket-title")).to_be_focused()
    page.keyboard.type("Typed at once")
    expect(page.locator("#ticket-title")).to_have_value("Typed at once")
