"""Issue 25's console items, clicked and read as a person does (headless Chromium)."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, PASSWORD, AppServer, add_user, session_cookie
from tests.support.seed import post_json

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect


def test_a_new_token_can_be_copied_and_a_90_day_token_expires_in_90_days(
    page, app_server: AppServer
) -> None:
    """Item 18: the one-time secret has a copy button; "in 90 days", not "in 89 days"."""
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=app_server.base_url
    )
    page.goto(f"{app_server.base_url}/tokens")
    page.locator("#token-name").fill("copy me")
    page.locator("#token-expiry").select_option("90")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token")
    expect(secret).to_contain_text("tdk_")

    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_text("Token copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret.inner_text().strip()

    row = page.get_by_test_id("token-row").filter(has_text="copy me")
    expect(row).to_contain_text("in 90 days")
    expect(row).not_to_contain_text(re.compile(r"in 89 days"))


def test_signing_in_from_a_deep_link_lands_on_a_clean_address(
    anonymous_page, app_server: AppServer
) -> None:
    """Item 19: after signing in, the address kept `?next=%2Ftickets%2F1`."""
    ticket = post_json(
        f"{app_server.base_url}/api/tickets/",
        {"title": "Deep link", "description": "Printer on fire"},
        token=app_server.token,
    )
    page = anonymous_page
    page.goto(f"{app_server.base_url}/tickets/{ticket['id']}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.locator("#email-input").fill(ADMIN_EMAIL)
    page.locator("#password-input").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Deep link"))).to_be_visible()
    expect(page).to_have_url(f"{app_server.base_url}/tickets/{ticket['id']}")


def test_signing_in_after_a_wrong_password_from_a_deep_link_lands_on_a_clean_address(
    anonymous_page, app_server: AppServer
) -> None:
    """Item 19 again, through a refused attempt first and Enter in the password field."""
    ticket = post_json(
        f"{app_server.base_url}/api/tickets/",
        {"title": "Deep link again", "description": "Printer still on fire"},
        token=app_server.token,
    )
    page = anonymous_page
    page.goto(f"{app_server.base_url}/tickets/{ticket['id']}")
    page.locator("#email-input").fill(ADMIN_EMAIL)
    page.locator("#password-input").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Email or password is incorrect.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/?\?.*next="))
    page.locator("#email-input").fill(ADMIN_EMAIL)
    page.locator("#password-input").fill(PASSWORD)
    page.locator("#password-input").press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Deep link again"))).to_be_visible()
    expect(page).to_have_url(f"{app_server.base_url}/tickets/{ticket['id']}")


def test_a_toast_stays_on_the_page_it_belongs_to(browser, page, app_server: AppServer) -> None:
    """Item 19: a toast shown on one page stayed on the next one for the rest of its time.

    The view's "deleted" toast (10 s, with Undo) goes when the tab moves to the dashboard; a
    toast that announces the page the tab is sent to (a role's refusal) is shown there.
    """
    name = f"Toast {uuid.uuid4().hex[:8]}"
    page.goto(f"{app_server.base_url}/?status=open")
    page.locator("#save-view").click()
    page.locator("#view-name").fill(name)
    page.locator("#save-view-submit").click()
    saved = page.get_by_test_id("saved-view").filter(has_text=name)
    expect(saved).to_be_visible()
    page.get_by_role("button", name=f"Delete view {name}").click()
    page.get_by_test_id("confirm-delete-view").click()
    toast = page.locator("[data-sonner-toast]").filter(has_text=f"View “{name}” deleted")
    expect(toast).to_be_visible()

    page.get_by_role("link", name="Dashboard").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard(\?|$)"))
    expect(toast).to_have_count(0, timeout=4_000)

    email = f"agent-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "agent")
    agent = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        agent.add_cookies([session_cookie(app_server, email)])
        tab = agent.new_page()
        tab.goto(f"{app_server.base_url}/staff")
        expect(tab).to_have_url(f"{app_server.base_url}/")
        expect(tab.get_by_text("Your role does not allow this.")).to_be_visible()
    finally:
        agent.close()
