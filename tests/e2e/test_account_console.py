"""Invitations and one's own password in the browser: an invitation link sets a password and
signs in (once), and the Staff page says it was not e-mailed (no mailbox here; the e-mailed
case is in test_mail_console.py); changing one's password signs out one's other browser, not
this one."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import AppServer, add_user, session_cookie

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

NEW_PASSWORD = "quartz zebra lantern meadow"


def _context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    return context


def test_an_invitation_link_sets_a_password_and_signs_in(
    page, browser, app_server: AppServer
) -> None:
    email = f"invitee-{uuid.uuid4().hex[:6]}@example.com"
    page.goto(f"{app_server.base_url}/staff")
    page.locator("#new-email").fill(email)
    page.locator("#new-name").fill("Ivy Invitee")
    page.locator("#new-role").select_option("agent")
    page.get_by_role("button", name="Invite", exact=True).click()
    shown = page.get_by_test_id("issued-link")
    expect(shown).to_contain_text("/invite/")
    # This server has no mailbox: the page says the link was not e-mailed, and why.
    expect(page.get_by_test_id("issued-mail")).to_have_text(
        "Not e-mailed (no active mailbox to send from): pass this link on."
    )
    link = shown.inner_text()
    expect(page.get_by_test_id("staff-row").filter(has_text=email)).to_be_visible()

    invitee = _context(browser)
    try:
        tab = invitee.new_page()
        tab.goto(f"{app_server.base_url}{link}")
        expect(tab.get_by_role("heading", name="Welcome to Triage Desk")).to_be_visible()
        expect(tab.get_by_text(email)).to_be_visible()
        # The browser itself refuses under 12 characters; a common password reaches the server.
        tab.get_by_label("New password").fill("password1234")
        tab.get_by_role("button", name="Save password and sign in").click()
        expect(tab.get_by_test_id("auth-message")).to_contain_text("Password is")
        tab.get_by_label("New password").fill(NEW_PASSWORD)
        tab.get_by_role("button", name="Save password and sign in").click()
        expect(tab).to_have_url(re.compile(r"/$"))
        expect(tab.get_by_test_id("signed-in-as")).to_contain_text("Ivy Invitee · agent")

        tab.goto(f"{app_server.base_url}{link}")
        expect(tab.get_by_test_id("link-problem")).to_contain_text("used already")
    finally:
        invitee.close()
    session_cookie(app_server, email, NEW_PASSWORD)  # signs in with the chosen password


def test_changing_ones_password_signs_out_ones_other_session(
    browser, app_server: AppServer
) -> None:
    email = f"changer-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "viewer")
    here, elsewhere = _context(browser), _context(browser)
    try:
        here.add_cookies([session_cookie(app_server, email)])
        elsewhere.add_cookies([session_cookie(app_server, email)])
        there = elsewhere.new_page()
        there.goto(f"{app_server.base_url}/")
        expect(there.get_by_test_id("signed-in-as")).to_contain_text("viewer")

        tab = here.new_page()
        tab.goto(f"{app_server.base_url}/")
        tab.get_by_role("link", name="My account").click()
        expect(tab).to_have_url(re.compile(r"/account$"))
        expect(tab.get_by_test_id("session-row")).to_have_count(2)
        expect(tab.get_by_test_id("session-row").filter(has_text="This session")).to_have_count(1)
        tab.get_by_label("Current password").fill("e2e password for tests")
        tab.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        tab.get_by_label("New password again").fill(NEW_PASSWORD)
        tab.get_by_role("button", name="Change password").click()
        expect(tab.get_by_text("Password changed. 1 other session signed out.")).to_be_visible()
        expect(tab.get_by_test_id("session-row")).to_have_count(1)

        there.reload()
        expect(there).to_have_url(re.compile(r"/login"))
        tab.reload()
        expect(tab.get_by_test_id("signed-in-as")).to_contain_text("viewer")
    finally:
        here.close()
        elsewhere.close()
    session_cookie(app_server, email, NEW_PASSWORD)
