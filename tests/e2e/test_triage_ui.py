"""Issue 14 in the console, in headless Chromium against a running app.

Similar open tickets while a description is typed, the suggested title filling an empty title,
merging a duplicate from the ticket page (both tickets linked, checked through the API too), a
merge the server refuses (409), the frustrated and language filters of the list, and WCAG 2.2
AA of the new elements in light and dark.
"""

from __future__ import annotations

import random
import re
import string
import urllib.parse

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, AppServer, session_cookie
from tests.e2e.test_accessibility import AXE_SCRIPT, _axe_violations
from tests.e2e.test_ticket_page import _open as _open_ticket
from tests.e2e.test_ticket_page import _stored
from tests.support.seed import get_json, post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

FRUSTRATED_TEXT = (
    "This is the third time I am writing about this. I WANT A REFUND NOW or I will cancel my "
    "subscription."
)
GERMAN_TEXT = (
    "Die Rechnung wurde doppelt abgebucht, bitte erstatten Sie den Betrag so schnell wie möglich."
)
CALM_TEXT = "Could you tell me where I can find last month's invoice? Thanks a lot."


def _word() -> str:
    """A made-up word that only this test's tickets contain (letters only: it is a content
    word for the similarity ranking, which ignores digits)."""
    return "".join(random.choices(string.ascii_lowercase, k=10))


def _outage(word: str) -> tuple[str, str]:
    """(title, description) of a webhook outage mentioning `word`."""
    return (
        f"{word} webhook deliveries stopped after maintenance",
        f"Since the maintenance window last night our {word} webhook endpoint receives no "
        "deliveries, so orders no longer sync to the warehouse.",
    )


def _create(app: AppServer, title: str, description: str) -> dict:
    payload = {
        "title": title,
        "description": description,
        "category": "technical",
        "priority": "high",
    }
    return post_json(f"{app.base_url}/api/tickets/", payload, token=app.token)


def _similar(page, ticket_id: int):
    return page.locator(f"[data-testid=similar-ticket][data-ticket-id='{ticket_id}']")


def test_typing_a_description_like_an_open_ticket_shows_it_as_similar(page, app_server) -> None:
    word = _word()
    known = _create(app_server, *_outage(word))
    page.goto(f"{app_server.base_url}/tickets/new")
    page.locator("#ticket-description").fill(
        f"Webhook deliveries stopped after the maintenance window ({word}); orders no longer "
        "sync with the warehouse."
    )
    region = page.get_by_test_id("similar-tickets")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_contain_text("Possibly the same as:")
    item = _similar(page, known["id"])
    expect(item).to_contain_text(known["title"])
    expect(item).to_contain_text("Open")
    expect(item.get_by_test_id("similar-score")).to_have_text(re.compile(r"^\d{1,3}% similar$"))
    link = item.get_by_test_id("similar-link")
    expect(link).to_have_attribute("href", f"/tickets/{known['id']}")
    expect(link).to_have_attribute("target", "_blank")
    assert page.get_by_test_id("similar-ticket").count() <= 5

    page.locator("#ticket-description").fill(f"Nothing alike at all: {_word()} {_word()}.")
    expect(page.get_by_test_id("similar-ticket")).to_have_count(0)
    expect(region).not_to_contain_text("Possibly the same as")


def test_suggested_title_fills_an_empty_title_and_the_ticket_keeps_it(page, app_server) -> None:
    page.goto(f"{app_server.base_url}/tickets/new")
    title = page.locator("#ticket-title")
    expect(title).to_have_value("")
    word = _word()
    page.locator("#ticket-description").fill(
        f"The export button on the {word} reports page does nothing when clicked. We need the "
        "quarterly numbers for the board meeting today."
    )
    expect(page.get_by_test_id("title-hint")).to_have_text("AI suggestion · typing replaces it")
    expect(title).to_have_value(re.compile(r"export button"))
    suggested = title.input_value()
    assert 0 < len(suggested) <= 80
    page.locator("#submit-ticket").click()
    toast = page.get_by_text(re.compile(r"Ticket #\d+ created"))
    expect(toast).to_be_visible()
    ticket_id = int(re.search(r"#(\d+)", toast.inner_text()).group(1))
    stored = _stored(app_server, ticket_id)
    assert stored["title"] == suggested
    assert stored["suggested_title"] == suggested


def test_typing_a_title_replaces_the_suggestion(page, app_server) -> None:
    page.goto(f"{app_server.base_url}/tickets/new")
    page.locator("#ticket-description").fill(
        "The export button on the reports page does nothing when clicked."
    )
    title = page.locator("#ticket-title")
    expect(title).to_have_value(re.compile(r"export button"))
    title.focus()
    page.keyboard.type("Export broken")
    expect(title).to_have_value("Export broken")
    expect(page.get_by_test_id("title-hint")).to_have_count(0)
    page.locator("#ticket-description").fill("The import button does nothing either.")
    expect(page.get_by_test_id("classifying")).to_have_count(0)
    expect(title).to_have_value("Export broken")


def test_merge_from_the_ticket_page_links_both_tickets(page, app_server) -> None:
    word = _word()
    kept = _create(app_server, *_outage(word))
    title, description = _outage(word)
    duplicate = _create(app_server, f"{title} again", f"{description} Same as before.")
    _open_ticket(page, app_server, duplicate)
    item = _similar(page, kept["id"])
    expect(item.get_by_test_id("similar-score")).to_have_text(re.compile(r"\d+% similar"))
    item.get_by_role("button", name=f"Merge into #{kept['id']}").click()

    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Merge #{duplicate['id']} into #{kept['id']}?")
    expect(dialog).to_contain_text(duplicate["title"])
    expect(dialog).to_contain_text(kept["title"])
    dialog.get_by_role("button", name=f"Merge into #{kept['id']}").click()

    expect(page.get_by_role("alertdialog")).to_have_count(0)
    link = page.get_by_test_id("duplicate-of-link")
    expect(link).to_have_text(f"#{kept['id']}")
    expect(link).to_have_attribute("href", f"/tickets/{kept['id']}")
    expect(page.locator("#ticket-status")).to_have_value("closed")
    expect(page.get_by_test_id("merge-button")).to_have_count(0)

    stored = _stored(app_server, duplicate["id"])
    assert (stored["duplicate_of_id"], stored["status"]) == (kept["id"], "closed")
    duplicates_url = f"{app_server.base_url}/api/tickets/{kept['id']}/duplicates/"
    assert get_json(duplicates_url, token=app_server.token) == [duplicate["id"]]

    link.click()
    expect(page.locator("#ticket-heading")).to_contain_text(kept["title"])
    back = page.get_by_test_id("duplicate-link")
    expect(back).to_have_text(f"#{duplicate['id']}")
    expect(back).to_have_attribute("href", f"/tickets/{duplicate['id']}")
    expect(page.get_by_test_id("duplicates")).to_contain_text("Duplicates:")
    expect(_similar(page, duplicate["id"])).to_have_count(0)


def _holds_focus(locator) -> bool:
    return locator.evaluate("element => element.contains(document.activeElement)")


def test_merge_dialog_takes_focus_and_gives_it_back_by_keyboard(page, app_server) -> None:
    word = _word()
    kept = _create(app_server, *_outage(word))
    title, description = _outage(word)
    duplicate = _create(app_server, f"{title} once more", f"{description} Still broken.")
    _open_ticket(page, app_server, duplicate)
    merge = _similar(page, kept["id"]).get_by_role("button", name=f"Merge into #{kept['id']}")
    dialog = page.get_by_role("alertdialog")
    cancel = dialog.get_by_role("button", name="Cancel")
    confirm = dialog.get_by_role("button", name=f"Merge into #{kept['id']}")

    # Opened by keyboard, Cancel has focus (Enter alone never merges) and Tab stays inside.
    merge.focus()
    page.keyboard.press("Enter")
    expect(cancel).to_be_focused()
    for _ in range(3):
        page.keyboard.press("Tab")
        assert _holds_focus(dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(merge).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/tickets/{duplicate['id']}/?$"))

    page.keyboard.press("Enter")
    expect(cancel).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(merge).to_be_focused()
    assert _stored(app_server, duplicate["id"])["duplicate_of_id"] is None

    page.keyboard.press("Enter")
    expect(cancel).to_be_focused()
    page.keyboard.press("Tab")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("duplicate-of-link")).to_have_text(f"#{kept['id']}")
    # The button it came from is gone with the merge: the heading above the banner has focus.
    expect(page.locator("#ticket-heading")).to_be_focused()
    assert _stored(app_server, duplicate["id"])["duplicate_of_id"] == kept["id"]


def test_a_merge_the_server_refuses_is_shown_and_changes_nothing(page, app_server) -> None:
    word = _word()
    target = _create(app_server, *_outage(word))
    elsewhere = _create(app_server, f"{word} unrelated printer jam", "Tray two jams.")
    title, description = _outage(word)
    ticket = _create(app_server, f"{title} too", description)
    _open_ticket(page, app_server, ticket)
    _similar(page, target["id"]).get_by_role("button", name=f"Merge into #{target['id']}").click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    # Meanwhile someone merges the target elsewhere: it cannot take duplicates any more (409).
    post_json(
        f"{app_server.base_url}/api/tickets/{target['id']}/merge/",
        {"into": elsewhere["id"]},
        token=app_server.token,
    )
    page.get_by_role("alertdialog").get_by_role("button", name=re.compile("^Merge into")).click()

    error = page.get_by_test_id("merge-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text(f"is itself a duplicate of #{elsewhere['id']}")
    stored = _stored(app_server, ticket["id"])
    assert (stored["duplicate_of_id"], stored["status"]) == (None, "open")
    expect(page.get_by_test_id("duplicate-of")).to_have_count(0)


def test_frustrated_filter_shows_only_frustrated_tickets(page, app_server) -> None:
    word = _word()
    angry = _create(app_server, f"{word} refund", FRUSTRATED_TEXT)
    calm = _create(app_server, f"{word} invoice", CALM_TEXT)
    german = _create(app_server, f"{word} Rechnung", GERMAN_TEXT)
    assert (angry["frustrated"], calm["frustrated"]) == (True, False)
    assert german["language"] == "de"

    page.goto(f"{app_server.base_url}/?q={word}")
    rows = page.get_by_test_id("ticket-row")
    expect(rows).to_have_count(3)
    angry_row = page.locator(f"[data-testid=ticket-row][data-ticket-id='{angry['id']}']")
    expect(angry_row.get_by_test_id("frustrated-mark")).to_contain_text("Frustrated customer")
    expect(page.get_by_test_id("frustrated-mark")).to_have_count(1)
    german_row = page.locator(f"[data-testid=ticket-row][data-ticket-id='{german['id']}']")
    expect(german_row.get_by_test_id("language-mark")).to_have_text("Language: DE")
    expect(page.get_by_test_id("language-mark")).to_have_count(1)

    page.locator("#more-filters-button").click()
    page.get_by_role("checkbox", name="Frustrated customers").click()
    expect(page).to_have_url(re.compile(r"frustrated=true"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-ticket-id", str(angry["id"]))
    listed = get_json(
        f"{app_server.base_url}/api/tickets/?frustrated=true&search={word}",
        token=app_server.token,
    )
    assert [item["id"] for item in listed] == [angry["id"]]

    page.reload()
    expect(page.get_by_role("checkbox", name="Frustrated customers")).to_be_checked()
    expect(rows).to_have_count(1)
    page.get_by_role("checkbox", name="Frustrated customers").click()
    expect(rows).to_have_count(3)

    page.locator("#filter-language").select_option(label="German")
    expect(page).to_have_url(re.compile(r"language=de"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-ticket-id", str(german["id"]))


def test_ticket_page_shows_the_triage_reading(page, app_server) -> None:
    ticket = post_json(
        f"{app_server.base_url}/api/tickets/",
        {"title": f"{_word()} double charge", "description": GERMAN_TEXT},
        token=app_server.token,
    )
    _open_ticket(page, app_server, ticket)
    expect(page.get_by_test_id("ai-suggestion")).to_contain_text(
        re.compile(r"\((low|medium|high) confidence\) / .+ \((low|medium|high) confidence\) · ")
    )
    expect(page.get_by_test_id("ticket-language")).to_have_text("Language: German")
    expect(page.get_by_test_id("ticket-sentiment")).to_contain_text(re.compile(r"Tone: Negative"))
    frustrated = _create(app_server, f"{_word()} refund", FRUSTRATED_TEXT)
    _open_ticket(page, app_server, frustrated)
    expect(page.get_by_test_id("frustrated-mark")).to_have_text("Frustrated customer")


def _animations_finished(tab) -> None:
    """Wait until no CSS animation or transition is running on the page."""
    tab.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_triage_elements_meet_wcag_aa(browser, app_server, scheme: str) -> None:
    assert AXE_SCRIPT.exists(), "axe-core is missing: `make install-test` installs it"
    word = _word()
    kept = _create(app_server, *_outage(word))
    title, description = _outage(word)
    duplicate = _create(app_server, f"{title} twice", description)
    _create(app_server, f"{word} refund", FRUSTRATED_TEXT)
    _create(app_server, f"{word} Rechnung", GERMAN_TEXT)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    context.set_default_timeout(15_000)
    found: dict[str, list[str]] = {}
    try:
        context.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])
        tab = context.new_page()
        tab.goto(f"{app_server.base_url}/tickets/new")
        tab.locator("#ticket-description").fill(description)
        expect(_similar(tab, kept["id"])).to_be_visible()
        expect(tab.get_by_test_id("title-hint")).to_be_visible()
        found["form with similar tickets and suggested title"] = _axe_violations(tab)

        tab.goto(f"{app_server.base_url}/?{urllib.parse.urlencode({'q': word})}")
        expect(tab.get_by_test_id("frustrated-mark")).to_have_count(1)
        expect(tab.get_by_test_id("language-mark")).to_have_count(1)
        found["list with marks"] = _axe_violations(tab)
        tab.locator("#more-filters-button").click()
        tab.get_by_role("checkbox", name="Frustrated customers").click()
        expect(tab.get_by_test_id("ticket-row")).to_have_count(1)
        found["list filtered"] = _axe_violations(tab)

        _open_ticket(tab, app_server, duplicate)
        merge = tab.get_by_role("button", name=f"Merge into #{kept['id']}")
        expect(merge).to_be_visible()
        found["ticket page with similar tickets"] = _axe_violations(tab)
        merge.click()
        expect(tab.get_by_role("alertdialog")).to_be_visible()
        # Checked once its opening animation is over: mid-fade its colours are blended.
        _animations_finished(tab)
        found["merge dialog"] = _axe_violations(tab)
        tab.get_by_role("alertdialog").get_by_role("button", name=re.compile("^Merge into")).click()
        expect(tab.get_by_test_id("duplicate-of-link")).to_be_visible()
        # And once the dialog has faded out: mid-fade its buttons are blended into the page.
        expect(tab.get_by_role("alertdialog")).to_have_count(0)
        _animations_finished(tab)
        found["merged ticket"] = _axe_violations(tab)
        _open_ticket(tab, app_server, kept)
        expect(tab.get_by_test_id("duplicate-link")).to_be_visible()
        found["kept ticket"] = _axe_violations(tab)
    finally:
        context.close()
    failures = {name: lines for name, lines in found.items() if lines}
    assert failures == {}, "\n".join(f"{name}: {lines}" for name, lines in failures.items())
