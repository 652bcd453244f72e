"""The ticket list fits the window from a tablet's width up, nothing left out (issue 25).

At 1280x800 the "Updated" column was cut off at the list's right edge, behind a sideways
scroll; from 768 to 1279 px the list still scrolled sideways a little and showed neither the
requester nor the category. Rows with a long title, a long requester and an assigned agent
with a long name, in both densities, an admin's list (with the selection column, its widest).
"""

from __future__ import annotations

import re
import urllib.request
import uuid

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, PASSWORD, SYSTEM, AppServer, session_cookie
from tests.support.seed import post_json
from ticket_app.services.database import use_database
from ticket_app.services.identity import users

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

LONG_TITLE = (
    "Charged twice for the May invoice and nobody answers my e-mails about the refund, "
    "see https://billing.example.com/invoices/INV-40712/payments?attempt=2"
)
REQUESTER = "Maximilian Alexander von Hohenzollern-Sigmaringen"
AGENT_NAME = "Maximiliane Bartholomew-Featherstonehaugh"


@pytest.fixture(scope="module", autouse=True)
def _warm(app_server: AppServer) -> None:
    """Answer one API request first: a fresh server's first answer can take over 10 s."""
    request = urllib.request.Request(
        f"{app_server.base_url}/api/me/", headers={"Authorization": f"Bearer {app_server.token}"}
    )
    with urllib.request.urlopen(request, timeout=120):
        pass


@pytest.fixture(scope="module")
def tag(app_server: AppServer) -> str:
    """Three tickets found by a search for the returned word; the first is long in every way."""
    word = uuid.uuid4().hex[:8]
    use_database(app_server.database_url)
    agent = users.create_user(
        f"agent-{word}@example.com", "agent", PASSWORD, name=AGENT_NAME, actor=SYSTEM
    )
    tickets = f"{app_server.base_url}/api/tickets"
    long = post_json(
        f"{tickets}/",
        {
            "title": f"{word} {LONG_TITLE}",
            "description": "The second charge is still on my statement. " * 5,
            "category": "billing",
            "priority": "critical",
            "status": "in_progress",
            "requester_name": REQUESTER,
            "requester_email": "maximilian.alexander@example-company-with-a-long-name.com",
        },
        token=app_server.token,
    )
    post_json(
        f"{tickets}/{long['id']}/",
        {"assignee_id": agent.id},
        method="PATCH",
        token=app_server.token,
    )
    post_json(
        f"{tickets}/",
        {
            "title": f"{word} short",
            "description": "Short.",
            "category": "technical",
            "priority": "medium",
            "status": "pending",
            "requester_email": "someone.with.a.very.long.address@subdomain.example.org",
        },
        token=app_server.token,
    )
    post_json(
        f"{tickets}/",
        {"title": f"{word} unassigned", "description": "Plain.", "category": "account"},
        token=app_server.token,
    )
    return word


def _overflow(page) -> dict[str, float]:
    """The list's scroll and client widths, the "Updated" cells' and the column's right edge."""
    return page.evaluate(
        """() => {
            const table = document.querySelector('[data-testid=ticket-row]').closest('table');
            const scroller = table.closest('.rt-ScrollAreaViewport');
            const updated = [...document.querySelectorAll('[data-testid=row-updated]')];
            return {
                scrollWidth: scroller.scrollWidth,
                clientWidth: scroller.clientWidth,
                listRight: scroller.getBoundingClientRect().right,
                updatedRight: Math.max(...updated.map(c => c.getBoundingClientRect().right)),
                pageScrollWidth: document.documentElement.scrollWidth,
                viewport: window.innerWidth,
            };
        }"""
    )


def _assert_fits(page, label: str) -> None:
    widths = _overflow(page)
    assert widths["scrollWidth"] <= widths["clientWidth"], (label, widths)
    assert widths["updatedRight"] <= widths["listRight"], (label, widths)
    assert widths["updatedRight"] <= widths["viewport"], (label, widths)
    assert widths["pageScrollWidth"] <= widths["viewport"], (label, widths)


def _sizes(*sizes: tuple[int, int]) -> list:
    """`(width, height)` pairs as viewport parameters named "WxH"."""
    return [pytest.param({"width": w, "height": h}, id=f"{w}x{h}") for w, h in sizes]


def _admin_list(browser, app_server: AppServer, tag: str, viewport: dict[str, int]):
    """An admin's tab of `viewport`'s size on the list of `tag`'s three tickets: (context, page)."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    context.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])
    page = context.new_page()
    page.goto(f"{app_server.base_url}/?q={tag}")
    expect(page.get_by_test_id("ticket-row")).to_have_count(3)
    return context, page


def _switch_to_compact(page) -> None:
    page.locator("#density-compact").click()
    expect(page.locator("[data-density=compact]")).to_have_count(1)


@pytest.mark.parametrize("viewport", _sizes((1280, 800), (1440, 900), (1920, 1080)))
def test_every_column_fits_without_a_sideways_scroll(
    browser, app_server: AppServer, tag: str, viewport: dict[str, int]
) -> None:
    context, page = _admin_list(browser, app_server, tag, viewport)
    long_row = page.get_by_test_id("ticket-row").filter(has_text=REQUESTER)
    # Nothing an agent needs is left out to make room.
    for test_id in ("ticket-number", "row-requester", "row-updated", "assignee-pill"):
        expect(long_row.get_by_test_id(test_id)).to_be_visible()
    expect(long_row.get_by_test_id("category-pill").first).to_be_visible()
    expect(long_row.get_by_test_id("sla-mark")).to_be_visible()
    _assert_fits(page, "comfortable")
    # A shortened assignee name is whole in the pill's name and on hover.
    assignee = long_row.get_by_test_id("assignee-pill")
    expect(assignee).to_have_attribute("title", AGENT_NAME)
    expect(assignee).to_have_accessible_name(re.compile(AGENT_NAME))

    _switch_to_compact(page)
    _assert_fits(page, "compact")
    context.close()


# 1024 px: the narrowest window with the navigation beside the list, its tightest fit.
@pytest.mark.parametrize(
    "viewport", _sizes((768, 800), (800, 800), (1024, 768), (1200, 800), (1279, 800))
)
def test_tablet_list_fits_and_shows_requester_and_category(
    browser, app_server: AppServer, tag: str, viewport: dict[str, int]
) -> None:
    context, page = _admin_list(browser, app_server, tag, viewport)
    long_row = page.get_by_test_id("ticket-row").filter(has_text=REQUESTER)
    number = long_row.get_attribute("data-ticket-id")
    # Each shown once, wherever it is laid out (a hidden copy has no box), and the category
    # can still be changed from the list.
    requester = long_row.get_by_text(REQUESTER).locator("visible=true")
    expect(requester).to_have_count(1)
    category = long_row.get_by_role("button", name=f"Category of ticket {number}: Billing. Change")
    expect(category.locator("visible=true")).to_have_count(1)
    expect(long_row.get_by_text(f"#{number}").locator("visible=true")).to_have_count(1)
    for test_id in ("row-updated", "assignee-pill"):
        expect(long_row.get_by_test_id(test_id)).to_be_visible()
    _assert_fits(page, "comfortable")

    _switch_to_compact(page)
    expect(requester).to_have_count(1)
    _assert_fits(page, "compact")
    context.close()
