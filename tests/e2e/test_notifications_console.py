"""Two people in two browsers: an assignment raises the other's bell, which leads to the ticket."""

from __future__ import annotations

import re
import sqlite3
import uuid

import pytest

from tests.e2e.conftest import AppServer, add_user, session_cookie
from tests.support.seed import post_json
from ticket_app.ui.state.notifications import POLL_SECONDS

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def test_assigning_a_ticket_raises_the_assignees_bell_in_their_browser(
    browser, app_server: AppServer
) -> None:
    email = f"bell-{uuid.uuid4().hex[:8]}@example.com"
    add_user(app_server, email, "agent")
    with sqlite3.connect(app_server.db_path) as connection:
        (agent_id,) = connection.execute(
            "SELECT id FROM staff_users WHERE email = ?", (email,)
        ).fetchone()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(app_server, email)])
        tab = context.new_page()
        tab.goto(f"{app_server.base_url}/")
        bell = tab.locator("#notification-bell")
        expect(bell).to_have_attribute("aria-label", "Notifications, none unread")

        # The admin, elsewhere, assigns a new ticket to the agent.
        title = f"Bell check {uuid.uuid4().hex[:6]}"
        ticket = post_json(
            f"{app_server.base_url}/api/tickets/",
            {
                "title": title,
                "description": "The agent should hear about this.",
                "category": "technical",
                "priority": "high",
                "assignee_id": agent_id,
            },
            token=app_server.token,
        )
        expect(bell).to_have_attribute(
            "aria-label", "Notifications, 1 unread", timeout=(3 * POLL_SECONDS + 5) * 1000
        )
        expect(tab.get_by_test_id("unread-count")).to_have_text("1")

        bell.click()
        expect(tab).to_have_url(re.compile(r"/notifications$"))
        entry = tab.get_by_test_id("notification")
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text("Assigned to you")
        expect(entry).to_have_attribute("data-unread", "true")
        tab.get_by_test_id("open-notification").click()
        expect(tab).to_have_url(re.compile(rf"/tickets/{ticket['id']}$"))
        expect(tab.get_by_role("heading", name=title)).to_be_visible()
        expect(bell).to_have_attribute("aria-label", "Notifications, none unread")
    finally:
        context.close()


def test_the_e_mail_choices_are_checkboxes_reached_and_toggled_by_keyboard(
    page, app_server: AppServer
) -> None:
    page.goto(f"{app_server.base_url}/notifications")
    replied = page.get_by_role("checkbox", name="Also e-mail me: Someone replies on a ticket I")
    expect(replied).to_have_attribute("aria-checked", "false")
    expect(
        page.get_by_role("checkbox", name="Also e-mail me: A ticket is assigned to me")
    ).to_have_attribute("aria-checked", "true")
    page.get_by_test_id("email-assigned").focus()
    page.keyboard.press("Tab")
    expect(replied).to_be_focused()
    page.keyboard.press("Space")
    expect(replied).to_have_attribute("aria-checked", "true")
    page.reload()
    expect(replied).to_have_attribute("aria-checked", "true")
    replied.focus()  # and off again, as the other tests expect the defaults
    page.keyboard.press("Space")
    expect(replied).to_have_attribute("aria-checked", "false")
