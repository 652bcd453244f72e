"""The served app's Content-Security-Policy in Chromium, and its answers outside the routes
(issue 27, item 13), against a running server (`reflex run --env prod`).

Scripts: inline ones only by the hash of the compiled pages' own scripts ('unsafe-inline' gone);
'unsafe-eval' remains because Reflex runs every toast by eval (see ticket_app.api.security).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, PASSWORD, AppServer
from tests.support.seed import post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

# Reported by the page itself, whatever Chromium prints to the console.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def directive(policy: str, name: str) -> list[str]:
    """The sources of one directive of a Content-Security-Policy value."""
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in {policy}")


def test_console_signs_in_and_works_with_inline_scripts_allowed_only_by_hash(
    anonymous_page, app_server: AppServer
) -> None:
    page = anonymous_page
    post_json(
        f"{app_server.base_url}/api/tickets/",
        {"title": "Seeded for the CSP check", "description": "Printer jammed again."},
        token=app_server.token,
    )
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(COLLECT_VIOLATIONS)
    seen: list[str] = []

    def page_violations() -> None:
        seen.extend(page.evaluate("window.__cspViolations"))

    response = page.goto(f"{app_server.base_url}/login")
    scripts = directive(response.headers["content-security-policy"], "script-src")
    assert "'unsafe-inline'" not in scripts and "'self'" in scripts
    assert any(source.startswith("'sha256-") for source in scripts)
    page.locator("#email-input").fill(ADMIN_EMAIL)
    page.locator("#password-input").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    expect(page.get_by_test_id("ticket-row").first).to_be_visible()
    expect(page.get_by_test_id("list-summary")).not_to_be_empty()
    page_violations()
    page.goto(f"{app_server.base_url}/tickets/new")
    page.locator("#ticket-title").fill("Hashed scripts")
    page.locator("#ticket-description").fill("I was charged twice, please refund me.")
    page.locator("#submit-ticket").click()
    # A toast: Reflex evaluates it from a script string, which needs 'unsafe-eval'.
    expect(page.get_by_text(re.compile(r"Ticket #\d+ created"))).to_be_visible()
    # Submit opens the new ticket's page (a client-side route change).
    expect(page).to_have_url(re.compile(r"/tickets/\d+"))
    expect(page.locator("#ticket-heading")).to_contain_text("Hashed scripts")
    page_violations()
    page.goto(f"{app_server.base_url}/")
    expect(page.get_by_test_id("ticket-row").first).to_contain_text("Hashed scripts")
    page.get_by_role("link", name=re.compile("Hashed scripts")).first.click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+"))
    page_violations()
    # Loaded directly, a dynamic route's page boots from its own prerendered scripts.
    page.goto(page.url)
    expect(page.get_by_text("Hashed scripts").first).to_be_visible()
    page_violations()
    page.goto(f"{app_server.base_url}/dashboard")
    page.wait_for_load_state("networkidle")
    page_violations()
    assert console == [] and seen == []


def raw_get(url: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of a GET that follows no redirect."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args: object, **_kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, exc.read()
    return status, {key.lower(): value for key, value in headers.items()}, body


def test_served_app_answers_control_character_paths_with_json_and_headers(
    app_server: AppServer,
) -> None:
    """Reflex's outer router used to answer these itself: plain-text 404s, a 307 for the
    trailing slash, no security headers; `/api/tickets/%0A` was the ticket list."""
    for path in ("/api/x%0Ay", "/api/me%0A/", "/api/tickets/%0A", "/page%0Aname", "/%7F"):
        status, headers, body = raw_get(f"{app_server.base_url}{path}")
        assert status == 404, path
        assert headers["content-type"] == "application/json", path
        assert json.loads(body)["errors"][0]["type"] == "not_found", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path


def test_served_build_files_are_cached_for_good_and_pages_are_not(
    anonymous_page, app_server: AppServer
) -> None:
    """Every script and style sheet the list page loads from the build is `immutable`; the page
    itself, which names the current build's files, is not, so a new build is seen at once."""
    page = anonymous_page
    loaded: list[str] = []
    page.on(
        "response",
        lambda response: loaded.append(response.url) if "/assets/" in response.url else None,
    )
    page.goto(f"{app_server.base_url}/")
    expect(page.locator("form")).to_be_visible()
    assert loaded, "the page loaded no build file"
    for url in loaded:
        status, headers, _ = raw_get(url)
        assert status == 200, url
        assert headers["cache-control"] == "public, max-age=31536000, immutable", url
        assert headers["x-content-type-options"] == "nosniff", url
    status, headers, _ = raw_get(f"{app_server.base_url}/")
    assert status == 200
    assert "immutable" not in headers.get("cache-control", "")
    status, headers, _ = raw_get(f"{app_server.base_url}/assets/no-such-file-Zz9.js")
    assert status == 404
    assert "immutable" not in headers.get("cache-control", "")
