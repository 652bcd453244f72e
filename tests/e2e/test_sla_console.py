"""The service-levels page in Chromium: an admin edits a policy and adds a calendar by keyboard
and mouse, the change reaches the database and the API; an agent sees the targets without
controls; the page with its forms open passes axe-core in light and dark.
"""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from tests.e2e.conftest import AppServer, add_user, session_cookie
from tests.e2e.test_accessibility import _axe_violations, themed_context  # noqa: F401

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)


def _api(app: AppServer, path: str) -> list[dict]:
    request = urllib.request.Request(
        f"{app.base_url}{path}", headers={"Authorization": f"Bearer {app.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _policy(app: AppServer, priority: str) -> dict:
    return next(
        policy
        for policy in _api(app, "/api/sla/policies/")
        if policy["priority"] == priority and policy["category"] is None
    )


def test_an_admin_changes_a_target_and_adds_a_calendar(page, app_server: AppServer) -> None:
    high = _policy(app_server, "high")
    page.goto(f"{app_server.base_url}/service-levels")
    expect(page.get_by_role("heading", name="Service levels")).to_be_visible()
    row = page.get_by_test_id("policy-row").filter(has_text=high["name"])
    expect(row.get_by_test_id("policy-first_response_minutes")).to_have_text("4 h")

    edit = page.get_by_role("button", name=f"Edit policy {high['name']}")
    edit.click()
    expect(page.locator("#policy-form-heading")).to_be_focused()
    first_reply = page.locator("#policy-first-response-minutes")
    expect(first_reply).to_have_value("240")
    first_reply.fill("45")
    page.locator("#policy-save").click()
    expect(row.get_by_test_id("policy-first_response_minutes")).to_have_text("45 min")
    expect(page.locator("#policy-form")).to_have_count(0)
    expect(edit).to_be_focused()
    assert _policy(app_server, "high")["first_response_minutes"] == 45
    # No worker runs beside this server: the edit stays queued and the page says so.
    expect(page.get_by_test_id("recheck-status")).to_contain_text(
        f"Still being applied to open tickets: policy {high['id']} changed"
    )

    name = f"Berlin office {uuid.uuid4().hex[:4]}"
    page.get_by_role("button", name="New calendar").click()
    page.locator("#calendar-name").fill(name)
    page.locator("#calendar-time-zone").fill("Europe/Berlin")
    page.locator("#calendar-monday").fill("9:00-12:00, 13:00-17:00")
    page.locator("#calendar-tuesday").fill("nine to five")
    page.locator("#calendar-save").click()
    error = page.locator("#calendar-tuesday-error")
    expect(error).to_contain_text("not a time range")
    expect(page.locator("#calendar-monday")).to_have_value("9:00-12:00, 13:00-17:00")
    assert all(calendar["name"] != name for calendar in _api(app_server, "/api/sla/calendars/"))

    page.locator("#calendar-tuesday").fill("09:00-17:00")
    page.locator("#calendar-save").press("Enter")
    calendar_row = page.get_by_test_id("calendar-row").filter(has_text=name)
    expect(calendar_row).to_contain_text("Mon 09:00-12:00, 13:00-17:00; Tue–Fri 09:00-17:00")
    [stored] = [c for c in _api(app_server, "/api/sla/calendars/") if c["name"] == name]
    assert stored["time_zone"] == "Europe/Berlin"
    assert stored["weekly_hours"]["monday"] == [["09:00", "12:00"], ["13:00", "17:00"]]


def test_an_agent_reads_targets_without_edit_controls(browser, app_server: AppServer) -> None:
    email = f"sla-agent-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "agent")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([session_cookie(app_server, email)])
    page = context.new_page()
    page.goto(f"{app_server.base_url}/")
    page.get_by_role("link", name="Service levels").click()
    expect(page.get_by_test_id("policy-row").first).to_be_visible()
    expect(page.get_by_test_id("calendar-row").first).to_contain_text("24/7")
    expect(page.get_by_role("button", name="Edit policy", exact=False)).to_have_count(0)
    expect(page.get_by_role("button", name="New calendar")).to_have_count(0)
    context.close()


def test_service_levels_page_meets_wcag_aa(themed_context, app_server: AppServer) -> None:  # noqa: F811
    themed_context.add_cookies([session_cookie(app_server, "e2e-admin@example.com")])
    page = themed_context.new_page()
    page.goto(f"{app_server.base_url}/service-levels")
    expect(page.get_by_test_id("policy-row").first).to_be_visible()
    found = {"page": _axe_violations(page)}
    page.get_by_test_id("policy-row").first.get_by_role("button").click()
    expect(page.locator("#policy-form")).to_be_visible()
    page.get_by_role("button", name="New calendar").click()
    page.locator("#calendar-monday").fill("not hours")
    page.locator("#calendar-name").fill("A11y")
    page.locator("#calendar-save").click()
    expect(page.locator("#calendar-monday-error")).to_be_visible()
    found["forms open, with an error"] = _axe_violations(page)
    assert {name: lines for name, lines in found.items() if lines} == {}
