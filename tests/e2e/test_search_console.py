"""The console's search box in headless Chromium: words, highlighting, ticket numbers (issue 23)."""

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


def _create(app: AppServer, **fields: str) -> dict:
    return post_json(f"{app.base_url}/api/tickets/", fields, token=app.token)


def _open_list(page, app: AppServer) -> None:
    page.goto(f"{app.base_url}/")
    expect(page.get_by_test_id("table-skeleton")).to_have_count(0)


def test_words_find_other_forms_and_are_highlighted(page, app_server: AppServer) -> None:
    tag = uuid.uuid4().hex[:6] + "q"
    wanted = _create(
        app_server,
        title=f"Payments are failing for {tag}",
        description=f"Since noon every card payment failed for the {tag} shop.",
    )
    _create(app_server, title=f"Question from {tag}", description="How do I export data?")
    _open_list(page, app_server)

    page.locator("#filter-search").fill(f"payment failing {tag}")

    expect(page).to_have_url(re.compile(r"sort=relevance"))
    rows = page.get_by_test_id("ticket-row")
    expect(rows).to_have_count(1)
    link = page.locator(f"#ticket-link-{wanted['id']}")
    expect(link.locator("mark")).to_have_text(["Payments", "failing", tag])
    expect(page.locator("#sort-select")).to_have_value("relevance")


def test_ticket_number_and_enter_open_that_ticket(page, app_server: AppServer) -> None:
    ticket = _create(app_server, title="Numbered ticket", description="Open me by number.")
    _open_list(page, app_server)

    search = page.locator("#filter-search")
    search.fill(f"#{ticket['id']}")
    expect(page.get_by_test_id("ticket-row")).to_have_count(1)
    search.press("Enter")

    expect(page).to_have_url(re.compile(rf"/tickets/{ticket['id']}$"))
    expect(page.get_by_role("heading", name="Numbered ticket")).to_be_visible()


def test_a_typo_shows_close_matches_and_says_so(page, app_server: AppServer) -> None:
    word = "zephyrine" + uuid.uuid4().hex[:4]
    ticket = _create(app_server, title=f"Setup of {word}", description="Configure it please.")
    _open_list(page, app_server)

    page.locator("#filter-search").fill(word[:4] + word[5] + word[4] + word[6:] + " ")

    expect(page.get_by_test_id("close-matches")).to_contain_text("No exact matches")
    expect(page.locator(f"#ticket-link-{ticket['id']}")).to_be_visible()
