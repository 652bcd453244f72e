"""Issue 25's console items, clicked and read as a person does (headless Chromium)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, PASSWORD, AppServer
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
