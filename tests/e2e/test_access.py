"""Sign-in in a real browser, against a running server.

First-run setup, sign-in and sign-out, a viewer's read-only console, deactivating staff behind
a confirmation, no CSP violations, and what a page on another origin can (not) do.
"""

from __future__ import annotations

import re
import sqlite3
import urllib.error
import urllib.request
import uuid

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    SETUP_TOKEN,
    SYSTEM,
    AppServer,
    add_user,
    session_cookie,
)
from tests.e2e.test_accessibility import _axe_violations
from tests.support.seed import post_json
from ticket_app.services.database import use_database
from ticket_app.services.identity import users

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)


def _sign_in(page, email: str, password: str) -> None:
    page.locator("#email-input").fill(email)
    page.locator("#password-input").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_first_run_setup_then_sign_out_and_in(anonymous_page, fresh_server: AppServer) -> None:
    page = anonymous_page
    page.goto(f"{fresh_server.base_url}/")
    expect(page).to_have_url(re.compile(r"/setup/?$"))
    expect(page.get_by_role("heading", name="Create the first admin")).to_be_visible()

    page.locator("#setup_token-input").fill("not-the-token")
    page.locator("#email-input").fill("Owner@Example.com")
    page.locator("#name-input").fill("Olga Owner")
    page.locator("#password-input").fill(PASSWORD)
    page.get_by_role("button", name="Create admin and sign in").click()
    expect(page.get_by_test_id("auth-message")).to_contain_text("setup token is not correct")

    page.locator("#setup_token-input").fill(SETUP_TOKEN)
    page.locator("#password-input").fill(PASSWORD)
    page.get_by_role("button", name="Create admin and sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Olga Owner · admin")
    cookie = next(c for c in page.context.cookies() if c["name"] == "triage_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.goto(f"{fresh_server.base_url}/staff")
    own_row = page.get_by_test_id("staff-row").filter(has_text="owner@example.com")
    expect(own_row).to_contain_text("You")
    expect(page.get_by_role("button", name="Deactivate owner@example.com")).to_have_count(0)

    page.goto(f"{fresh_server.base_url}/setup")
    expect(page).to_have_url(re.compile(r"/(login)?/?$"))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_test_id("auth-message")).to_have_text("You are signed out.")
    page.goto(f"{fresh_server.base_url}/?status=open")
    expect(page).to_have_url(re.compile(r"/login/?\?next="))
    expect(page.get_by_test_id("ticket-row")).to_have_count(0)

    _sign_in(page, "owner@example.com", "wrong password, sorry")
    expect(page.get_by_test_id("auth-message")).to_have_text("Email or password is incorrect.")
    _sign_in(page, "owner@example.com", PASSWORD)
    expect(page).to_have_url(re.compile(r"/\?status=open$"))
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Olga Owner")


def test_viewer_reads_but_cannot_edit(anonymous_page, app_server: AppServer) -> None:
    page = anonymous_page
    email = f"viewer-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "viewer")
    tag = uuid.uuid4().hex[:8]
    ticket = post_json(
        f"{app_server.base_url}/api/tickets/",
        {"title": f"{tag} read only", "description": "Look, do not touch."},
        token=app_server.token,
    )
    page.goto(f"{app_server.base_url}/login")
    _sign_in(page, email, PASSWORD)
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("viewer")
    page.goto(f"{app_server.base_url}/?q={tag}")
    row = page.get_by_test_id("ticket-row").first
    expect(row).to_contain_text(f"{tag} read only")
    expect(row.get_by_test_id("status-value").first).to_have_text("Open")
    expect(row.locator("select, button")).to_have_count(0)
    expect(page.get_by_role("link", name="New ticket")).to_have_count(0)
    expect(page.locator("#export-csv")).to_have_count(0)
    expect(page.get_by_role("link", name="Staff")).to_have_count(0)
    page.goto(f"{app_server.base_url}/tickets/new")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#ticket-title")).to_have_count(0)

    refused = page.request.patch(
        f"{app_server.base_url}/api/tickets/{ticket['id']}/", data={"status": "closed"}
    )
    assert refused.status == 403
    page.goto(f"{app_server.base_url}/staff")
    expect(page).to_have_url(re.compile(r"/$"))


def _active(app: AppServer, email: str) -> bool:
    with sqlite3.connect(app.db_path, timeout=30) as connection:
        row = connection.execute(
            "SELECT is_active FROM staff_users WHERE email = ?", (email,)
        ).fetchone()
    return bool(row[0])


def test_deactivating_asks_first_and_keeps_focus_on_that_person(
    page, app_server: AppServer
) -> None:
    tag = uuid.uuid4().hex[:6]
    # Emails that sort next to each other: the row after Carol's is Dave's until she moves to
    # the inactive end of the table.
    carol, dave = f"d-{tag}-1@example.com", f"d-{tag}-2@example.com"
    use_database(app_server.database_url)
    users.create_user(carol, "agent", PASSWORD, name="Carol Agent", actor=SYSTEM)
    users.create_user(dave, "agent", PASSWORD, name="Dave Agent", actor=SYSTEM)
    page.goto(f"{app_server.base_url}/staff")
    deactivate_carol = page.get_by_role("button", name=f"Deactivate {carol}")
    dialog = page.get_by_role("alertdialog")

    # Enter on Deactivate only asks; Cancel has focus, so a second Enter changes nothing.
    deactivate_carol.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Deactivate Carol Agent ({carol})?")
    expect(dialog).to_contain_text("Their sessions and API tokens stop working at once.")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(deactivate_carol).to_be_focused()
    assert _active(app_server, carol) and _active(app_server, dave)

    # Escape cancels too.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(deactivate_carol).to_be_focused()
    assert _active(app_server, carol)

    # Confirming deactivates Carol only; focus stays on her row (now at the inactive end).
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Deactivate")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    carol_row = page.get_by_test_id("staff-row").filter(has_text=carol)
    expect(carol_row.get_by_role("button", name=f"Reactivate {carol}")).to_be_focused()
    expect(page.get_by_role("button", name=f"Deactivate {dave}")).not_to_be_focused()
    assert not _active(app_server, carol)
    assert _active(app_server, dave)

    # Another Enter reactivates Carol (no confirmation needed) and never touches Dave.
    page.keyboard.press("Enter")
    expect(deactivate_carol).to_be_visible()
    assert _active(app_server, carol) and _active(app_server, dave)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_deactivate_dialog_meets_wcag_aa(browser, app_server: AppServer, scheme: str) -> None:
    email = f"d-axe-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "agent")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    context.add_cookies([session_cookie(app_server, ADMIN_EMAIL)])
    page = context.new_page()
    page.goto(f"{app_server.base_url}/staff")
    page.get_by_role("button", name=f"Deactivate {email}").click()
    expect(page.get_by_role("alertdialog")).to_contain_text(email)
    assert _axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    assert _active(app_server, email)
    context.close()


def test_console_runs_without_csp_violations(page, app_server: AppServer) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = page.goto(f"{app_server.base_url}/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    expect(page.get_by_test_id("list-summary")).not_to_be_empty()
    page.goto(f"{app_server.base_url}/tickets/new")
    page.locator("#ticket-title").fill("CSP check")
    page.locator("#ticket-description").fill("I was charged twice, please refund me.")
    expect(page.locator("#ticket-category")).to_have_value("billing")
    page.locator("#submit-ticket").click()
    expect(page.get_by_text(re.compile(r"Ticket #\d+ created"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.locator("#ticket-heading")).to_contain_text("CSP check")
    page.goto(f"{app_server.base_url}/tokens")
    page.locator("#token-name").fill("csp")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("tdk_")
    assert violations == []


def _request(url: str, **headers: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_foreign_origin_gets_no_data_and_no_event_socket(app_server: AppServer) -> None:
    cookie = session_cookie(app_server, ADMIN_EMAIL)
    session = f"triage_session={cookie['value']}"
    status, headers = _request(
        f"{app_server.base_url}/api/tickets/", Origin="http://evil.example", Cookie=session
    )
    lowered = {key.lower(): value for key, value in headers.items()}
    assert status == 200  # answered, but the browser may not hand it to the foreign page:
    assert "access-control-allow-origin" not in lowered

    socket_url = (
        app_server.base_url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket"
    )
    # Another port of the same host counts as the same site for cookies, not as our origin.
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url, origin="http://127.0.0.1:1", additional_headers={"Cookie": session})
    assert refused.value.response.status_code == 403
    with connect(
        socket_url, origin=app_server.base_url, additional_headers={"Cookie": session}
    ) as own:
        assert own.recv(timeout=10).startswith("0")  # engine.io's "open" packet
