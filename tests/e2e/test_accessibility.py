"""The console against WCAG 2.2 AA in light and dark themes, checked by axe-core in Chromium.

Pages: the queue (with its bulk bar, shortcuts and save-view dialogs), the new-ticket page, the
dashboard, the admin and account pages, and the invitation and unusable-link pages. Also what
axe cannot see: the keyboard path from the filters to a ticket, and what an idle console says
while the database is down.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    REPO_ROOT,
    AppServer,
    add_user,
    session_cookie,
    tickets_table_offline,
)
from tests.support.seed import post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

AXE_SCRIPT = REPO_ROOT / ".venv" / "js" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _axe_violations(page) -> list[str]:
    """Run axe-core on the page; one line per violated rule with its first offending nodes.

    Runs once every finite animation is over (a dialog fading in has blended colours that no
    one reads; axe once measured an opening dialog's button at 3.9:1 mid-fade). Endless ones,
    such as a spinner, are not waited for.
    """
    page.wait_for_function(
        """() => document.getAnimations().every(a => a.playState !== 'running' ||
            a.effect?.getComputedTiming().endTime === Infinity)"""
    )
    # Evaluated through the DevTools protocol, not added as a <script>: the console's CSP allows
    # only its own inline scripts, and the checker is not one of them.
    page.evaluate(Path(AXE_SCRIPT).read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => `${v.id} (${v.impact}) x${v.nodes.length}: ` +
                v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' +
                    (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)).join(' | '));
        }""",
        WCAG_TAGS,
    )
    return list(violations)


@pytest.fixture(params=["light", "dark"])
def themed_context(request, browser, app_server: AppServer):
    """A browser context in the light or dark colour scheme (the console follows the system)."""
    assert AXE_SCRIPT.exists(), "axe-core is missing: `make install-test` installs it"
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, color_scheme=request.param
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _seed(app: AppServer) -> int:
    """A canned response and four tickets, one per category, priority and status, tagged; the
    first ticket's id."""
    post_json(
        f"{app.base_url}/api/canned-responses/",
        {"title": "Accessibility greeting", "body": "Hi {{requester.name}},\nthanks."},
        token=app.token,
    )
    ids = []
    for index, (category, priority) in enumerate(
        [("billing", "critical"), ("technical", "high"), ("account", "medium"), ("general", "low")]
    ):
        ticket = post_json(
            f"{app.base_url}/api/tickets/",
            {
                "title": f"Accessibility sample {index}",
                "description": "Something to show in every colour the table uses.",
                "category": category,
                "priority": priority,
                "tags": ["accessibility", f"sample {index}"],
            },
            token=app.token,
        )
        ids.append(ticket["id"])
        status = ["open", "in_progress", "resolved", "closed"][index]
        post_json(
            f"{app.base_url}/api/tickets/{ticket['id']}/",
            {"status": status},
            method="PATCH",
            token=app.token,
        )
    return ids[0]


def test_pages_meet_wcag_aa_in_both_themes(themed_context, app_server: AppServer) -> None:
    tagged = _seed(app_server)
    page = themed_context.new_page()
    found: dict[str, list[str]] = {}

    page.goto(f"{app_server.base_url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    found["sign-in"] = _axe_violations(page)

    themed_context.add_cookies([session_cookie(app_server, "e2e-admin@example.com")])
    page.goto(f"{app_server.base_url}/")
    expect(page.get_by_test_id("ticket-row").first).to_be_visible()
    expect(page.get_by_test_id("nav-view-count").first).not_to_be_empty()
    page.get_by_test_id("row-checkbox").first.click()
    expect(page.get_by_test_id("bulk-bar")).to_be_visible()
    found["list with bulk bar"] = _axe_violations(page)

    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.get_by_test_id("shortcuts-dialog")).to_be_visible()
    found["shortcuts dialog"] = _axe_violations(page)
    page.keyboard.press("Escape")
    page.locator("#save-view").click()
    expect(page.locator("#view-name")).to_be_visible()
    found["save view dialog"] = _axe_violations(page)
    page.keyboard.press("Escape")

    page.goto(f"{app_server.base_url}/tickets/new")
    expect(page.locator("#ticket-title")).to_be_visible()
    found["new ticket"] = _axe_violations(page)

    page.goto(f"{app_server.base_url}/tickets/{tagged}")
    expect(page.get_by_test_id("tag-chip").first).to_be_visible()
    found["ticket with tags"] = _axe_violations(page)

    page.goto(f"{app_server.base_url}/dashboard?status=open")
    expect(page.get_by_test_id("dashboard-scope")).to_have_text("status: open")
    expect(page.get_by_test_id("stat-total")).not_to_have_text("0")
    expect(page.get_by_test_id("sla-time-first_response")).to_be_visible()
    found["dashboard"] = _axe_violations(page)

    for path in ("/tokens", "/staff", "/notifications", "/canned-responses", "/account"):
        page.goto(f"{app_server.base_url}{path}")
        expect(page.get_by_role("heading", level=2).first).to_be_visible()
        if path == "/notifications":  # its e-mail choices are loaded after the page
            expect(page.get_by_test_id("email-assigned")).to_be_visible()
        found[path] = _axe_violations(page)

    expect(page.get_by_test_id("session-row").first).to_be_visible()
    page.locator("#account-current-password").fill("not my password at all")
    page.locator("#account-new-password").fill("quartz zebra lantern meadow")
    page.locator("#account-confirm-password").fill("quartz zebra lantern meadow")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_test_id("password-error")).to_be_visible()
    found["/account with an error"] = _axe_violations(page)

    page.goto(f"{app_server.base_url}/staff")
    page.locator("#new-email").fill(f"a11y-invitee-{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_role("button", name="Invite", exact=True).click()
    link = page.get_by_test_id("issued-link")
    expect(link).to_contain_text("/invite/")
    found["/staff with an invitation link"] = _axe_violations(page)

    themed_context.clear_cookies()
    page.goto(f"{app_server.base_url}{link.inner_text()}")
    expect(page.get_by_role("heading", name="Welcome to Triage Desk")).to_be_visible()
    found["invitation page"] = _axe_violations(page)
    page.goto(f"{app_server.base_url}/reset/not-a-real-link")
    expect(page.get_by_test_id("link-problem")).to_be_visible()
    found["unusable link page"] = _axe_violations(page)

    assert {name: lines for name, lines in found.items() if lines} == {}


def test_viewer_console_meets_wcag_aa(themed_context, app_server: AppServer) -> None:
    email = f"a11y-viewer-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "viewer")
    themed_context.add_cookies([session_cookie(app_server, email)])
    page = themed_context.new_page()
    page.goto(f"{app_server.base_url}/")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("viewer")
    expect(page.get_by_test_id("list-summary")).not_to_be_empty()
    assert _axe_violations(page) == []


def test_keyboard_path_from_the_filters_to_a_ticket(page, app_server: AppServer) -> None:
    tag = uuid.uuid4().hex[:8]
    ticket = post_json(
        f"{app_server.base_url}/api/tickets/",
        {"title": f"{tag} keyboard", "description": "Reach me without a mouse."},
        token=app_server.token,
    )
    page.goto(f"{app_server.base_url}/?q={tag}")
    title = page.get_by_test_id("ticket-link").first
    expect(title).to_contain_text(f"{tag} keyboard")

    page.get_by_test_id("select-page").focus()
    for header in ("sort-number", "sort-status", "sort-priority", "sort-updated"):
        page.keyboard.press("Tab")
        expect(page.get_by_test_id(header)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("row-checkbox").first).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_test_id("bulk-count")).to_have_text("1 selected")
    page.keyboard.press("Tab")
    expect(title).to_be_focused()
    page.keyboard.press("Tab")  # then the row's pills, each opening its menu
    expect(page.get_by_test_id("status-pill").first).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket['id']}/?$"))


def test_idle_console_says_when_the_database_is_down(page, app_server: AppServer) -> None:
    page.goto(f"{app_server.base_url}/")
    expect(page.get_by_test_id("ticket-row").first).to_be_visible()
    with tickets_table_offline(app_server.db_path):
        expect(page.get_by_text(re.compile("database is unavailable"))).to_be_visible()
        expect(page.get_by_text(re.compile("nothing was saved"))).to_have_count(0)
    expect(page.get_by_text(re.compile("database is unavailable"))).to_have_count(0)


def test_header_links_reach_the_api_docs(page, app_server: AppServer) -> None:
    page.goto(f"{app_server.base_url}/")
    page.get_by_role("link", name="API docs").click()
    expect(page).to_have_url(re.compile(r"/api/docs$"))
    expect(page.get_by_text("Triage Desk API")).to_be_visible()
