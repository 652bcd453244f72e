"""End-to-end checks of the staff console in headless Chromium against a running app.

The queue (filters, sort, assignment, saved views, bulk changes, keyboard), the new-ticket
page and live refresh.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, AppServer, session_cookie, tickets_table_offline
from tests.support.seed import get_json, post_json

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
    expect(page.get_by_test_id("list-summary")).not_to_be_empty()


def _new_ticket_page(page, app: AppServer) -> None:
    page.goto(f"{app.base_url}/tickets/new")
    expect(page.locator("#ticket-title")).to_be_visible()


def _choose(page, select_selector: str, option: str) -> None:
    page.locator(select_selector).select_option(label=option)


def _pick(row, field: str, choice: str) -> None:
    """Open a row's `field` pill (status, priority, category) and choose `choice`."""
    row.get_by_test_id(f"{field}-pill").click()
    row.page.get_by_role("menuitem", name=choice).click()


def _assign(row, name: str) -> None:
    """Open a row's assignee pill and choose `name` by typing it (the menu's type-ahead)."""
    row.get_by_test_id("assignee-pill").click()
    row.page.keyboard.type(name)
    expect(row.page.get_by_role("menuitem", name=name)).to_be_focused()
    row.page.keyboard.press("Enter")


def _total(page) -> int:
    """The ticket count of the summary above the list ("42 tickets · 7 open · 1 critical")."""
    return int(page.get_by_test_id("list-summary").inner_text().split(" ")[0].replace(",", ""))


def _ticket(app: AppServer, ticket_id: int) -> dict:
    return get_json(f"{app.base_url}/api/tickets/{ticket_id}/", token=app.token)


def _rows(page):
    return page.get_by_test_id("ticket-row")


def test_suggestion_prefills_and_manual_override_survives(page, app_server: AppServer) -> None:
    _new_ticket_page(page, app_server)
    page.locator("#ticket-description").fill(BILLING_TEXT)
    expect(page.get_by_test_id("category-hint")).to_contain_text("AI suggestion")
    expect(page.locator("#ticket-category")).to_have_value("billing")
    expect(page.get_by_test_id("category-hint")).to_contain_text(
        re.compile(r"(low|medium|high) confidence")
    )

    _choose(page, "#ticket-priority", "Low")
    page.locator("#ticket-description").fill(OUTAGE_TEXT)
    expect(page.locator("#ticket-category")).to_have_value("technical")
    expect(page.locator("#ticket-priority")).to_have_value("low")
    expect(page.get_by_test_id("priority-hint")).to_contain_text("Overridden")


def test_submit_adds_ticket_on_top_and_updates_the_summary(page, app_server: AppServer) -> None:
    _open(page, app_server)
    total_before = _total(page)
    page.get_by_role("link", name="New ticket (n)").click()
    expect(page).to_have_url(re.compile(r"/tickets/new/?$"))
    title = f"Refund please {_token()}"
    page.locator("#ticket-title").fill(title)
    expect(page.get_by_test_id("title-count")).to_have_text(f"{len(title)} / 200")
    page.locator("#ticket-description").fill(BILLING_TEXT)
    expect(page.locator("#ticket-category")).to_have_value("billing")
    page.locator("#submit-ticket").click()

    expect(page.get_by_text(re.compile(r"Ticket #\d+ created"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.locator("#ticket-heading")).to_contain_text(title)
    page.get_by_role("link", name="Back to list").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(_rows(page).first).to_contain_text(title)
    expect(page.get_by_test_id("list-summary")).to_contain_text(f"{total_before + 1:,} ticket")
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

    page.locator("#more-filters-button").click()
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
        page.get_by_role("button", name=re.compile("Export CSV")).click()
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
    _pick(row, "status", "In progress")
    expect(page.get_by_text(f"Ticket #{ticket['id']}: status set to in progress")).to_be_visible()
    stored = get_json(f"{app_server.base_url}/api/tickets/{ticket['id']}/", token=app_server.token)
    assert stored["status"] == "in_progress"

    _pick(row, "priority", "High")
    expect(page.get_by_text(f"Ticket #{ticket['id']}: priority set to high")).to_be_visible()
    stored = get_json(f"{app_server.base_url}/api/tickets/{ticket['id']}/", token=app_server.token)
    assert stored["priority"] == "high"


def test_a_ticket_set_pending_is_labelled_and_found_by_the_status_filter(
    page, app_server: AppServer
) -> None:
    tag = _token()
    ticket = _create(app_server, title=f"{tag} waiting", category="account", priority="medium")
    _create(app_server, title=f"{tag} still open", category="account", priority="medium")
    _open(page, app_server, f"?q={tag}")
    row = _rows(page).filter(has_text=f"{tag} waiting")
    _pick(row, "status", "Pending")
    expect(page.get_by_text(f"Ticket #{ticket['id']}: status set to pending")).to_be_visible()
    assert _ticket(app_server, ticket["id"])["status"] == "pending"
    _choose(page, "#filter-status", "Pending")
    expect(page).to_have_url(re.compile(r"status=pending"))
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first.get_by_test_id("status-pill")).to_have_text("Pending")


def test_ticket_created_elsewhere_shows_up_without_reload(page, app_server: AppServer) -> None:
    _open(page, app_server)
    total_before = _total(page)
    title = f"From the API {_token()}"
    _create(app_server, title=title, category="general", priority="low")
    expect(_rows(page).first).to_contain_text(title, timeout=10_000)
    expect(page.get_by_test_id("list-summary")).to_contain_text(f"{total_before + 1:,} ticket")


def test_submit_with_database_down_keeps_the_typed_text(page, app_server: AppServer) -> None:
    _new_ticket_page(page, app_server)
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
    expect(page.locator("#ticket-heading")).to_contain_text(title)
    expect(page.get_by_test_id("form-error")).to_have_count(0)


def test_rows_are_links_to_the_ticket_page_and_keep_the_list_query(
    page, app_server: AppServer
) -> None:
    tag = _token()
    ticket = _create(app_server, title=f"{tag} link", priority="high")
    _open(page, app_server, f"?q={tag}&sort=-priority")
    link = page.get_by_role("link", name=f"{tag} link")
    expect(link).to_have_attribute("href", f"/tickets/{ticket['id']}")
    link.click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket['id']}/?$"))
    page.go_back()
    expect(page).to_have_url(re.compile(rf"\?q={tag}&sort=-priority$"))
    expect(_rows(page)).to_have_count(1)


def test_clicking_the_priority_header_sorts_critical_first(page, app_server: AppServer) -> None:
    tag = _token()
    for priority in ("low", "critical", "medium", "high"):
        _create(app_server, title=f"{tag} {priority}", priority=priority)
    _open(page, app_server, f"?q={tag}")
    header = page.get_by_role("columnheader", name=re.compile("Priority"))
    expect(header).to_have_attribute("aria-sort", "none")
    header.get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"sort=-priority"))
    expect(header).to_have_attribute("aria-sort", "descending")
    order = [f"{tag} {p}" for p in ("critical", "high", "medium", "low")]
    for position, title in enumerate(order):
        expect(_rows(page).nth(position)).to_contain_text(title)
    page.reload()
    expect(_rows(page).first).to_contain_text(order[0])
    expect(page.locator("#sort-select")).to_have_value("-priority")


def test_assign_to_me_shows_the_ticket_under_assigned_to_me(page, app_server: AppServer) -> None:
    tag = _token()
    ticket = _create(app_server, title=f"{tag} mine")
    me = get_json(f"{app_server.base_url}/api/me/", token=app_server.token)
    _open(page, app_server, f"?q={tag}")
    _assign(_rows(page).first, me["name"])
    expect(page.get_by_text(f"Ticket #{ticket['id']}: assigned to")).to_be_visible()
    assert _ticket(app_server, ticket["id"])["assignee_id"] == me["id"]

    page.get_by_test_id("nav-view").filter(has_text="Assigned to me").click()
    expect(page).to_have_url(re.compile(r"/\?assignee=me$"))
    expect(_rows(page).filter(has_text=f"{tag} mine")).to_have_count(1)
    mine = page.get_by_test_id("nav-view").filter(has_text="Assigned to me")
    expect(mine).to_have_attribute("aria-current", "page")


def test_saved_view_count_follows_a_change_made_in_another_browser(
    page, browser, app_server: AppServer
) -> None:
    tag = _token()
    first = _create(app_server, title=f"{tag} one")
    _create(app_server, title=f"{tag} two")
    _open(page, app_server, f"?q={tag}&status=open")
    page.locator("#save-view").click()
    page.locator("#view-name").fill(f"Open {tag}")
    page.locator("#save-view-submit").click()
    saved = page.get_by_test_id("saved-view").filter(has_text=f"Open {tag}")
    expect(saved.get_by_test_id("saved-view-count")).to_have_text("2")

    other = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])
        tab = other.new_page()
        tab.goto(f"{app_server.base_url}/?q={tag}")
        row = tab.locator(f"[data-testid=ticket-row][data-ticket-id='{first['id']}']")
        _pick(row, "status", "Closed")
        expect(tab.get_by_text(f"Ticket #{first['id']}: status set to closed")).to_be_visible()
    finally:
        other.close()
    expect(saved.get_by_test_id("saved-view-count")).to_have_text("1", timeout=10_000)
    expect(_rows(page)).to_have_count(1)

    saved.click()
    expect(page).to_have_url(re.compile(rf"\?status=open&q={tag}$"))
    page.get_by_role("button", name=f"Delete view Open {tag}").click()
    page.get_by_test_id("confirm-delete-view").click()
    expect(saved).to_have_count(0)


def test_bulk_close_all_matching_then_undo(page, app_server: AppServer) -> None:
    tag = _token()
    ids = [_create(app_server, title=f"{tag} bulk {n}")["id"] for n in range(30)]
    _open(page, app_server, f"?q={tag}")
    expect(_rows(page)).to_have_count(25)
    page.get_by_test_id("select-page").click()
    expect(page.get_by_test_id("bulk-count")).to_have_text("25 selected")
    page.locator("#select-all-matching").click()
    expect(page.get_by_test_id("bulk-count")).to_have_text("All 30 matching tickets selected")
    page.locator("#bulk-status").select_option("closed")
    page.locator("#apply-bulk").click()
    page.get_by_role("button", name="Change 30 tickets").click()
    expect(page.get_by_test_id("undo-bar")).to_contain_text("30 tickets changed.")
    assert {_ticket(app_server, i)["status"] for i in ids} == {"closed"}
    expect(_rows(page).first.get_by_test_id("status-pill")).to_have_text("Closed")

    page.locator("#undo-bulk").click()
    expect(page.get_by_text("Undone: 30 tickets restored.")).to_be_visible()
    assert {_ticket(app_server, i)["status"] for i in ids} == {"open"}
    events = get_json(f"{app_server.base_url}/api/tickets/{ids[0]}/events/", token=app_server.token)
    assert [(e["field"], e["new_value"]) for e in events[-2:]] == [
        ("status", "closed"),
        ("status", "open"),
    ]


def test_shift_click_selects_a_range(page, app_server: AppServer) -> None:
    tag = _token()
    for n in range(5):
        _create(app_server, title=f"{tag} range {n}")
    _open(page, app_server, f"?q={tag}")
    boxes = page.get_by_test_id("row-checkbox")
    boxes.nth(0).click()
    boxes.nth(3).click(modifiers=["Shift"])
    expect(page.get_by_test_id("bulk-count")).to_have_text("4 selected")
    expect(boxes.nth(4)).not_to_be_checked()


def test_shortcuts_dialog_gives_focus_back_to_its_button(page, app_server: AppServer) -> None:
    tag = _token()
    _create(app_server, title=f"{tag} shortcuts")
    _open(page, app_server, f"?q={tag}")
    button = page.get_by_role("button", name="Keyboard shortcuts")
    dialog = page.get_by_test_id("shortcuts-dialog")
    close = dialog.get_by_role("button", name="Close")

    button.focus()
    page.keyboard.press("Enter")
    expect(close).to_be_focused()
    page.keyboard.press("Tab")
    assert dialog.evaluate("element => element.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(button).to_be_focused()

    page.keyboard.press("Enter")
    expect(close).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(button).to_be_focused()


def test_keyboard_moves_selects_opens_and_creates(page, app_server: AppServer) -> None:
    tag = _token()
    _create(app_server, title=f"{tag} key 1")
    middle = _create(app_server, title=f"{tag} key 2")
    _create(app_server, title=f"{tag} key 3")
    _open(page, app_server, f"?q={tag}")
    links = page.get_by_test_id("ticket-link")
    page.locator("body").press("j")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(links.nth(2)).to_be_focused()
    page.keyboard.press("k")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("x")
    expect(page.get_by_test_id("row-checkbox").nth(1)).to_be_checked()

    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("shortcuts-dialog")).to_have_count(0)
    expect(links.nth(1)).to_be_focused()

    page.keyboard.press("/")
    expect(page.locator("#filter-search")).to_be_focused()
    page.keyboard.type("jk")  # typed into the search box, not taken as shortcuts
    expect(page.locator("#filter-search")).to_have_value(f"{tag}jk")
    _open(page, app_server, f"?q={tag}")
    page.locator("body").press("j")
    page.keyboard.press("j")
    # Enter on a focused link is the browser's own: like a person, wait for the highlight.
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{middle['id']}/?$"))
    page.go_back()
    expect(links.nth(2)).to_contain_text(f"{tag} key 1")
    page.locator("body").press("n")
    expect(page).to_have_url(re.compile(r"/tickets/new/?$"))
