"""Issue 22 in two browsers: a ticket nearing its first-reply target is in "Due soon", the
background check warns its assignee (whose bell rises in their own browser within the polling
interval), and the assignee's public reply takes it out of "Due soon" and clears the bell.

The every-minute check runs in the test process against the server's database, as the worker
would, at an instant 50 minutes on (past 80% of the critical default's 60-minute target), so
the test need not wait for the clock.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import timedelta

import pytest

from tests.e2e.conftest import AppServer, add_user, session_cookie
from tests.support.seed import post_json
from ticket_app.models import utc_now
from ticket_app.services import sla_check
from ticket_app.services.database import use_database
from ticket_app.ui.state.notifications import POLL_SECONDS

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def test_due_soon_warns_the_assignee_and_a_public_reply_clears_it(
    page, browser, app_server: AppServer
) -> None:
    email = f"due-soon-{uuid.uuid4().hex[:8]}@example.com"
    add_user(app_server, email, "agent")
    with sqlite3.connect(app_server.db_path) as connection:
        (agent_id,) = connection.execute(
            "SELECT id FROM staff_users WHERE email = ?", (email,)
        ).fetchone()
    title = f"Checkout down {uuid.uuid4().hex[:6]}"
    ticket = post_json(
        f"{app_server.base_url}/api/tickets/",
        {
            "title": title,
            "description": "Every customer gets an error at checkout.",
            "category": "billing",
            "priority": "critical",
            "assignee_id": agent_id,
        },
        token=app_server.token,
    )

    page.goto(f"{app_server.base_url}/")
    page.locator("[data-testid=nav-view][data-view='Due soon']").click()
    expect(page).to_have_url(re.compile(r"sla=due_soon"))
    row = page.get_by_test_id("ticket-row").filter(has_text=title)
    expect(row).to_contain_text("first reply due in")

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(app_server, email)])
        agent = context.new_page()
        agent.goto(f"{app_server.base_url}/")
        bell = agent.locator("#notification-bell")
        expect(bell).to_have_attribute(  # the assignment, at least
            "aria-label", re.compile(r"Notifications, \d+ unread"), timeout=20_000
        )
        agent.goto(f"{app_server.base_url}/notifications")
        agent.get_by_test_id("mark-all-read").click()
        expect(bell).to_have_attribute("aria-label", "Notifications, none unread")

        # The check also warns the team about other tests' unowned tickets, so the bell may
        # count more than this ticket's warning.
        use_database(app_server.database_url)
        assert sla_check.check_due(utc_now() + timedelta(minutes=50)) >= 1
        expect(bell).to_have_attribute(
            "aria-label",
            re.compile(r"Notifications, \d+ unread"),
            timeout=(3 * POLL_SECONDS + 5) * 1000,
        )
        bell.click()
        warning = (
            agent.get_by_test_id("notification")
            .filter(has_text=title)
            .filter(has_text="Target close: first response")
        )
        expect(warning).to_have_attribute("data-unread", "true")
        warning.get_by_test_id("open-notification").click()
        expect(agent).to_have_url(re.compile(rf"/tickets/{ticket['id']}$"))
        agent.goto(f"{app_server.base_url}/notifications")
        expect(warning).not_to_have_attribute("data-unread", "true")
        agent.goto(f"{app_server.base_url}/tickets/{ticket['id']}")

        agent.get_by_role("radio", name="Reply").click()
        agent.locator("#composer-body").fill("We are on it; a fix is rolling out now.")
        agent.locator("#composer-submit").click()
        expect(agent.locator("#composer-body")).to_have_value("")
    finally:
        context.close()

    page.reload()
    expect(page.get_by_test_id("list-summary")).not_to_be_empty()
    expect(page.get_by_test_id("ticket-row").filter(has_text=title)).to_have_count(0)
    with sqlite3.connect(app_server.db_path) as connection:
        (breached,) = connection.execute(
            "SELECT first_response_breached_at FROM tickets WHERE id = ?",
            (ticket["id"],),
        ).fetchone()
    assert breached is None
