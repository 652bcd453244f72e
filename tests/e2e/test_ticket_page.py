"""The ticket page (/tickets/{id}) in headless Chromium against a running app.

Opening it from the list, the conversation (replies and internal notes), edits in place and
through the Edit dialog, the edit-conflict warning between two browsers, unknown ids, sign-in,
and WCAG 2.2 AA.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import AppServer, add_user, session_cookie, tickets_table_offline
from tests.e2e.test_accessibility import AXE_SCRIPT, _axe_violations
from tests.support.seed import get_json, post_json
from ticket_app.services.identity import users

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _create(app: AppServer, title: str, **fields: str) -> dict:
    payload = {
        "title": title,
        "description": "First line\nsecond line",
        "category": "technical",
        "priority": "medium",
        **fields,
    }
    return post_json(f"{app.base_url}/api/tickets/", payload, token=app.token)


def _stored(app: AppServer, ticket_id: int) -> dict:
    return get_json(f"{app.base_url}/api/tickets/{ticket_id}/", token=app.token)


def _open(page, app: AppServer, ticket: dict) -> None:
    page.goto(f"{app.base_url}/tickets/{ticket['id']}")
    expect(page.locator("#ticket-heading")).to_contain_text(ticket["title"])


def _user(app: AppServer, role: str) -> tuple[str, int]:
    """A new staff user with `role` in the app's database: (email, id)."""
    email = f"{role}-{_tag()}@example.com"
    add_user(app, email, role)
    return email, next(user.id for user in users.list_users() if user.email == email)


def _entries(page, kind: str):
    return page.locator(f"[data-testid=timeline-entry][data-kind={kind}]")


def _send(page, kind: str, text: str) -> None:
    page.get_by_role("radio", name=kind).click()
    page.locator("#composer-body").fill(text)
    page.locator("#composer-submit").click()


def test_open_from_the_list_by_link_and_back_keeps_the_filters(page, app_server) -> None:
    tag = _tag()
    ticket = _create(app_server, f"{tag} open me")
    page.goto(f"{app_server.base_url}/?q={tag}&status=open")
    link = page.get_by_role("link", name=re.compile(f"{tag} open me"))
    expect(link).to_have_attribute("href", f"/tickets/{ticket['id']}")
    link.click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket['id']}$"))
    expect(page.locator("#ticket-heading")).to_contain_text(f"{tag} open me")

    page.locator("#ticket-heading").press("Escape")
    expect(page).to_have_url(re.compile(rf"/\?q={tag}&status=open$"))
    expect(page.get_by_test_id("ticket-row")).to_have_count(1)

    page.go_forward()
    expect(page.locator("#ticket-heading")).to_contain_text(f"{tag} open me")
    page.get_by_role("link", name="Back to list").click()
    expect(page).to_have_url(re.compile(rf"/\?q={tag}&status=open$"))


def test_back_without_the_list_before_goes_to_the_list(page, app_server) -> None:
    ticket = _create(app_server, f"{_tag()} direct")
    _open(page, app_server, ticket)
    page.get_by_role("link", name="Back to list").click()
    expect(page).to_have_url(f"{app_server.base_url}/")


def test_reply_and_internal_note_appear_and_are_stored(page, app_server) -> None:
    ticket = _create(app_server, f"{_tag()} conversation")
    _open(page, app_server, ticket)
    reply = "Hello <b>there</b>,\nwe are on it."
    _send(page, "Reply", reply)
    expect(_entries(page, "reply")).to_have_count(1)
    expect(_entries(page, "reply")).to_contain_text("Public reply")
    assert "Hello <b>there</b>,\nwe are on it." in _entries(page, "reply").inner_text()
    expect(page.locator("#composer-body")).to_have_value("")

    _send(page, "Internal note", "Customer is on the legacy plan.")
    expect(_entries(page, "note")).to_have_count(1)
    expect(_entries(page, "note")).to_contain_text("Internal note")
    expect(_entries(page, "note")).to_contain_text("Customer is on the legacy plan.")

    comments = get_json(
        f"{app_server.base_url}/api/tickets/{ticket['id']}/comments/", token=app_server.token
    )
    assert [(c["body"], c["public"]) for c in comments] == [
        (reply, True),
        ("Customer is on the legacy plan.", False),
    ]
    assert {c["author"] for c in comments} == {"e2e-admin@example.com"}


def test_composer_keeps_the_text_when_the_database_is_down(page, app_server) -> None:
    ticket = _create(app_server, f"{_tag()} outage")
    _open(page, app_server, ticket)
    with tickets_table_offline(app_server.db_path):
        _send(page, "Reply", "Please keep me.")
        expect(page.get_by_test_id("composer-error")).to_contain_text("database is unavailable")
    expect(page.locator("#composer-body")).to_have_value("Please keep me.")
    page.locator("#composer-submit").click()
    expect(_entries(page, "reply")).to_contain_text("Please keep me.")
    expect(page.get_by_test_id("composer-error")).to_have_count(0)


def test_inline_edits_are_saved(page, app_server) -> None:
    _, agent_id = _user(app_server, "agent")
    ticket = _create(app_server, f"{_tag()} inline")
    _open(page, app_server, ticket)

    page.locator("#ticket-status").select_option(label="Resolved")
    expect(page.get_by_test_id("save-note")).to_have_text("Saved status.")
    page.get_by_role("button", name="Edit title and description").click()
    page.locator("#edit-title").fill(f"{ticket['title']} renamed")
    page.get_by_role("dialog").get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("save-note")).to_have_text("Saved title.")
    expect(page.locator("#ticket-heading")).to_contain_text("renamed")
    page.locator("#ticket-assignee").select_option(str(agent_id))
    expect(page.get_by_test_id("save-note")).to_have_text("Saved assignee.")
    page.locator("#ticket-requester-email").fill("not an address")
    page.locator("#ticket-requester-email").press("Tab")
    expect(page.locator("#requester_email-error")).to_contain_text("email address")
    page.locator("#ticket-requester-email").fill("pat@example.com")
    page.locator("#ticket-requester-email").press("Tab")
    expect(page.get_by_test_id("save-note")).to_have_text("Saved requester email.")

    stored = _stored(app_server, ticket["id"])
    assert stored["status"] == "resolved"
    assert stored["title"] == f"{ticket['title']} renamed"
    assert stored["requester_email"] == "pat@example.com"
    assert stored["assignee_id"] == agent_id
    expect(page.get_by_test_id("timeline-entry").last).to_contain_text("Requester email")


def test_two_browsers_editing_one_ticket_get_the_conflict_warning(
    page, browser, app_server
) -> None:
    agent, _ = _user(app_server, "agent")
    name = agent.split("@")[0]  # the console's name for a user created without one
    ticket = _create(app_server, f"{_tag()} contested")
    _open(page, app_server, ticket)
    other = browser.new_context(viewport={"width": 1280, "height": 800})
    other.set_default_timeout(15_000)
    try:
        other.add_cookies([session_cookie(app_server, agent)])
        other_page = other.new_page()
        _open(other_page, app_server, ticket)
        other_page.locator("#ticket-priority").select_option(label="Critical")
        expect(other_page.get_by_test_id("save-note")).to_have_text("Saved priority.")
    finally:
        other.close()

    warning = page.get_by_test_id("conflict-warning")
    expect(warning).to_contain_text(f"{name} changed this ticket")
    page.locator("#ticket-status").select_option(label="Closed")
    expect(warning).to_contain_text("Your change (status: Closed) was not saved")
    assert _stored(app_server, ticket["id"])["status"] == "open"

    warning.get_by_role("button", name="Apply anyway").click()
    expect(page.get_by_test_id("save-note")).to_have_text("Saved status.")
    expect(warning).to_have_count(0)
    expect(page.locator("#ticket-heading")).to_be_focused()
    stored = _stored(app_server, ticket["id"])
    assert (stored["status"], stored["priority"]) == ("closed", "critical")


def test_reload_shows_the_other_version(page, app_server) -> None:
    _, agent_id = _user(app_server, "agent")
    ticket = _create(app_server, f"{_tag()} reload")
    _open(page, app_server, ticket)
    changed = post_json(
        f"{app_server.base_url}/api/tickets/{ticket['id']}/",
        {"category": "billing", "assignee_id": agent_id},
        method="PATCH",
        token=app_server.token,
    )
    assert changed["category"] == "billing"
    warning = page.get_by_test_id("conflict-warning")
    expect(warning).to_contain_text("changed this ticket")
    warning.get_by_role("button", name="Reload").click()
    expect(warning).to_have_count(0)
    expect(page.locator("#ticket-category")).to_have_value("billing")
    expect(page.locator("#ticket-assignee")).to_have_value(str(agent_id))


def test_unknown_ticket_says_not_found(page, app_server) -> None:
    page.goto(f"{app_server.base_url}/tickets/987654321")
    expect(page.get_by_test_id("not-found")).to_have_text("Ticket #987654321 not found")
    page.goto(f"{app_server.base_url}/tickets/abc")
    expect(page.get_by_test_id("not-found")).to_have_text("Ticket #abc not found")


def test_signed_out_goes_to_sign_in(anonymous_page, app_server) -> None:
    anonymous_page.goto(f"{app_server.base_url}/tickets/1")
    expect(anonymous_page).to_have_url(re.compile(r"/login\?next=%2Ftickets%2F1$"))


def test_viewer_sees_read_only_values(browser, app_server) -> None:
    viewer, _ = _user(app_server, "viewer")
    ticket = _create(app_server, f"{_tag()} read only", requester_name="Pat Doe")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(app_server, viewer)])
        tab = context.new_page()
        _open(tab, app_server, ticket)
        expect(tab.locator("#ticket-requester-name")).to_have_text("Pat Doe")
        expect(tab.locator("#ticket-description")).to_have_text("First line\nsecond line")
        expect(tab.locator("#ticket-status")).to_be_disabled()
        expect(tab.locator("#composer-body")).to_have_count(0)
        expect(tab.locator("input, textarea")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_ticket_page_meets_wcag_aa(browser, app_server, scheme: str) -> None:
    assert AXE_SCRIPT.exists(), "axe-core is missing: `make install-test` installs it"
    ticket = _create(app_server, f"{_tag()} accessible", requester_name="Pat Doe")
    base = f"{app_server.base_url}/api/tickets/{ticket['id']}"
    post_json(f"{base}/comments/", {"body": "A reply", "public": True}, token=app_server.token)
    post_json(f"{base}/comments/", {"body": "A note", "public": False}, token=app_server.token)
    post_json(f"{base}/", {"status": "in_progress"}, method="PATCH", token=app_server.token)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(app_server, "e2e-admin@example.com")])
        tab = context.new_page()
        _open(tab, app_server, ticket)
        expect(_entries(tab, "note")).to_have_count(1)
        found = {"reply": _axe_violations(tab)}
        tab.get_by_role("radio", name="Internal note").click()
        tab.locator("#ticket-requester-email").fill("not an address")
        tab.locator("#ticket-requester-email").press("Tab")
        expect(tab.locator("#requester_email-error")).to_be_visible()
        found["note and error"] = _axe_violations(tab)
        post_json(f"{base}/", {"priority": "low"}, method="PATCH", token=app_server.token)
        expect(tab.get_by_test_id("conflict-warning")).to_be_visible()
        found["conflict"] = _axe_violations(tab)
    finally:
        context.close()
    assert {name: lines for name, lines in found.items() if lines} == {}
