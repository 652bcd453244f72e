"""Invitation and reset links are e-mailed at once through the real SMTP server (issue 24).

An admin's invitation or reset link goes to its person straight over SMTP (STARTTLS and AUTH,
the test CA trusted) from the first active mailbox: one mail, whose link sets the password and
signs in. The mail is never stored: the link is nowhere in the database, the file store or the
logs. When it cannot be mailed (the server is down, does not answer, refuses the recipient, no
base URL, an address SMTP cannot carry) the API still answers 201 with the link and
`emailed: false` and why; the account and its link are written whole, and the link works.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM, TABLES, TEST_PASSWORD
from tests.support.auth import sign_in
from tests.support.mail_servers import Dovecot, SMTPServer
from tests.support.mailboxes import dovecot_mailbox
from ticket_app.api.app import create_api
from ticket_app.schemas import MailboxUpdate
from ticket_app.services import mailboxes
from ticket_app.services.identity import links, users
from ticket_app.settings import get_settings

SUPPORT = "support@desk.test"
INVITEE = "customer@desk.test"
COLLEAGUE = "stranger@desk.test"
BASE = "https://desk.example.com"
NEW_PASSWORD = "quartz zebra lantern meadow"
# aiosmtpd's own logger: the test SMTP server is the mail's recipient, not part of the app.
_RECEIVING_SERVER_LOG = "mail.log"


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    """The file store of this test (every stored `.eml` would be below it)."""
    return tmp_path / "storage"


@pytest.fixture
def desk(
    db: Engine,
    dovecot: Dovecot,
    smtp: SMTPServer,
    storage: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[int]:
    """The public base URL, an admin "Ann Admin", and a mailbox sending through the test SMTP
    server (STARTTLS + AUTH, the test CA trusted); yields the mailbox id."""
    monkeypatch.setenv("MAIL_SECRET_KEY", mailboxes.generate_key())
    monkeypatch.setenv("STORAGE_DIR", str(storage))
    monkeypatch.setenv("MAIL_CA_FILE", str(dovecot.tls.ca_file))
    monkeypatch.setenv("PUBLIC_BASE_URL", f"{BASE}/")
    get_settings.cache_clear()
    users.create_user(ADMIN_EMAIL, "admin", TEST_PASSWORD, name="Ann Admin", actor=SYSTEM)
    mailbox = mailboxes.create_mailbox(
        dovecot_mailbox(dovecot, SUPPORT, from_name="Desk Support", smtp=smtp), actor=SYSTEM
    )
    yield mailbox.id
    get_settings.cache_clear()


@pytest.fixture
def admin(desk: int) -> Iterator[TestClient]:
    """The admin, signed in (staff links need a session)."""
    with TestClient(create_api()) as client:
        sign_in(client, ADMIN_EMAIL)
        yield client


def _token(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def _stored_text(db: Engine, storage: Path) -> str:
    """Every value in every table, and every file in the file store, as one text."""
    parts = []
    with db.connect() as connection:
        for table in TABLES:
            for row in connection.execute(sa.text(f"SELECT * FROM {table}")):
                parts.extend(str(value) for value in row)
    if storage.exists():
        parts.extend(
            path.read_bytes().decode(errors="replace")
            for path in storage.rglob("*")
            if path.is_file()
        )
    return " ".join(parts)


def _app_log(caplog: pytest.LogCaptureFixture) -> str:
    records = [r for r in caplog.records if r.name != _RECEIVING_SERVER_LOG]
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in records)


def _mail_events(db: Engine) -> list[tuple[str, str, str]]:
    with db.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT field, new_value, actor_label FROM ticket_events "
                "WHERE field LIKE '%link_mail' ORDER BY id"
            )
        ).all()
    return [tuple(row) for row in rows]


def _count(db: Engine, table: str) -> int:
    with db.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def _use(token: str) -> str:
    """Set NEW_PASSWORD with the link's token from a fresh browser; the signed-in email."""
    with TestClient(create_api()) as browser:
        used = browser.post(
            "/api/auth/password-link", json={"token": token, "password": NEW_PASSWORD}
        )
        assert used.status_code == 200, used.text
        return browser.get("/api/me/").json()["email"]


def test_an_invitation_is_e_mailed_once_and_its_link_is_stored_nowhere(
    admin: TestClient,
    db: Engine,
    smtp: SMTPServer,
    dovecot: Dovecot,
    storage: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    response = admin.post(
        "/api/staff/invitations/",
        json={"email": INVITEE, "role": "agent", "name": "Casey New"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["emailed"] is True and body["not_emailed_reason"] is None
    assert body["url"].startswith(f"{BASE}/invite/")

    [sent] = smtp.messages
    assert sent.rcpt_tos == (INVITEE,) and sent.mail_from == SUPPORT
    assert sent.tls and sent.login == SUPPORT
    assert b"\n" not in sent.data.replace(b"\r\n", b""), "SMTP lines end in CRLF"
    [received] = dovecot.wait_for_messages(INVITEE, 1)
    assert received["From"] == f"Desk Support <{SUPPORT}>"
    assert received["To"] == f"Casey New <{INVITEE}>"
    assert received["Subject"] == "Invitation to Desk Support on Triage Desk"
    assert received["Auto-Submitted"] == "auto-generated"
    text = received.get_content().replace("\r\n", "\n")
    assert text.startswith("Hello Casey New,\n")
    assert (
        f"Ann Admin ({ADMIN_EMAIL}) invited you to Desk Support on Triage Desk ({BASE}) "
        "as an agent." in text
    )
    [link] = [line for line in text.splitlines() if line.startswith(f"{BASE}/invite/")]
    assert link == body["url"]
    expires = body["expires_at"].replace("T", " ")[:16]
    assert f"It works once, until {expires} UTC:" in text

    token = _token(link)
    assert _count(db, "mail_messages") == 0
    assert token not in _stored_text(db, storage)
    assert token not in _app_log(caplog)
    assert _mail_events(db) == [
        ("invite_link_mail", f"{INVITEE}: e-mailed from {SUPPORT}", ADMIN_EMAIL)
    ]

    assert _use(token) == INVITEE
    with TestClient(create_api()) as again:
        sign_in(again, INVITEE, NEW_PASSWORD)
    assert token not in _app_log(caplog)


def test_a_reset_link_is_e_mailed_and_says_who_asked(
    admin: TestClient, db: Engine, dovecot: Dovecot, storage: Path
) -> None:
    colleague = users.create_user(COLLEAGUE, "viewer", TEST_PASSWORD, name="Sam", actor=SYSTEM)
    response = admin.post(f"/api/staff/{colleague.id}/password-links/", json={})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["purpose"] == "reset" and body["emailed"] is True
    [received] = dovecot.wait_for_messages(COLLEAGUE, 1)
    assert received["Subject"] == "Password reset for Desk Support on Triage Desk"
    text = received.get_content().replace("\r\n", "\n")
    assert (
        f"Ann Admin ({ADMIN_EMAIL}) asked for a password reset link for your Triage Desk "
        f"account ({COLLEAGUE}) at Desk Support ({BASE})." in text
    )
    assert f"\n{body['url']}\n" in text and "/reset/" in body["url"]
    assert _token(body["url"]) not in _stored_text(db, storage)
    assert _mail_events(db) == [
        ("reset_link_mail", f"{COLLEAGUE}: e-mailed from {SUPPORT}", ADMIN_EMAIL)
    ]
    assert _use(_token(body["url"])) == COLLEAGUE


@contextmanager
def _silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung mail server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_server_that_is_down_or_hangs_leaves_the_link_shown_and_working(
    admin: TestClient,
    desk: int,
    db: Engine,
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with smtp.down():
        down = admin.post("/api/staff/invitations/", json={"email": INVITEE, "role": "viewer"})
    assert down.status_code == 201, down.text
    assert down.json()["emailed"] is False
    assert down.json()["not_emailed_reason"] == "mail server unreachable: connection refused"

    monkeypatch.setenv("LINK_MAIL_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    with _silent_port() as silent:
        mailboxes.update_mailbox(desk, MailboxUpdate(smtp_port=silent), actor=SYSTEM)
        started = time.monotonic()
        hung = admin.post(f"/api/staff/{down.json()['user']['id']}/password-links/", json={})
        waited = time.monotonic() - started
    assert hung.status_code == 201, hung.text
    assert hung.json()["emailed"] is False
    hang_reason = hung.json()["not_emailed_reason"]
    # smtplib words it "Connection unexpectedly closed: timed out".
    assert hang_reason.startswith("mail server unreachable: ") and hang_reason.endswith("timed out")
    assert waited < 5

    # Nothing half-written: one account, its links, their events; the newest link works.
    assert smtp.messages == []
    assert _count(db, "staff_users") == 2 and _count(db, "password_links") == 2
    assert _count(db, "mail_messages") == 0
    assert _mail_events(db) == [
        (
            "invite_link_mail",
            f"{INVITEE}: not e-mailed (mail server unreachable: connection refused)",
            ADMIN_EMAIL,
        ),
        ("reset_link_mail", f"{INVITEE}: not e-mailed ({hang_reason})", ADMIN_EMAIL),
    ]
    assert _use(_token(hung.json()["url"])) == INVITEE


def test_a_refused_recipient_or_no_base_url_is_an_answer_not_an_error(
    admin: TestClient, db: Engine, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = admin.post(
        "/api/staff/invitations/", json={"email": "someone@elsewhere.example", "role": "agent"}
    )
    assert refused.status_code == 201, refused.text
    reason = refused.json()["not_emailed_reason"]
    assert refused.json()["emailed"] is False
    assert reason.startswith("mail server did not take it: someone@elsewhere.example: 550")
    assert links.link_info(_token(refused.json()["url"])).email == "someone@elsewhere.example"
    unwritable = admin.post(
        "/api/staff/invitations/", json={"email": "josé@desk.test", "role": "agent"}
    )
    assert unwritable.status_code == 201, unwritable.text
    assert unwritable.json()["not_emailed_reason"] == "the address cannot be written in a mail"

    monkeypatch.delenv("PUBLIC_BASE_URL")
    get_settings.cache_clear()
    relative = admin.post("/api/staff/invitations/", json={"email": INVITEE, "role": "agent"})
    assert relative.status_code == 201, relative.text
    assert relative.json()["url"].startswith("/invite/")
    assert relative.json()["emailed"] is False
    assert relative.json()["not_emailed_reason"] == (
        "PUBLIC_BASE_URL is not set, so the link is not a full address"
    )
    assert smtp.messages == []
