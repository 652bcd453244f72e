"""Issue 25's ticket page and new-ticket items (5, 6, 7, 9, 11), clicked and read as a person does.

The title once, the description as the customer's read-only first message and an explicit Edit;
the conversation first with the composer under it and the properties beside it (below it on a
phone); fields that follow another agent's changes while a conflict stands; times in the
viewer's time zone; the new-ticket form's requester fields and the page it opens.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import SYSTEM, AppServer, add_user, session_cookie
from tests.e2e.test_accessibility import _axe_violations
from tests.support.seed import get_json, post_json
from ticket_app.services.database import use_database
from ticket_app.services.identity import tokens, users

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

ZONE = "Asia/Kathmandu"  # UTC+05:45: no minute of its local time equals the UTC minute


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _create(app: AppServer, title: str, **fields) -> dict:
    payload = {
        "title": title,
        "description": "First line\nsecond line",
        "category": "technical",
        "priority": "medium",
        **fields,
    }
    return post_json(f"{app.base_url}/api/tickets/", payload, token=app.token)


def _open(page, app: AppServer, ticket: dict) -> None:
    page.goto(f"{app.base_url}/tickets/{ticket['id']}")
    expect(page.locator("#ticket-heading")).to_contain_text(ticket["title"])


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def test_the_title_shows_once_and_the_description_is_edited_only_through_edit(
    page, app_server
) -> None:
    """Item 5: no always-open title input or description textarea; an explicit, audited Edit."""
    ticket = _create(app_server, f"{_tag()} printer", requester_name="Pat Doe")
    _open(page, app_server, ticket)
    expect(page.get_by_text(ticket["title"], exact=False)).to_have_count(1)
    message = page.get_by_test_id("customer-message")
    expect(message).to_contain_text("Pat Doe")
    expect(message.locator("#ticket-description")).to_have_text("First line\nsecond line")
    expect(page.locator("input#ticket-title, textarea")).to_have_count(1)  # the composer only
    expect(page.locator("textarea#composer-body")).to_have_count(1)

    edit = page.get_by_role("button", name="Edit title and description")
    edit.click()
    dialog = page.get_by_role("dialog")
    dialog.locator("#edit-description").fill("Changed my mind")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(edit).to_be_focused()
    expect(message.locator("#ticket-description")).to_have_text("First line\nsecond line")

    edit.click()
    expect(dialog.locator("#edit-description")).to_have_value("First line\nsecond line")
    dialog.locator("#edit-title").fill(f"{ticket['title']} on fire")
    dialog.locator("#edit-description").fill("First line\nsecond line\nthird line")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("save-note")).to_have_text("Saved title and description.")
    expect(page.locator("#ticket-heading")).to_contain_text("on fire")
    expect(edit).to_be_focused()
    expect(message.locator("#ticket-description")).to_have_text(
        "First line\nsecond line\nthird line"
    )
    events = page.locator("[data-testid=timeline-entry][data-kind=event]")
    expect(events.filter(has_text="Title:")).to_contain_text(f"→ {ticket['title']} on fire")
    expect(events.filter(has_text="Description:")).to_have_count(1)
    stored = get_json(f"{app_server.base_url}/api/tickets/{ticket['id']}/", token=app_server.token)
    assert (stored["title"], stored["description"]) == (
        f"{ticket['title']} on fire",
        "First line\nsecond line\nthird line",
    )


def test_a_refused_title_keeps_the_dialog_open_with_the_reason(page, app_server) -> None:
    ticket = _create(app_server, f"{_tag()} refused")
    _open(page, app_server, ticket)
    page.get_by_role("button", name="Edit title and description").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("#edit-title").fill("   ")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog.locator("#title-error")).to_be_visible()
    expect(dialog.locator("#edit-title")).to_have_attribute("aria-invalid", "true")
    assert (
        get_json(f"{app_server.base_url}/api/tickets/{ticket['id']}/", token=app_server.token)[
            "title"
        ]
        == ticket["title"]
    )


def test_the_conversation_comes_first_and_long_text_is_shown_whole(browser, app_server) -> None:
    """Item 6: messages in order, composer under the newest, details beside (or below)."""
    long_text = "\n".join(f"Line {n} of what the customer wrote." for n in range(1, 41))
    ticket = _create(app_server, f"{_tag()} long", description=long_text)
    base = f"{app_server.base_url}/api/tickets/{ticket['id']}"
    post_json(f"{base}/comments/", {"body": "First reply", "public": True}, token=app_server.token)
    post_json(f"{base}/comments/", {"body": "Newest note", "public": False}, token=app_server.token)
    for width, height in ((1280, 800), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(15_000)
        try:
            context.add_cookies([session_cookie(app_server, "e2e-admin@example.com")])
            tab = context.new_page()
            _open(tab, app_server, ticket)
            description = tab.locator("#ticket-description")
            expect(description).to_contain_text("Line 40 of what the customer wrote.")
            whole = description.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
            assert whole, "the description scrolls inside a box"
            assert _box(description)["height"] > 40 * 14

            entries = tab.locator("[data-testid=customer-message], [data-testid=timeline-entry]")
            texts = entries.all_inner_texts()
            order = [
                next(i for i, t in enumerate(texts) if needle in t)
                for needle in ("Line 1 of", "First reply", "Newest note")
            ]
            assert order == sorted(order)
            newest = _box(tab.get_by_test_id("timeline-entry").last)
            composer = _box(tab.locator("form").filter(has=tab.locator("#composer-body")))
            gap = composer["y"] - (newest["y"] + newest["height"])
            assert 0 <= gap < 48, f"composer {gap:.0f} px below the newest message"

            details = _box(tab.get_by_role("heading", name="Details"))
            if width == 1280:
                assert details["x"] > composer["x"] + composer["width"] - 1
                assert details["y"] < composer["y"]
            else:
                assert details["y"] > composer["y"] + composer["height"]
                assert tab.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            context.close()


def _agent_with_token(app: AppServer, name: str) -> tuple[int, str]:
    """A new agent called `name`: (user id, an API token of theirs)."""
    email = f"agent-{_tag()}@example.com"
    use_database(app.database_url)
    user = users.create_user(email, "agent", "e2e password for tests", name=name, actor=SYSTEM)
    token, _ = tokens.create_token(email, "issue 25", actor=SYSTEM)
    return user.id, token


def test_fields_follow_another_agents_changes_while_the_warning_stands(page, app_server) -> None:
    """Item 7: Status and Assignee follow the live ticket; the warning names the agent."""
    agent_id, agent_token = _agent_with_token(app_server, "Bea Stone")
    ticket = _create(app_server, f"{_tag()} live")
    _open(page, app_server, ticket)
    url = f"{app_server.base_url}/api/tickets/{ticket['id']}/"
    post_json(url, {"priority": "critical"}, method="PATCH", token=agent_token)
    warning = page.get_by_test_id("conflict-warning")
    expect(warning).to_contain_text("Bea Stone (token issue 25) changed this ticket after you")
    expect(warning).not_to_contain_text("@example.com")
    expect(page.locator("#ticket-priority")).to_have_value("critical")

    post_json(
        url, {"status": "in_progress", "assignee_id": agent_id}, method="PATCH", token=agent_token
    )
    expect(
        page.get_by_test_id("timeline-entry").filter(has_text="Status: Open → In progress")
    ).to_have_count(1)
    expect(page.locator("#ticket-status")).to_have_value("in_progress")
    expect(page.locator("#ticket-assignee")).to_have_value(str(agent_id))
    expect(warning).to_be_visible()

    # Still a conflict: a change made here is held back until the agent chooses.
    page.locator("#ticket-category").select_option(label="Billing")
    expect(warning).to_contain_text("Your change (category: Billing) was not saved")
    expect(page.locator("#ticket-status")).to_have_value("in_progress")
    warning.get_by_role("button", name="Apply anyway").click()
    expect(page.get_by_test_id("save-note")).to_have_text("Saved category.")
    stored = get_json(url, token=app_server.token)
    assert (stored["status"], stored["category"]) == ("in_progress", "billing")


def _local(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(ZONE)).strftime("%H:%M")


def _utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M UTC")


def test_times_are_in_the_viewers_time_zone_with_utc_on_hover_and_focus(
    browser, app_server
) -> None:
    """Item 9: the page, its timeline and the list speak the viewer's zone; UTC on demand."""
    tag = _tag()
    ticket = _create(app_server, f"{tag} times")
    post_json(
        f"{app_server.base_url}/api/tickets/{ticket['id']}/comments/",
        {"body": "A reply", "public": True},
        token=app_server.token,
    )
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, timezone_id=ZONE, locale="en-GB"
    )
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(app_server, "e2e-admin@example.com")])
        tab = context.new_page()
        _open(tab, app_server, ticket)
        created = tab.get_by_test_id("created-at").locator("time")
        iso = created.get_attribute("datetime")
        assert iso
        expect(created).to_contain_text(_local(iso))
        expect(created).to_contain_text("GMT+5:45")
        expect(tab.get_by_test_id("created-at")).not_to_contain_text("UTC")
        created.focus()
        expect(tab.get_by_role("tooltip")).to_contain_text(_utc(iso))
        created.evaluate("element => element.blur()")
        expect(tab.get_by_role("tooltip")).to_have_count(0)

        reply_time = tab.locator("[data-testid=timeline-entry][data-kind=reply] time")
        reply_iso = reply_time.get_attribute("datetime")
        assert reply_iso
        expect(reply_time).to_contain_text(_local(reply_iso))
        reply_time.hover()
        expect(tab.get_by_role("tooltip")).to_contain_text(_utc(reply_iso))

        tab.goto(f"{app_server.base_url}/?q={tag}")
        # A row's time words its title when the pointer enters it (see `local_time`).
        row_time = tab.get_by_test_id("ticket-row").first.get_by_test_id("row-updated")
        row_time = row_time.locator("time")
        row_iso = row_time.get_attribute("datetime")
        assert row_iso
        row_time.hover()
        words = re.escape(_local(row_iso)) + ".*" + re.escape(_utc(row_iso))
        expect(row_time).to_have_attribute("title", re.compile(words))

        # The admin and account pages too: a session's start, a token's and a person's last use.
        for path, cell in (
            ("/account", "[data-testid=session-row] time"),
            ("/tokens", "td[data-label='Last used'] time"),
            ("/staff", "td[data-label='Last sign-in'] time"),
        ):
            tab.goto(f"{app_server.base_url}{path}")
            shown = tab.locator(cell).first
            expect(shown).to_contain_text("GMT+5:45")
            shown_iso = shown.get_attribute("datetime")
            assert shown_iso
            expect(shown).to_contain_text(_local(shown_iso))
            assert _utc(shown_iso) in (shown.get_attribute("title") or ""), path
    finally:
        context.close()


def test_the_new_ticket_form_takes_the_requester_and_opens_the_ticket(page, app_server) -> None:
    """Item 11: requester name and e-mail on the form; Submit opens the new ticket's page."""
    title = f"{_tag()} charged twice"
    page.goto(f"{app_server.base_url}/tickets/new")
    page.locator("#ticket-title").fill(title)
    page.locator("#ticket-description").fill("I was billed twice for May, please refund.")
    page.get_by_label("Requester name").fill("Maria Keller")
    page.get_by_label("Requester e-mail").fill("not an address")
    page.locator("#submit-ticket").click()
    expect(page.locator("#ticket-requester-email-error")).to_contain_text("email address")
    expect(page).to_have_url(re.compile(r"/tickets/new/?$"))

    page.get_by_label("Requester e-mail").fill("maria.keller@example.org")
    page.locator("#submit-ticket").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.locator("#ticket-heading")).to_contain_text(title)
    expect(page.get_by_test_id("customer-message")).to_contain_text("Maria Keller")
    ticket_id = page.url.rsplit("/", 1)[-1]
    stored = get_json(f"{app_server.base_url}/api/tickets/{ticket_id}/", token=app_server.token)
    assert (stored["requester_name"], stored["requester_email"]) == (
        "Maria Keller",
        "maria.keller@example.org",
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_edit_dialog_and_customer_message_meet_wcag_aa(browser, app_server, scheme: str) -> None:
    ticket = _create(app_server, f"{_tag()} accessible edit", requester_name="Pat Doe")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(app_server, "e2e-admin@example.com")])
        tab = context.new_page()
        _open(tab, app_server, ticket)
        found = {"page": _axe_violations(tab)}
        tab.get_by_role("button", name="Edit title and description").click()
        tab.locator("#edit-title").fill("")
        tab.get_by_role("dialog").get_by_role("button", name="Save", exact=True).click()
        expect(tab.locator("#title-error")).to_be_visible()
        found["edit dialog with an error"] = _axe_violations(tab)
    finally:
        context.close()
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_viewer_has_no_edit_button(browser, app_server) -> None:
    email = f"viewer-{_tag()}@example.com"
    add_user(app_server, email, "viewer")
    ticket = _create(app_server, f"{_tag()} viewer")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(app_server, email)])
        tab = context.new_page()
        _open(tab, app_server, ticket)
        expect(tab.locator("#ticket-description")).to_have_text("First line\nsecond line")
        expect(tab.get_by_role("button", name=re.compile("^Edit"))).to_have_count(0)
    finally:
        context.close()
