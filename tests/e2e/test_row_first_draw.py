"""What a list row defers until it is used, and that it still works the same when it is.

A page of rows draws up to nine value pills a row and two times. The pills' menus are mounted
only when a pill is first used (`ticket_row.menu_pill`), and a row's "updated" time words its
local-time title when the pointer first enters it (`common.local_time`). Deferring the menus
took the rows' draw at 1,000 tickets from 714 ms to 323 ms (median, docs/performance.md).
These tests check what a user sees: each pill is announced as a menu button before it is
used, the first click, Enter or arrow key opens its menu, the choice is saved, focus comes back
to the pill, and hovering a time shows the local time and UTC.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid

import pytest

from tests.e2e.conftest import PASSWORD, AppServer, add_user, session_cookie
from tests.support.seed import post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

# Radix marks the triggers of the menus it mounted with their state.
MOUNTED_MENUS = "[data-testid=ticket-row] button[data-state]"


def _create(app: AppServer, title: str) -> dict:
    payload = {
        "title": title,
        "description": "The invoice shows the wrong amount.",
        "category": "billing",
        "priority": "low",
    }
    return post_json(f"{app.base_url}/api/tickets/", payload, token=app.token)


def _stored(app: AppServer, ticket_id: int) -> dict:
    request = urllib.request.Request(
        f"{app.base_url}/api/tickets/{ticket_id}/",
        headers={"Authorization": f"Bearer {app.token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def _saved(app: AppServer, ticket_id: int, field: str, value: str) -> None:
    """Wait up to 15 s until the API returns the ticket with `field` set to `value`."""
    deadline = time.monotonic() + 15
    while (stored := _stored(app, ticket_id)[field]) != value:
        assert time.monotonic() < deadline, f"{field} is {stored!r}, not {value!r}"
        time.sleep(0.2)


@pytest.fixture
def agent_page(browser, app_server: AppServer):
    email = f"agent-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "agent")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    context.add_cookies([session_cookie(app_server, email, PASSWORD)])
    yield context.new_page()
    context.close()


def _row(page, app: AppServer, tag: str):
    page.goto(f"{app.base_url}/?q={tag}")
    row = page.get_by_test_id("ticket-row").first
    expect(row).to_be_visible()
    return row


def test_pills_are_menu_buttons_whose_menus_mount_on_first_use(
    agent_page, app_server: AppServer
) -> None:
    tag = uuid.uuid4().hex[:8]
    ticket = _create(app_server, f"{tag} lazy menus")
    page = agent_page
    row = _row(page, app_server, tag)
    status = row.get_by_test_id("status-pill").first
    expect(status).to_have_attribute("aria-haspopup", "menu")
    expect(status).to_have_attribute("aria-expanded", "false")
    expect(page.locator(MOUNTED_MENUS)).to_have_count(0)

    status.click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    expect(page.locator(MOUNTED_MENUS)).to_have_count(1)
    expect(status).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(status).to_be_focused()
    expect(status).to_have_attribute("aria-expanded", "false")

    # Used once, the pill keeps its menu: the next click opens it at once.
    status.click()
    page.get_by_role("menuitem", name="Resolved").click()
    expect(status).to_have_text("Resolved")
    expect(status).to_be_focused()
    _saved(app_server, ticket["id"], "status", "resolved")
    # Only the pill that was used mounted a menu.
    expect(page.locator(MOUNTED_MENUS)).to_have_count(1)


def test_an_unused_pill_opens_from_the_keyboard(agent_page, app_server: AppServer) -> None:
    tag = uuid.uuid4().hex[:8]
    ticket = _create(app_server, f"{tag} keyboard menus")
    page = agent_page
    row = _row(page, app_server, tag)

    priority = row.get_by_test_id("priority-pill").first
    priority.focus()
    page.keyboard.press("ArrowDown")
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    choice = menu.get_by_role("menuitem", name="High")
    while not choice.evaluate("item => item === document.activeElement"):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(priority).to_have_text("High")
    expect(priority).to_be_focused()

    category = row.get_by_test_id("category-pill").first
    category.focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("menu")).to_be_visible()
    page.keyboard.type("Tech")  # the menu's type-ahead
    expect(page.get_by_role("menuitem", name="Technical")).to_be_focused()
    page.keyboard.press("Enter")
    expect(category).to_have_text("Technical")
    _saved(app_server, ticket["id"], "category", "technical")
    _saved(app_server, ticket["id"], "priority", "high")


def test_hovering_a_rows_time_shows_the_local_time_and_utc(
    agent_page, app_server: AppServer
) -> None:
    tag = uuid.uuid4().hex[:8]
    _create(app_server, f"{tag} hover time")
    page = agent_page
    row = _row(page, app_server, tag)
    updated = row.get_by_test_id("row-updated").locator("time")
    expect(updated).to_have_text("just now")
    updated.hover()
    # "Dec 6, 2026, 11:58 PM UTC (2026-12-06 23:58 UTC)" in this browser's locale and zone.
    expect(updated).to_have_attribute(
        "title", re.compile(r"^\S.* \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$")
    )
    iso = updated.get_attribute("datetime")
    utc = iso[:16].replace("T", " ")
    assert updated.get_attribute("title").endswith(f"({utc} UTC)")
