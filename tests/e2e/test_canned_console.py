"""The composer in a browser: `/` inserts a canned response with its placeholders filled, and an
@mention in a note makes that colleague a follower."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, AppServer, add_user, session_cookie
from tests.support.seed import post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def test_slash_inserts_a_filled_response_and_a_mention_adds_a_follower(
    browser, app_server: AppServer
) -> None:
    suffix = uuid.uuid4().hex[:6]
    colleague = f"mate{suffix}@example.com"
    add_user(app_server, colleague, "agent")
    ticket = post_json(
        f"{app_server.base_url}/api/tickets/",
        {
            "title": f"Printer jams {suffix}",
            "description": "Every page jams.",
            "category": "technical",
            "priority": "high",
            "requester_name": "Casey Doe",
        },
        token=app_server.token,
    )
    post_json(
        f"{app_server.base_url}/api/canned-responses/",
        {
            "title": f"Greeting {suffix}",
            "body": "Hi {{requester.name}}, about #{{ticket.id}}: {{agent.name}} {{other}}",
        },
        token=app_server.token,
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])
        tab = context.new_page()
        tab.goto(f"{app_server.base_url}/tickets/{ticket['id']}")
        expect(tab.locator("#ticket-heading")).to_contain_text(f"Printer jams {suffix}")
        composer = tab.locator("#composer-body")
        composer.click()
        composer.press_sequentially(f"/greeting {suffix[:3]}", delay=30)
        suggestion = tab.get_by_test_id("canned-suggestion")
        expect(suggestion).to_have_text(f"Greeting {suffix}")
        suggestion.focus()
        tab.keyboard.press("Enter")
        admin_name = ADMIN_EMAIL.split("@", 1)[0]
        expect(composer).to_have_value(
            f"Hi Casey Doe, about #{ticket['id']}: {admin_name} {{{{other}}}}"
        )
        expect(composer).to_be_focused()

        tab.locator("#composer-note").click()
        composer.fill("")
        composer.press_sequentially(f"Can you check? @mate{suffix[:2]}", delay=30)
        mention = tab.get_by_test_id("mention-suggestion")
        expect(mention).to_contain_text(f"@mate{suffix}")
        mention.click()
        expect(composer).to_have_value(f"Can you check? @mate{suffix} ")
        tab.locator("#composer-submit").click()
        expect(tab.get_by_test_id("followers")).to_contain_text(f"mate{suffix}")
        with sqlite3.connect(app_server.db_path) as connection:
            followers = connection.execute(
                "SELECT u.email FROM ticket_followers f JOIN staff_users u ON u.id = f.user_id "
                "WHERE f.ticket_id = ?",
                (ticket["id"],),
            ).fetchall()
            uses = connection.execute(
                "SELECT uses FROM canned_responses WHERE title = ?", (f"Greeting {suffix}",)
            ).fetchone()
        assert followers == [(colleague,)]
        assert uses == (1,)
    finally:
        context.close()
