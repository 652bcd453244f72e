"""End-to-end checks of the staff console in headless Chromium against a running app."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import AppServer, tickets_table_offline
from tests.e2e.seed import get_json, post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

BILLING_TEXT = "I was charged twice on my last invoice, please refund the duplicate payment."
OUTAGE_TEXT = "Production is down: the server returns 500 errors for all customers, urgent!"


def _token() -> str:
    return uuid.uuid4().hex[:8]


def _create(app: AppServer, **fields: str) -> dict:
    payload = {"title": "Ticket", "description": "Something happened.", **fields}
    return post_json(f"{app.base_url}/api/tickets/", payload, token=app.token)


def _open(page, app: AppServer, query: str = "") -> None:
    page.goto(f"{app.base_url}/{query}")
    expect(page.get_by_test_id("table-skeleton")).to_have_count(0)


def _choose(page, select_selector: str, option: str) -> None:
    page.locator(select_selector).select_option(label=option)


def _total(page) -> int:
    return int(page.get_by_test_id("stat-total").inner_text().replace(",", ""))


def _rows(page):
    return page.get_by_test_id("ticket-row")


def test_suggestion_prefills_and_manual_override_survives(page, app_server: AppServer) -> None:
    _open(page, app_server)
    page.locator("#ticket-description").fill(BILLING_TEXT)
    expect(page.get_by_test_id("category-hint")).to_contain_text("AI suggestion")
    expect(page.locator("#ticket-category")).to_have_value("billing")
    expect(page.get_by_test_id("category-hint")).to_contain_text(re.compile(r"\d+%"))

    _choose(page, "#ticket-priority", "Low")
    page.locator("#ticket-description").fill(OUTAGE_TEXT)
    expect(page.locator("#ticket-category")).to_have_value("technical")
    expect(page.locator("#ticket-priority")).to_have_value("low")
    expect(page.get_by_test_id("priority-hint")).to_contain_text("Overridden")


def test_submit_adds_ticket_on_top_and_updates_stats(page, app_server: AppServer) -> None:
    _open(page, app_server)
    total_before = _total(page)
    title = f"Refund please {_token()}"
    page.locator("#ticket-title").fill(title)
    expect(page.get_by_test_id("title-count")).to_have_text(f"{len(title)} / 200")
    page.locator("#ticket-description").fill(BILLING_TEXT)
    expect(page.locator("#ticket-category")).to_have_value("billing")
    page.locator("#submit-ticket").click()

    expect(page.get_by_text(re.compile(r"Ticket #\d+ created"))).to_be_visible()
    expect(_rows(page).first).to_contain_text(title)
    expect(page.get_by_test_id("stat-total")).to_have_text(f"{total_before + 1:,}")
    expect(page.locator("#ticket-title")).to_have_value("")
    ticket_id = _rows(page).first.get_attribute("data-ticket-id")
    stored = get_json(f"{app_server.base_url}/api/tickets/{ticket_id}/", token=app_server.token)
    assert stored["title"] == title
    assert stored["suggested_category"] == "billing"


def test_filters_and_search_narrow_the_table_and_survive_reload(
    page, app_server: AppServer
) -> None:
    tag = _token()
    _create(app_server, title=f"{tag} invoice", category="billing", priority="low")
    _create(app_server, title=f"{tag} crash", category="technical", priority="critical")
    crash_hot = _create(
        app_server, title=f"{tag} crash again", category="technical", priority="critical"
    )
    post_json(
        f"{app_server.base_url}/api/tickets/{crash_hot['id']}/",
        {"status": "resolved"},
        method="PATCH",
        token=app_server.token,
    )
    _open(page, app_server)

    page.locator("#filter-search").fill(tag)
    expect(page).to_have_url(re.compile(rf"q={tag}"))
    expect(_rows(page)).to_have_count(3)

    _choose(page, "#filter-category", "Technical")
    expect(page).to_have_url(re.compile(r"category=technical"))
    expect(_rows(page)).to_have_count(2)

    _choose(page, "#filter-status", "Resolved")
    expect(page).to_have_url(re.compile(r"status=resolved"))
    expect(_rows(page)).to_have_count(1)

    page.reload()
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text(f"{tag} crash again")
    expect(page.locator("#filter-status")).to_have_value("resolved")
    expect(page.locator("#filter-search")).to_have_value(tag)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Export CSV")).click()
    exported = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert exported.count(tag) == 1 and f"{tag} crash again" in exported

    _open(page, app_server, f"?q={tag}&priority=low")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text(f"{tag} invoice")
    _choose(page, "#filter-priority", "Critical")
    expect(page).to_have_url(re.compile(r"priority=critical"))
    expect(_rows(page)).to_have_count(2)


def test_inline_status_change_persists(page, app_server: AppServer) -> None:
    tag = _token()
    ticket = _create(app_server, title=f"{tag} inline", category="account", priority="medium")
    _open(page, app_server, f"?q={tag}")
    row = _rows(page).first
    row.get_by_test_id("status-select").select_option(label="In progress")
    expect(page.get_by_text(f"Ticket #{ticket['id']}: status set to in progress")).to_be_visible()
    stored = get_json(f"{app_server.base_url}/api/tickets/{ticket['id']}/", token=app_server.token)
    assert stored["status"] == "in_progress"

    row.get_by_test_id("priority-select").select_option(label="High")
    expect(page.get_by_text(f"Ticket #{ticket['id']}: priority set to high")).to_be_visible()
    stored = get_json(f"{app_server.base_url}/api/tickets/{ticket['id']}/", token=app_server.token)
    assert stored["priority"] == "high"


def test_ticket_created_elsewhere_shows_up_without_reload(page, app_server: AppServer) -> None:
    _open(page, app_server)
    total_before = _total(page)
    title = f"From the API {_token()}"
    _create(app_server, title=title, category="general", priority="low")
    expect(_rows(page).first).to_contain_text(title, timeout=10_000)
    expect(page.get_by_test_id("stat-total")).not_to_have_text(f"{total_before:,}")


def test_submit_with_database_down_keeps_the_typed_text(page, app_server: AppServer) -> None:
    _open(page, app_server)
    title = f"Nothing lost {_token()}"
    page.locator("#ticket-title").fill(title)
    page.locator("#ticket-description").fill(BILLING_TEXT)
    expect(page.locator("#ticket-category")).to_have_value("billing")
    _choose(page, "#ticket-priority", "High")

    with tickets_table_offline(app_server.db_path):
        page.locator("#submit-ticket").click()
        expect(page.get_by_test_id("form-error")).to_contain_text("database is unavailable")
    expect(page.locator("#ticket-title")).to_have_value(title)
    expect(page.locator("#ticket-description")).to_have_value(BILLING_TEXT)
    expect(page.locator("#ticket-priority")).to_have_value("high")

    page.locator("#submit-ticket").click()
    expect(_rows(page).first).to_contain_text(title)
    expect(page.get_by_test_id("form-error")).to_have_count(0)
