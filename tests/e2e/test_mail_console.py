"""The e-mail channel in the console, in headless Chromium against a running app.

A ticket opened by an HTML-only mail full of scripts: none of them runs, the text shows as
text, and the timeline names the e-mail channel and the sender. A reply that failed to send is
resent from the keyboard. The Staff page says whether an invitation or reset link was e-mailed
(through the test SMTP server, whose mail's link then sets a password), or why not. axe-core
checks the ticket page and the admin pages (mailboxes, quarantine) and the requester page
against WCAG 2.2 AA, in light and dark themes.

The mail is taken in with `services.mail_inbound.ingest` on the app's own database, as the
worker would; the app runs with its own MAIL_SECRET_KEY and STORAGE_DIR (shared with this
process, so it serves the files this process stored), and its own address as PUBLIC_BASE_URL.
"""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import ADMIN_EMAIL, SYSTEM, AppServer, add_user, serve, session_cookie
from tests.e2e.test_accessibility import AXE_SCRIPT, _axe_violations
from tests.support.mail_servers import Dovecot, SMTPServer, missing_dovecot_parts
from ticket_app.models import MailMessage
from ticket_app.schemas import InboundMailResult, MailboxCreate, MailboxUpdate
from ticket_app.services import mail_inbound, mail_outbound, mailboxes
from ticket_app.services.database import use_database
from ticket_app.settings import get_settings

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)

SUPPORT = "support@desk.example"
SENDER = "Mallory Customer <mallory@customer.example>"
# What an attacker would like to run in the console: in the HTML itself (dropped when the mail
# is turned into text) and as escaped text (which becomes literal text and must stay text).
HOSTILE_HTML = """<html><head><title>Nice title</title>
<script>document.title = 'PWNED'; window.__pwned = 1;</script></head>
<body onload="window.__pwned = 6">
<p>My <b>order 4711</b> never arrived.</p>
<p>The page said: &lt;img src=x onerror="window.__pwned = 4"&gt; and
&lt;script&gt;window.__pwned = 5&lt;/script&gt;</p>
<img src="x" onerror="window.__pwned = 2"><script>window.__pwned = 3;</script>
</body></html>"""


def ingest(raw: bytes, **options: object) -> InboundMailResult:
    """`mail_inbound.ingest` in a thread of its own, as the worker runs it: Playwright's event
    loop runs in this one, and the classifier's `asyncio.run` refuses to start inside it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(mail_inbound.ingest, raw, **options).result()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """An app with the mail settings (its own key and storage folder) and an admin."""
    work = tmp_path_factory.mktemp("e2e-mail")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAIL_SECRET_KEY", mailboxes.generate_key())
        patch.setenv("STORAGE_DIR", str(work / "storage"))
        patch.setenv("MAIL_SEND_RETRIES", "0")
        get_settings.cache_clear()
        try:
            with serve(work, public_url=True) as server:
                add_user(server, ADMIN_EMAIL, "admin")
                yield server
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="module")
def mail_ticket(mail_server: AppServer) -> dict[str, int]:
    """A mailbox (its servers refuse connections), a ticket opened by the hostile HTML-only
    mail with an attachment, the customer's reply on it, and one held message."""
    use_database(mail_server.database_url)
    port = _closed_port()
    box = mailboxes.create_mailbox(
        MailboxCreate(
            name="Support",
            address=SUPPORT,
            from_name="Desk Support",
            imap_host="127.0.0.1",
            imap_port=port,
            imap_tls="none",
            imap_username="support",
            imap_password="a password for the test",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_tls="none",
        ),
        actor=SYSTEM,
    )
    first = EmailMessage()
    first["From"], first["To"], first["Subject"] = SENDER, SUPPORT, "Order never arrived"
    first["Message-ID"] = "<html-only@customer.example>"
    first.set_content(HOSTILE_HTML, subtype="html")
    first.add_attachment(b"tracking 4711", maintype="text", subtype="plain", filename="track.txt")
    created = ingest(first.as_bytes(), mailbox_id=box.id)
    assert created.outcome == "created", created

    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = SENDER, SUPPORT, "Re: Order never arrived"
    reply["Message-ID"] = "<reply@customer.example>"
    reply["In-Reply-To"] = "<html-only@customer.example>"
    reply.set_content(
        "<p>Any news? &lt;b&gt;Still&lt;/b&gt; waiting.</p><script>window.__pwned = 7</script>",
        subtype="html",
    )
    appended = ingest(reply.as_bytes(), mailbox_id=box.id)
    assert appended.outcome == "appended", appended

    held = EmailMessage()
    held["To"], held["Subject"], held["Message-ID"] = SUPPORT, "Who sent this?", "<nobody@x>"
    held.set_content("No sender at all.")
    assert ingest(held.as_bytes(), mailbox_id=box.id).outcome == "quarantined"
    return {"ticket": int(created.ticket_id), "comment": int(appended.comment_id)}


def _context(browser, app: AppServer, scheme: str = "light"):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    context.set_default_timeout(15_000)
    context.add_cookies([session_cookie(app, ADMIN_EMAIL)])
    return context


def _open_ticket(tab, app: AppServer, ticket_id: int) -> None:
    tab.goto(f"{app.base_url}/tickets/{ticket_id}")
    expect(tab.locator("#ticket-heading")).to_contain_text("Order never arrived")


def test_mail_html_never_runs_and_the_timeline_names_channel_and_sender(
    browser, mail_server: AppServer, mail_ticket: dict[str, int]
) -> None:
    context = _context(browser, mail_server)
    try:
        tab = context.new_page()
        _open_ticket(tab, mail_server, mail_ticket["ticket"])
        description = tab.locator("#ticket-description")
        expect(description).to_have_text(
            'My order 4711 never arrived.\n\nThe page said: <img src=x onerror="window.__pwned '
            '= 4"> and <script>window.__pwned = 5</script>'
        )
        reply = tab.locator("[data-testid=timeline-entry][data-kind=reply]")
        expect(reply).to_have_count(1)
        expect(reply).to_contain_text("Any news? <b>Still</b> waiting.")
        expect(reply.get_by_test_id("comment-channel")).to_have_text("Channel: E-mail")
        expect(reply.get_by_test_id("comment-author")).to_have_text(SENDER)
        raw = reply.get_by_role("link", name="View original (.eml)")
        expect(raw).to_have_attribute(
            "href", f"/api/tickets/{mail_ticket['ticket']}/comments/{mail_ticket['comment']}/raw/"
        )
        expect(tab.get_by_test_id("timeline-entry").first).to_contain_text("Created from an e-mail")
        files = tab.get_by_test_id("ticket-files")
        expect(files.get_by_role("link", name="track.txt")).to_have_attribute(
            "href", re.compile(rf"^/api/tickets/{mail_ticket['ticket']}/attachments/\d+/$")
        )
        expect(tab.get_by_test_id("composer-hint")).to_have_text(f"Reply by e-mail to {SENDER}")
        tab.get_by_role("radio", name="Internal note").click()
        expect(tab.get_by_test_id("composer-hint")).to_have_text(
            "Internal notes are for staff only."
        )
        expect(tab.get_by_test_id("requester-link")).to_have_attribute(
            "href", re.compile(r"^/requesters/\d+$")
        )

        # No script from the mail ran, and none is in the page.
        assert tab.evaluate("window.__pwned") is None
        assert tab.title() != "PWNED"
        assert tab.locator("main script, main img").count() == 0

        # The files download through the session cookie, as files, never as a page.
        download = tab.request.get(
            mail_server.base_url + files.get_by_role("link").first.get_attribute("href")
        )
        assert download.status == 200 and download.body() == b"tracking 4711"
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.headers["x-content-type-options"] == "nosniff"
        original = tab.request.get(mail_server.base_url + raw.get_attribute("href"))
        assert original.status == 200 and b"Subject: Re: Order never arrived" in original.body()
        assert original.headers["content-disposition"].startswith("attachment")
    finally:
        context.close()


def test_a_failed_reply_is_resent_from_the_keyboard(
    browser, mail_server: AppServer, mail_ticket: dict[str, int]
) -> None:
    context = _context(browser, mail_server)
    try:
        tab = context.new_page()
        _open_ticket(tab, mail_server, mail_ticket["ticket"])
        text = f"We are on it {uuid.uuid4().hex[:6]}."
        tab.get_by_role("radio", name="Reply").click()
        tab.locator("#composer-body").fill(text)
        tab.locator("#composer-submit").click()
        ours = tab.locator("[data-testid=timeline-entry][data-kind=reply]").filter(has_text=text)
        expect(ours.get_by_test_id("comment-channel")).to_have_text("Channel: Console")
        expect(ours.get_by_test_id("delivery-state")).to_have_attribute("data-delivery", "queued")

        # No worker runs beside this server: deliver here, to the refusing SMTP server.
        use_database(mail_server.database_url)
        with sa.create_engine(mail_server.database_url).connect() as connection:
            mail_id = connection.execute(
                sa.select(sa.func.max(MailMessage.id)).where(MailMessage.direction == "outbound")
            ).scalar_one()
        assert mail_outbound.deliver(mail_id).value == "failed"
        state = ours.get_by_test_id("delivery-state")
        expect(state).to_have_attribute("data-delivery", "failed")
        expect(state).to_contain_text("E-mail not delivered to mallory@customer.example")

        resend = ours.get_by_role("button", name="Resend e-mail")
        ours.get_by_role("link", name="View original (.eml)").focus()
        tab.keyboard.press("Shift+Tab")
        expect(resend).to_be_focused()
        tab.keyboard.press("Enter")
        expect(state).to_have_attribute("data-delivery", "queued")
        expect(state).to_be_focused()
        expect(resend).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_mail_pages_meet_wcag_aa(
    browser, mail_server: AppServer, mail_ticket: dict[str, int], scheme: str
) -> None:
    assert AXE_SCRIPT.exists(), "axe-core is missing: `make install-test` installs it"
    context = _context(browser, mail_server, scheme)
    found: dict[str, list[str]] = {}
    try:
        tab = context.new_page()
        _open_ticket(tab, mail_server, mail_ticket["ticket"])
        expect(tab.get_by_test_id("requester-panel")).to_be_visible()
        found["ticket"] = _axe_violations(tab)

        tab.goto(f"{mail_server.base_url}/mailboxes")
        expect(tab.get_by_test_id("mailbox-row")).to_have_count(1)
        tab.get_by_role("button", name=f"Test connection of {SUPPORT}").click()
        expect(tab.get_by_test_id("test-step")).to_have_count(2)
        for field, value in {
            "name": "Help",
            "address": "help@desk.example",
            "from-name": "Desk Help",
            "imap-host": "imap host with spaces",
            "imap-username": "help",
            "imap-password": "a password",
            "smtp-host": "127.0.0.1",
        }.items():
            tab.locator(f"#mailbox-{field}").fill(value)
        tab.locator("#mailbox-submit").click()
        expect(tab.get_by_test_id("mailbox-form-error")).to_have_text("Check IMAP host.")
        expect(tab.locator("#mailbox-imap-host")).to_have_attribute("aria-invalid", "true")
        expect(tab.locator("#mailbox-imap-password")).to_have_attribute("type", "password")
        expect(tab.locator("#mailbox-imap-password")).to_have_value("a password")
        found["mailboxes"] = _axe_violations(tab)
        tab.get_by_role("button", name=f"Remove {SUPPORT}").click()
        expect(tab.get_by_test_id("confirm-remove-mailbox")).to_be_visible()
        found["remove dialog"] = _axe_violations(tab)
        tab.keyboard.press("Escape")
        expect(tab.get_by_role("button", name=f"Remove {SUPPORT}")).to_be_focused()

        tab.goto(f"{mail_server.base_url}/quarantine")
        expect(tab.get_by_test_id("quarantine-row")).to_have_count(1)
        expect(tab.get_by_test_id("quarantine-row")).to_contain_text("(no sender)")
        found["quarantine"] = _axe_violations(tab)

        tab.goto(f"{mail_server.base_url}/tickets/{mail_ticket['ticket']}")
        tab.get_by_test_id("requester-link").click()
        expect(tab.locator("#requester-heading")).to_have_text(SENDER)
        expect(tab.get_by_test_id("requester-ticket-row")).to_have_count(1)
        found["requester"] = _axe_violations(tab)
    finally:
        context.close()
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_admin_pages_stay_closed_to_agents(browser, mail_server: AppServer) -> None:
    email = f"mail-agent-{uuid.uuid4().hex[:6]}@example.com"
    add_user(mail_server, email, "agent")
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        context.add_cookies([session_cookie(mail_server, email)])
        tab = context.new_page()
        for path in ("/mailboxes", "/quarantine"):
            tab.goto(f"{mail_server.base_url}{path}")
            expect(tab).to_have_url(f"{mail_server.base_url}/")
        expect(tab.get_by_role("link", name="Mailboxes")).to_have_count(0)
    finally:
        context.close()


@contextmanager
def _sending_through(smtp: SMTPServer) -> Iterator[None]:
    """The desk's mailbox sends through `smtp` (no TLS, no login) inside the block, then
    through its refusing port again."""
    box = mailboxes.find_mailbox(SUPPORT, actor=SYSTEM)
    mailboxes.update_mailbox(box.id, MailboxUpdate(smtp_port=smtp.port), actor=SYSTEM)
    try:
        yield
    finally:
        mailboxes.update_mailbox(box.id, MailboxUpdate(smtp_port=box.smtp_port), actor=SYSTEM)


def test_the_staff_page_says_whether_a_link_was_e_mailed(
    browser, mail_server: AppServer, mail_ticket: dict[str, int]
) -> None:
    """Issue 24: invitation and reset links are e-mailed at once when a mailbox can send."""
    if missing_dovecot_parts():
        pytest.skip("dovecot is not installed (the test SMTP server delivers into it)")
    use_database(mail_server.database_url)
    context = _context(browser, mail_server)
    invitee = browser.new_context()
    invitee.set_default_timeout(15_000)
    try:
        tab = context.new_page()
        tab.goto(f"{mail_server.base_url}/staff")
        tab.locator("#new-email").fill("customer@desk.test")
        tab.get_by_role("button", name="Invite", exact=True).click()
        expect(tab.get_by_test_id("issued-mail")).to_have_text(
            "Not e-mailed (mail server unreachable: connection refused): pass this link on."
        )
        expect(tab.get_by_test_id("issued-link")).to_contain_text(f"{mail_server.base_url}/invite/")

        with (
            Dovecot() as dovecot,
            SMTPServer(dovecot, auth_required=False) as smtp,
            _sending_through(smtp),
        ):
            tab.locator("#new-email").fill("stranger@desk.test")
            tab.locator("#new-name").fill("Sam Stranger")
            tab.get_by_role("button", name="Invite", exact=True).click()
            expect(tab.get_by_test_id("issued-mail")).to_have_text(
                "Invitation e-mailed to stranger@desk.test."
            )
            [mail] = dovecot.wait_for_messages("stranger@desk.test", 1)
            lines = mail.get_content().splitlines()
            [link] = [line for line in lines if line.startswith(mail_server.base_url)]
            expect(tab.get_by_test_id("issued-link")).to_have_text(link)

            tab.get_by_role("button", name="Reset link for customer@desk.test").click()
            expect(tab.get_by_test_id("issued-mail")).to_have_text(
                "Reset link e-mailed to customer@desk.test."
            )
            dovecot.wait_for_messages("customer@desk.test", 1)

        welcome = invitee.new_page()
        welcome.goto(link)
        expect(welcome.get_by_role("heading", name="Welcome to Triage Desk")).to_be_visible()
        welcome.get_by_label("New password").fill("quartz zebra lantern meadow")
        welcome.get_by_role("button", name="Save password and sign in").click()
        expect(welcome.get_by_test_id("signed-in-as")).to_contain_text("Sam Stranger · agent")
    finally:
        invitee.close()
        context.close()
