"""Tags in the console, end to end: added in bulk from the list, then the list filtered by them;
added and removed on a ticket's page."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import AppServer
from tests.support.seed import get_json, post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)


def _create(app: AppServer, title: str) -> int:
    payload = {"title": title, "description": "Something happened."}
    return post_json(f"{app.base_url}/api/tickets/", payload, token=app.token)["id"]


def _tags(app: AppServer, ticket_id: int) -> list[str]:
    return get_json(f"{app.base_url}/api/tickets/{ticket_id}/", token=app.token)["tags"]


def _open_list(page, app: AppServer, query: str) -> None:
    page.goto(f"{app.base_url}/{query}")
    expect(page.get_by_test_id("table-skeleton")).to_have_count(0)
    expect(page.get_by_test_id("list-summary")).not_to_be_empty()


def test_tags_added_in_bulk_filter_the_list(page, app_server: AppServer) -> None:
    token = uuid.uuid4().hex[:8]
    tag = f"t{token}"
    ids = [_create(app_server, f"{token} tagged {n}") for n in range(3)]
    _open_list(page, app_server, f"?q={token}")
    rows = page.get_by_test_id("ticket-row")
    expect(rows).to_have_count(3)
    # Newest first: tick the two newest rows.
    rows.nth(0).get_by_test_id("row-checkbox").click()
    rows.nth(1).get_by_test_id("row-checkbox").click()
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 selected")
    add = page.get_by_label("Add tag to the selected tickets (comma-separated)")
    add.fill(tag.upper())
    page.locator("#apply-bulk").click()
    expect(page.get_by_test_id("undo-bar")).to_contain_text("2 tickets changed.")
    assert [_tags(app_server, i) for i in ids] == [[], [tag], [tag]]
    expect(rows.nth(0).get_by_test_id("row-tags")).to_contain_text(tag)

    page.locator("#more-filters-button").click()  # the tag filter is one of the less-used
    page.get_by_label("Filter by tag; a leading minus excludes it").fill(tag)
    expect(page).to_have_url(f"{app_server.base_url}/?q={token}&tag={tag}")
    expect(rows).to_have_count(2)
    shown = {int(rows.nth(n).get_attribute("data-ticket-id")) for n in range(2)}
    assert shown == {ids[1], ids[2]}

    page.get_by_label("Filter by tag; a leading minus excludes it").fill(f"-{tag}")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-ticket-id", str(ids[0]))


def test_tags_are_added_and_removed_on_the_ticket_page(page, app_server: AppServer) -> None:
    token = uuid.uuid4().hex[:8]
    ticket_id = _create(app_server, f"{token} page tags")
    page.goto(f"{app_server.base_url}/tickets/{ticket_id}")
    field = page.get_by_role("combobox", name="Tags", exact=True)
    expect(field).to_be_visible()
    field.fill(f"Billing, v{token}")
    field.press("Enter")
    chips = page.get_by_test_id("tag-chip")
    expect(chips).to_have_count(2)
    assert _tags(app_server, ticket_id) == ["billing", f"v{token}"]
    expect(field).to_be_focused()
    page.get_by_role("button", name="Remove tag billing").click()
    expect(chips).to_have_count(1)
    assert _tags(app_server, ticket_id) == [f"v{token}"]
