"""The e-mail channel's REST routes through HTTP, on both databases (issue 21).

- `POST /api/inbound/email/`: raw mail in, what became of it out; only `mail:inbound` tokens;
  a body up to MAIL_RAW_MAX_BYTES on this path alone.
- `/api/mailboxes/`: admins in a signed-in session only (no token manages mailboxes); passwords
  never in an answer, the log or the audit trail; changes audited; "Test connection" names the
  step that failed.
- `/api/mail/quarantine/`: list, `.eml`, retry, discard.
- A ticket's mail and files: `.eml` of a comment, attachments typed by their bytes and served as
  downloads with `nosniff`; comments carry channel, direction, message id and delivery state.
- `/api/requesters/{id}/`: a customer and their tickets.
"""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL
from tests.support.auth import add_token, add_user, bearer
from tests.support.tickets import make_ticket
from tests.support.workspace import signed_in
from ticket_app.api.app import create_api
from ticket_app.models import Role, TicketEvent
from ticket_app.services import mailboxes, task_queue
from ticket_app.settings import get_settings

SUPPORT = "support@desk.test"
JANE = "Jane Doe <jane@customer.example>"
RFC822 = {"Content-Type": "message/rfc822"}
IMAP_SECRET = "imap-secret-Zq8v"
SMTP_SECRET = "smtp-secret-Wx4k"
# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture
def mail_env(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Mail settings for one test: a key, a storage folder, jobs run at once (no worker), no
    retries of a failed send, a flood limit of 5 an hour."""
    monkeypatch.setenv("MAIL_SECRET_KEY", mailboxes.generate_key())
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("MAIL_SENDER_HOURLY_LIMIT", "5")
    monkeypatch.setenv("MAIL_SEND_RETRIES", "0")
    get_settings.cache_clear()
    task_queue.use_immediate_mode()
    yield db
    task_queue.use_immediate_mode(False)
    get_settings.cache_clear()


@pytest.fixture
def mta(mail_env: Engine, client: TestClient) -> Iterator[TestClient]:
    """A client with the admin's token that asked for the `mail:inbound` scope (an MTA pipe)."""
    headers = bearer(add_token(ADMIN_EMAIL, scopes="mail:inbound", name="mta"))
    with TestClient(create_api(), headers=headers) as mta_client:
        yield mta_client


@pytest.fixture
def admin(mail_env: Engine, client: TestClient) -> Iterator[TestClient]:
    """The admin signed in (a session cookie, as the console holds): may manage mailboxes."""
    with signed_in(ADMIN_EMAIL) as session_client:
        yield session_client


def mail(
    subject: str = "Cannot log in",
    body: str = "I cannot log in since this morning, the password reset mail never arrives.",
    *,
    sender: str = JANE,
    message_id: str | None = "<m1@customer.example>",
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def post_mail(client: TestClient, raw: bytes | EmailMessage, path: str = "/api/inbound/email/"):
    data = raw.as_bytes() if isinstance(raw, EmailMessage) else raw
    return client.post(path, content=data, headers=RFC822)


def ingested(client: TestClient, raw: bytes | EmailMessage) -> dict[str, Any]:
    response = post_mail(client, raw)
    assert response.status_code == 200, response.text
    return response.json()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mailbox_payload(**overrides: Any) -> dict[str, Any]:
    port = closed_port()
    return {
        "name": "Support",
        "address": SUPPORT,
        "from_name": "Desk Support",
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_username": SUPPORT,
        "imap_password": IMAP_SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "smtp_password": SMTP_SECRET,
        **overrides,
    }


def events(engine: Engine, *kinds: str) -> list[Any]:
    with engine.connect() as connection:
        query = sa.select(TicketEvent).order_by(TicketEvent.id)
        if kinds:
            query = query.where(TicketEvent.kind.in_(kinds))
        return list(connection.execute(query).all())


def assert_download(response, content_type: str, filename: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["x-content-type-options"] == "nosniff"


def error_field(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"detail", "errors"} and body["errors"], body
    return body["errors"][0]["field"]


# --- POST /api/inbound/email/ ---------------------------------------------------------------


def test_raw_mail_becomes_a_ticket_then_a_duplicate(mta: TestClient, client: TestClient) -> None:
    created = ingested(mta, mail())
    assert created == {
        "outcome": "created",
        "ticket_id": created["ticket_id"],
        "comment_id": None,
        "quarantine_id": None,
        "detail": "",
    }
    ticket = client.get(f"/api/tickets/{created['ticket_id']}/").json()
    assert ticket["title"] == "Cannot log in"
    assert (ticket["requester_name"], ticket["requester_email"]) == (
        "Jane Doe",
        "jane@customer.example",
    )
    assert ticket["external_id"] == "mail:<m1@customer.example>"
    assert ticket["suggested_category"] is not None
    trail = client.get(f"/api/tickets/{created['ticket_id']}/events/").json()
    assert trail[0]["kind"] == "created" and trail[0]["actor_kind"] == "mail"

    again = ingested(mta, mail())
    assert again == {**created, "outcome": "duplicate"}
    assert len(client.get("/api/tickets/").json()) == 1


def test_a_reply_is_appended_to_its_ticket(mta: TestClient, client: TestClient) -> None:
    created = ingested(mta, mail())
    reply = mail(
        "Re: Cannot log in",
        "It works now, thanks!\n\nOn Mon, Jane wrote:\n> I cannot log in since this morning",
        message_id="<m2@customer.example>",
        In_Reply_To="<m1@customer.example>",
    )
    appended = ingested(mta, reply)
    assert appended == {
        "outcome": "appended",
        "ticket_id": created["ticket_id"],
        "comment_id": appended["comment_id"],
        "quarantine_id": None,
        "detail": "",
    }
    [comment] = client.get(f"/api/tickets/{created['ticket_id']}/comments/").json()
    assert comment["id"] == appended["comment_id"]
    assert comment["body"] == "It works now, thanks!" and comment["public"] is True
    assert ingested(mta, reply) == {**appended, "outcome": "duplicate"}


def test_unreadable_mail_is_quarantined_with_the_reason(mta: TestClient) -> None:
    result = ingested(mta, mail(sender=""))
    assert result["outcome"] == "quarantined"
    assert result["ticket_id"] is None and result["comment_id"] is None
    assert isinstance(result["quarantine_id"], int) and "sender" in result["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x", None]
)
def test_raw_mail_must_be_sent_as_message_rfc822(mta: TestClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = mta.post("/api/inbound/email/", content=mail().as_bytes(), headers=headers)
    assert error_field(response, 422) == "Content-Type"
    assert "message/rfc822" in response.json()["detail"]


def test_the_media_type_is_matched_without_parameters_or_case(mta: TestClient) -> None:
    response = mta.post(
        "/api/inbound/email",
        content=mail().as_bytes(),
        headers={"Content-Type": "Message/RFC822; charset=utf-8"},
    )
    assert response.status_code == 200 and response.json()["outcome"] == "created"


def test_an_empty_message_is_refused_naming_the_body(mta: TestClient) -> None:
    assert error_field(post_mail(mta, b" \r\n"), 422) == "body"


def test_the_default_tokens_cannot_post_raw_mail(
    mail_env: Engine, client: TestClient, anonymous_client: TestClient
) -> None:
    # The `client` fixture is an admin's token with the default scopes: no mail:inbound.
    response = post_mail(client, mail())
    assert response.status_code == 403
    assert "mail.inbound" in response.json()["detail"]
    writer = bearer(add_token(ADMIN_EMAIL, scopes="tickets:read,tickets:write", name="writer"))
    with TestClient(create_api(), headers=writer) as write_client:
        assert post_mail(write_client, mail()).status_code == 403
    assert post_mail(anonymous_client, mail()).status_code == 401
    assert client.get("/api/tickets/").json() == []


def test_a_mail_inbound_token_posts_mail_but_reads_no_tickets(mta: TestClient) -> None:
    assert ingested(mta, mail())["outcome"] == "created"
    assert mta.get("/api/tickets/").status_code == 403
    assert mta.get("/api/mailboxes/").status_code == 403


def test_a_viewer_cannot_post_mail_even_with_the_scope(
    mail_env: Engine, client: TestClient
) -> None:
    add_user(Role.VIEWER, "viewer@example.com")
    headers = bearer(add_token("viewer@example.com", scopes="mail:inbound"))
    with TestClient(create_api(), headers=headers) as viewer:
        assert post_mail(viewer, mail()).status_code == 403
    add_user(Role.AGENT, "agent@example.com")
    headers = bearer(add_token("agent@example.com", scopes="mail:inbound"))
    with TestClient(create_api(), headers=headers) as agent:
        assert ingested(agent, mail())["outcome"] == "created"


def test_large_raw_mail_is_accepted_on_the_inbound_path_only(
    mail_env: Engine, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_REQUEST_BYTES", "4096")
    monkeypatch.setenv("MAIL_RAW_MAX_BYTES", "65536")
    get_settings.cache_clear()
    large = mail(body="The export fails again. " * 1000)  # about 24 KB
    size = len(large.as_bytes())
    assert 4096 < size < 65536
    mta_headers = bearer(add_token(ADMIN_EMAIL, scopes="mail:inbound", name="mta"))
    with (
        TestClient(create_api(), headers=mta_headers) as mta,
        TestClient(create_api(), headers=dict(client.headers)) as limited,
    ):
        for path in ("/api/inbound/email/", "/api/inbound/email"):
            response = post_mail(mta, large, path=path)
            assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "duplicate"
        ticket = {"title": "Big", "description": "x" * 6000, "category": "technical"}
        assert error_field(limited.post("/api/tickets/", json=ticket), 413) == "body"
        assert error_field(post_mail(limited, large, path="/api/tickets/"), 413) == "body"
        huge = mail(body="x" * 70_000, message_id="<huge@customer.example>")
        assert error_field(post_mail(mta, huge), 413) == "body"


# --- Mailboxes ------------------------------------------------------------------------------


def test_mailboxes_are_managed_in_an_admin_session_without_passwords_in_answers(
    admin: TestClient, mail_env: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = []
    created = admin.post("/api/mailboxes/", json=mailbox_payload())
    assert created.status_code == 201, created.text
    answers.append(created)
    mailbox = created.json()
    assert mailbox["imap_password_set"] is True and mailbox["smtp_password_set"] is True
    assert "imap_password" not in mailbox and "smtp_password" not in mailbox
    assert (mailbox["imap_tls"], mailbox["smtp_tls"], mailbox["imap_folder"]) == (
        "tls",
        "none",
        "INBOX",
    )
    url = f"/api/mailboxes/{mailbox['id']}/"
    answers.append(listed := admin.get("/api/mailboxes/"))
    assert listed.status_code == 200 and [m["id"] for m in listed.json()] == [mailbox["id"]]
    answers.append(got := admin.get(url))
    assert got.json() == mailbox
    answers.append(admin.get(url.rstrip("/")))
    answers.append(admin.post(f"{url}test/"))
    answers.append(admin.patch(url, json={"imap_password": "imap-other-Kp2r"}))
    answers.append(admin.get("/api/openapi.json"))
    for response in answers:
        for secret in (IMAP_SECRET, SMTP_SECRET, "imap-other-Kp2r"):
            assert secret not in response.text
    with mail_env.connect() as connection:
        stored = connection.execute(sa.text("SELECT imap_password, smtp_password FROM mailboxes"))
        for value in stored.one():
            assert IMAP_SECRET not in value and SMTP_SECRET not in value
    for event in events(mail_env):
        assert all(
            secret not in (event.old_value or "") + (event.new_value or "")
            for secret in (IMAP_SECRET, SMTP_SECRET, "imap-other-Kp2r")
        )
    for secret in (IMAP_SECRET, SMTP_SECRET, "imap-other-Kp2r"):
        assert secret not in caplog.text


def test_changing_a_mailbox_writes_audit_events_by_field(
    admin: TestClient, mail_env: Engine
) -> None:
    mailbox = admin.post("/api/mailboxes/", json=mailbox_payload()).json()
    url = f"/api/mailboxes/{mailbox['id']}/"
    response = admin.patch(
        url,
        json={
            "imap_host": "imap.desk.test",
            "imap_password": "a-new-imap-secret",
            "from_name": "Desk Support",  # unchanged: no event
            "acknowledge_new": True,
        },
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["imap_host"] == "imap.desk.test" and changed["acknowledge_new"] is True
    assert changed["from_name"] == "Desk Support" and changed["imap_password_set"] is True
    assert admin.get(url).json() == changed
    recorded = {
        event.field: (event.old_value, event.new_value, event.actor_kind, event.actor_label)
        for event in events(mail_env, "mailbox_changed")
    }
    assert recorded == {
        "imap_host": ("127.0.0.1", "imap.desk.test", "user", ADMIN_EMAIL),
        "imap_password": ("***", "***", "user", ADMIN_EMAIL),
        "acknowledge_new": ("False", "True", "user", ADMIN_EMAIL),
    }
    [created_event] = events(mail_env, "mailbox_created")
    assert (created_event.new_value, created_event.actor_label) == (SUPPORT, ADMIN_EMAIL)


def test_mailbox_fields_are_validated_by_name(admin: TestClient) -> None:
    assert error_field(admin.post("/api/mailboxes/", json=mailbox_payload(imap_port=0)), 422) == (
        "imap_port"
    )
    for host in ["smtp.example.test\r\nX: y", "smtp\x85example", "smtp\x10example", "a/b"]:
        payload = mailbox_payload(smtp_host=host)
        assert error_field(admin.post("/api/mailboxes/", json=payload), 422) == "smtp_host"
    assert error_field(admin.post("/api/mailboxes/", json=mailbox_payload(pasword="x")), 422) == (
        "pasword"
    )
    mailbox = admin.post("/api/mailboxes/", json=mailbox_payload()).json()
    url = f"/api/mailboxes/{mailbox['id']}/"
    for field in ("name", "address", "imap_host", "imap_password", "imap_username", "active"):
        assert error_field(admin.patch(url, json={field: None}), 422) == field, field
    assert admin.get(url).json() == mailbox


def test_a_taken_name_or_address_is_a_conflict(admin: TestClient) -> None:
    first = admin.post("/api/mailboxes/", json=mailbox_payload()).json()
    again = admin.post("/api/mailboxes/", json=mailbox_payload(address="sales@desk.test"))
    assert error_field(again, 409) == "name"
    second = admin.post(
        "/api/mailboxes/", json=mailbox_payload(name="Sales", address="sales@desk.test")
    ).json()
    response = admin.patch(f"/api/mailboxes/{second['id']}/", json={"address": first["address"]})
    assert error_field(response, 409) == "address"


def test_a_mailbox_address_is_one_address_in_any_case(admin: TestClient, mta: TestClient) -> None:
    created = admin.post("/api/mailboxes/", json=mailbox_payload(address="Support@Desk.TEST"))
    assert created.status_code == 201, created.text
    assert created.json()["address"] == SUPPORT
    again = admin.post(
        "/api/mailboxes/", json=mailbox_payload(name="Other", address="SUPPORT@desk.test")
    )
    assert error_field(again, 409) == "address"
    changed = admin.patch(
        f"/api/mailboxes/{created.json()['id']}/", json={"address": "Help@Desk.Test"}
    )
    assert changed.status_code == 200 and changed.json()["address"] == "help@desk.test"
    looped = ingested(mta, mail(sender="HELP@desk.test"))
    assert looped["outcome"] == "quarantined" and "loop" in looped["detail"]


def test_a_mailbox_cannot_be_stored_without_the_secret_key(
    admin: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAIL_SECRET_KEY")
    get_settings.cache_clear()
    response = admin.post("/api/mailboxes/", json=mailbox_payload())
    assert error_field(response, 422) == "mail_secret_key"
    assert IMAP_SECRET not in response.text
    assert admin.get("/api/mailboxes/").json() == []


def test_a_removed_mailbox_is_gone(admin: TestClient, mail_env: Engine) -> None:
    mailbox = admin.post("/api/mailboxes/", json=mailbox_payload()).json()
    url = f"/api/mailboxes/{mailbox['id']}/"
    response = admin.delete(url)
    assert response.status_code == 204 and response.content == b""
    assert error_field(admin.get(url), 404) == "id"
    assert error_field(admin.delete(url), 404) == "id"
    assert error_field(admin.patch(url, json={"active": False}), 404) == "id"
    assert admin.get("/api/mailboxes/").json() == []
    [removed] = events(mail_env, "mailbox_removed")
    assert (removed.old_value, removed.actor_label) == (SUPPORT, ADMIN_EMAIL)


def test_no_token_manages_mailboxes_nor_the_quarantine(
    admin: TestClient, client: TestClient, anonymous_client: TestClient
) -> None:
    mailbox = admin.post("/api/mailboxes/", json=mailbox_payload()).json()
    url = f"/api/mailboxes/{mailbox['id']}/"
    calls = [
        ("GET", "/api/mailboxes/", None),
        ("POST", "/api/mailboxes/", mailbox_payload(name="Other", address="o@desk.test")),
        ("GET", url, None),
        ("PATCH", url, {"active": False}),
        ("DELETE", url, None),
        ("POST", f"{url}test/", None),
        ("GET", "/api/mail/quarantine/", None),
        ("GET", "/api/mail/quarantine/1/raw/", None),
        ("POST", "/api/mail/quarantine/1/retry/", None),
        ("POST", "/api/mail/quarantine/1/discard/", None),
    ]
    all_scopes = bearer(
        add_token(ADMIN_EMAIL, scopes="tickets:read,tickets:write,mail:inbound", name="all")
    )
    add_user(Role.AGENT, "agent@example.com")
    with (
        TestClient(create_api(), headers=all_scopes) as every_scope,
        signed_in("agent@example.com") as agent,
    ):
        for method, path, payload in calls:
            for caller in (client, every_scope, agent):
                response = caller.request(method, path, json=payload)
                assert response.status_code == 403, (method, path, response.text)
                assert "mailboxes.manage" in response.json()["detail"]
            assert anonymous_client.request(method, path, json=payload).status_code == 401
    assert admin.get(url).json() == mailbox


def test_testing_a_mailbox_on_a_closed_port_names_the_connect_step(admin: TestClient) -> None:
    mailbox = admin.post("/api/mailboxes/", json=mailbox_payload()).json()
    response = admin.post(f"/api/mailboxes/{mailbox['id']}/test/")
    assert response.status_code == 200, response.text
    check = response.json()
    assert check["ok"] is False
    assert [(s["service"], s["ok"], s["step"]) for s in check["steps"]] == [
        ("imap", False, "connect"),
        ("smtp", False, "connect"),
    ]
    assert all(step["detail"] for step in check["steps"])
    assert error_field(admin.post("/api/mailboxes/999/test/"), 404) == "id"


# --- Quarantine -----------------------------------------------------------------------------


def test_the_quarantine_lists_serves_and_discards_held_mail(
    admin: TestClient, mta: TestClient, mail_env: Engine
) -> None:
    raw = mail(sender="", message_id="<nosender@x>").as_bytes()
    held = ingested(mta, raw)
    listed = admin.get("/api/mail/quarantine/")
    assert listed.status_code == 200
    [entry] = listed.json()
    assert entry["id"] == held["quarantine_id"] and entry["status"] == "held"
    assert entry["message_id"] == "<nosender@x>" and entry["subject"] == "Cannot log in"
    assert entry["raw_size"] == len(raw) and "sender" in entry["reason"]
    assert entry["resolved_at"] is None

    served = admin.get(f"/api/mail/quarantine/{entry['id']}/raw/")
    assert_download(served, "message/rfc822", f"quarantine-{entry['id']}.eml")
    assert served.content == raw

    retried = admin.post(f"/api/mail/quarantine/{entry['id']}/retry/")
    assert retried.status_code == 200 and retried.json()["outcome"] == "quarantined"
    assert [e["id"] for e in admin.get("/api/mail/quarantine/").json()] == [entry["id"]]

    discarded = admin.post(f"/api/mail/quarantine/{entry['id']}/discard/")
    assert discarded.status_code == 204
    assert admin.get("/api/mail/quarantine/").json() == []
    assert error_field(admin.post(f"/api/mail/quarantine/{entry['id']}/discard/"), 404) == "id"
    assert error_field(admin.post(f"/api/mail/quarantine/{entry['id']}/retry/"), 404) == "id"
    # Kept for the record.
    assert admin.get(f"/api/mail/quarantine/{entry['id']}/raw/").content == raw
    [event] = events(mail_env, "mail_discarded")
    assert (event.old_value, event.actor_label) == (str(entry["id"]), ADMIN_EMAIL)


def test_retrying_flooded_mail_takes_it_in(
    admin: TestClient, mta: TestClient, client: TestClient, mail_env: Engine
) -> None:
    outcomes = [
        ingested(mta, mail(f"Question {n}", message_id=f"<f{n}@customer.example>"))["outcome"]
        for n in range(6)
    ]
    assert outcomes == ["created"] * 5 + ["quarantined"]
    [entry] = admin.get("/api/mail/quarantine/").json()
    assert "flood" in entry["reason"] and entry["from_address"] == "jane@customer.example"
    retried = admin.post(f"/api/mail/quarantine/{entry['id']}/retry")
    assert retried.status_code == 200, retried.text
    result = retried.json()
    assert result["outcome"] == "created" and result["quarantine_id"] is None
    assert client.get(f"/api/tickets/{result['ticket_id']}/").json()["title"] == "Question 5"
    assert admin.get("/api/mail/quarantine/").json() == []
    [event] = events(mail_env, "mail_released")
    assert (event.ticket_id, event.new_value, event.actor_label) == (
        result["ticket_id"],
        "created",
        ADMIN_EMAIL,
    )


def test_unknown_quarantine_ids_are_404(admin: TestClient) -> None:
    for method, path in [
        ("GET", "/api/mail/quarantine/42/raw/"),
        ("POST", "/api/mail/quarantine/42/retry/"),
        ("POST", "/api/mail/quarantine/42/discard/"),
    ]:
        assert error_field(admin.request(method, path), 404) == "id", path


# --- A ticket's mail: raw messages, comments, attachments ------------------------------------


def test_the_eml_of_a_mail_comment_is_served_exactly(mta: TestClient, client: TestClient) -> None:
    created = ingested(mta, mail())
    reply = mail(
        "Re: Cannot log in",
        "Still broken.\r\n\r\nJane",
        message_id="<m2@customer.example>",
        In_Reply_To="<m1@customer.example>",
    ).as_bytes()
    appended = ingested(mta, reply)
    ticket_id, comment_id = created["ticket_id"], appended["comment_id"]
    response = client.get(f"/api/tickets/{ticket_id}/comments/{comment_id}/raw/")
    assert_download(response, "message/rfc822", f"ticket-{ticket_id}-comment-{comment_id}.eml")
    assert response.content == reply
    assert client.get(f"/api/tickets/{ticket_id}/comments/{comment_id}/raw").content == reply


def test_a_tickets_mail_lists_the_first_message_and_serves_its_eml(
    mta: TestClient, client: TestClient
) -> None:
    first = mail().as_bytes()
    created = ingested(mta, first)
    reply = mail(
        "Re: Cannot log in",
        "Still broken.",
        message_id="<m2@customer.example>",
        In_Reply_To="<m1@customer.example>",
    ).as_bytes()
    appended = ingested(mta, reply)
    ticket_id = created["ticket_id"]
    listed = client.get(f"/api/tickets/{ticket_id}/mail/")
    assert listed.status_code == 200
    rows = listed.json()
    assert [(row["kind"], row["direction"], row["comment_id"]) for row in rows] == [
        ("customer", "inbound", None),
        ("customer", "inbound", appended["comment_id"]),
    ]
    assert "m1@customer.example" in rows[0]["message_id"]
    assert rows[0]["raw_size"] == len(first)
    response = client.get(f"/api/tickets/{ticket_id}/mail/{rows[0]['id']}/raw/")
    assert_download(response, "message/rfc822", f"ticket-{ticket_id}-mail-{rows[0]['id']}.eml")
    assert response.content == first
    other = make_ticket(client)
    assert client.get(f"/api/tickets/{other['id']}/mail/").json() == []
    # A mail asked for under another ticket, or a ticket that does not exist, is not found.
    assert error_field(client.get(f"/api/tickets/{other['id']}/mail/{rows[0]['id']}/raw/"), 404)
    assert client.get("/api/tickets/999/mail/").status_code == 404


def test_a_comment_that_is_not_mail_has_no_eml(mta: TestClient, client: TestClient) -> None:
    ticket = make_ticket(client)
    note = client.post(
        f"/api/tickets/{ticket['id']}/comments/", json={"body": "a note", "public": False}
    ).json()
    response = client.get(f"/api/tickets/{ticket['id']}/comments/{note['id']}/raw/")
    assert error_field(response, 404) == "id"
    created = ingested(mta, mail())
    appended = ingested(
        mta, mail("Re", "more", message_id="<m2@c>", In_Reply_To="<m1@customer.example>")
    )
    # A mail comment asked for under another ticket is not found either.
    response = client.get(f"/api/tickets/{ticket['id']}/comments/{appended['comment_id']}/raw/")
    assert error_field(response, 404) == "id"
    assert created["ticket_id"] != ticket["id"]
    assert client.get("/api/tickets/999/comments/1/raw/").status_code == 404


def test_comments_say_their_channel_direction_message_id_and_delivery(
    admin: TestClient, mta: TestClient, client: TestClient
) -> None:
    admin.post("/api/mailboxes/", json=mailbox_payload())  # its SMTP port is closed
    created = ingested(mta, mail())
    ticket_id = created["ticket_id"]
    ingested(
        mta,
        mail(
            "Re: x", "more", message_id="<m2@customer.example>", In_Reply_To="<m1@customer.example>"
        ),
    )
    posted = client.post(
        f"/api/tickets/{ticket_id}/comments/", json={"body": "Try now.", "public": True}
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["direction"] == "outbound"
    assert posted.json()["mailed_to"] == "jane@customer.example"
    client.post(f"/api/tickets/{ticket_id}/comments/", json={"body": "VIP", "public": False})
    inbound, reply, note = client.get(f"/api/tickets/{ticket_id}/comments/").json()
    assert {
        key: inbound[key] for key in ("channel", "direction", "message_id", "delivery_status")
    } == {
        "channel": "email",
        "direction": "inbound",
        "message_id": "<m2@customer.example>",
        "delivery_status": None,
    }
    assert (reply["channel"], reply["direction"], reply["delivery_status"]) == (
        "api",
        "outbound",
        "failed",
    )
    assert reply["message_id"].startswith("<") and reply["message_id"].endswith("@desk.test>")
    assert reply["delivery_error"].startswith("connect:")
    assert {
        key: note[key] for key in ("channel", "direction", "message_id", "delivery_status")
    } == {"channel": "api", "direction": None, "message_id": None, "delivery_status": None}
    sent = client.get(f"/api/tickets/{ticket_id}/comments/{reply['id']}/raw/")
    assert sent.status_code == 200
    assert f"Message-ID: {reply['message_id']}".encode() in sent.content
    assert b"In-Reply-To: <m2@customer.example>" in sent.content
    resent = client.post(f"/api/tickets/{ticket_id}/comments/{reply['id']}/resend/")
    assert resent.status_code == 202, resent.text


def _with_files(*files: tuple[bytes, str, str, str], message_id: str) -> EmailMessage:
    message = mail("Screenshot attached", "See the screenshot.", message_id=message_id)
    for payload, maintype, subtype, filename in files:
        message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return message


def test_attachments_are_listed_and_served_as_typed_by_their_bytes(
    mta: TestClient, client: TestClient
) -> None:
    html = b"<html><script>alert(1)</script></html>"
    message = _with_files(
        (PNG, "text", "html", "shot.html"),
        (html, "image", "png", "page.png"),
        (b"%PDF-1.4 tiny", "application", "pdf", "PLACEHOLDER.pdf"),
        message_id="<files@customer.example>",
    )
    # A name that decodes to quotes and a line break (RFC 2231), as a hostile sender could send.
    raw = message.as_bytes().replace(
        b'filename="PLACEHOLDER.pdf"', b"filename*=utf-8''in%22voice%0D%0AX-Evil%3A%201.pdf"
    )
    ticket_id = ingested(mta, raw)["ticket_id"]
    listed = client.get(f"/api/tickets/{ticket_id}/attachments/")
    assert listed.status_code == 200
    files = listed.json()
    assert [(f["filename"], f["size"], f["ticket_id"]) for f in files] == [
        ("shot.html", len(PNG), ticket_id),
        ("page.png", len(html), ticket_id),
        ('in"voice_X-Evil: 1.pdf', 13, ticket_id),  # control characters replaced
    ]
    assert files[0]["content_type"] == "image/png"  # the bytes, not the claimed text/html
    assert files[1]["content_type"] != "image/png"  # nor the claimed image/png

    png = client.get(f"/api/tickets/{ticket_id}/attachments/{files[0]['id']}/")
    assert_download(png, "image/png", "shot.html")
    assert png.content == PNG
    page = client.get(f"/api/tickets/{ticket_id}/attachments/{files[1]['id']}")
    assert page.status_code == 200 and page.content == html
    assert page.headers["content-type"].split(";")[0] == files[1]["content_type"]
    assert page.headers["content-disposition"] == 'attachment; filename="page.png"'
    assert page.headers["x-content-type-options"] == "nosniff"
    pdf = client.get(f"/api/tickets/{ticket_id}/attachments/{files[2]['id']}/")
    assert_download(pdf, "application/pdf", "in_voice_X-Evil_ 1.pdf")
    assert pdf.content == b"%PDF-1.4 tiny" and "x-evil" not in pdf.headers


def test_attachments_belong_to_their_ticket(mta: TestClient, client: TestClient) -> None:
    created = ingested(
        mta, _with_files((PNG, "image", "png", "a.png"), message_id="<one@customer.example>")
    )
    other = make_ticket(client)
    [file] = client.get(f"/api/tickets/{created['ticket_id']}/attachments/").json()
    assert client.get(f"/api/tickets/{other['id']}/attachments/").json() == []
    response = client.get(f"/api/tickets/{other['id']}/attachments/{file['id']}/")
    assert error_field(response, 404) == "id"
    assert error_field(client.get("/api/tickets/999/attachments/"), 404) == "id"


def test_attachments_are_for_staff_only(
    mta: TestClient, client: TestClient, anonymous_client: TestClient
) -> None:
    created = ingested(
        mta, _with_files((PNG, "image", "png", "a.png"), message_id="<two@customer.example>")
    )
    [file] = client.get(f"/api/tickets/{created['ticket_id']}/attachments/").json()
    url = f"/api/tickets/{created['ticket_id']}/attachments/{file['id']}/"
    assert anonymous_client.get(url).status_code == 401
    assert mta.get(url).status_code == 403  # a mail:inbound token reads nothing
    add_user(Role.VIEWER, "viewer@example.com")
    with TestClient(create_api(), headers=bearer(add_token("viewer@example.com"))) as viewer:
        assert viewer.get(url).content == PNG


# --- Requesters -----------------------------------------------------------------------------


def test_a_requester_lists_their_tickets_newest_first(mta: TestClient, client: TestClient) -> None:
    first = ingested(mta, mail("Cannot log in", message_id="<r1@customer.example>"))
    second = ingested(
        mta,
        mail(
            "Invoice twice",
            "I was charged twice for my invoice this month.",
            sender="JANE@Customer.Example",
            message_id="<r2@customer.example>",
        ),
    )
    ingested(mta, mail("Other", sender="bob@else.example", message_id="<b1@else.example>"))
    requester_id = client.get(f"/api/tickets/{first['ticket_id']}/").json()["requester_id"]
    assert client.get(f"/api/tickets/{second['ticket_id']}/").json()["requester_id"] == (
        requester_id
    )
    response = client.get(f"/api/requesters/{requester_id}/")
    assert response.status_code == 200, response.text
    requester = response.json()
    assert (requester["email"], requester["name"], requester["ticket_count"]) == (
        "jane@customer.example",
        "Jane Doe",
        2,
    )
    assert [(t["id"], t["title"], t["status"]) for t in requester["tickets"]] == [
        (second["ticket_id"], "Invoice twice", "open"),
        (first["ticket_id"], "Cannot log in", "open"),
    ]
    assert client.get(f"/api/requesters/{requester_id}").json() == requester
    assert error_field(client.get("/api/requesters/999/"), 404) == "id"


def test_changing_a_tickets_requester_moves_it_to_the_new_requester(
    mail_env: Engine, client: TestClient
) -> None:
    ticket = make_ticket(client, requester_email="ann@customer.example", requester_name="Ann")
    ann = ticket["requester_id"]
    assert ann is not None
    changed = client.patch(
        f"/api/tickets/{ticket['id']}/", json={"requester_email": "Ben@Customer.Example"}
    ).json()
    ben = changed["requester_id"]
    assert ben not in (None, ann)
    assert client.get(f"/api/requesters/{ann}/").json()["tickets"] == []
    assert [t["id"] for t in client.get(f"/api/requesters/{ben}/").json()["tickets"]] == [
        ticket["id"]
    ]
    cleared = client.patch(f"/api/tickets/{ticket['id']}/", json={"requester_email": None})
    assert cleared.json()["requester_id"] is None
    assert client.get(f"/api/requesters/{ben}/").json()["ticket_count"] == 0


def test_requesters_are_for_staff_only(
    mta: TestClient, client: TestClient, anonymous_client: TestClient
) -> None:
    created = ingested(mta, mail())
    requester_id = client.get(f"/api/tickets/{created['ticket_id']}/").json()["requester_id"]
    assert anonymous_client.get(f"/api/requesters/{requester_id}/").status_code == 401
    assert mta.get(f"/api/requesters/{requester_id}/").status_code == 403


# --- The published contract -----------------------------------------------------------------

MAIL_ROUTES = {
    "/api/inbound/email/": {"post"},
    "/api/mailboxes/": {"get", "post"},
    "/api/mailboxes/{mailbox_id}/": {"get", "patch", "delete"},
    "/api/mailboxes/{mailbox_id}/test/": {"post"},
    "/api/mail/quarantine/": {"get"},
    "/api/mail/quarantine/{quarantine_id}/raw/": {"get"},
    "/api/mail/quarantine/{quarantine_id}/retry/": {"post"},
    "/api/mail/quarantine/{quarantine_id}/discard/": {"post"},
    "/api/tickets/{ticket_id}/comments/{comment_id}/raw/": {"get"},
    "/api/tickets/{ticket_id}/comments/{comment_id}/resend/": {"post"},
    "/api/tickets/{ticket_id}/attachments/": {"get"},
    "/api/tickets/{ticket_id}/attachments/{attachment_id}/": {"get"},
    "/api/requesters/{requester_id}/": {"get"},
}


def test_the_docs_list_the_mail_routes(anonymous_client: TestClient) -> None:
    docs = anonymous_client.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
    spec = anonymous_client.get("/api/openapi.json").json()
    for path, methods in MAIL_ROUTES.items():
        assert path in spec["paths"], path
        assert set(spec["paths"][path]) == methods, path
    inbound = spec["paths"]["/api/inbound/email/"]["post"]
    assert set(inbound["requestBody"]["content"]) == {"message/rfc822"}
    assert "Content-Type" in inbound["description"] and "422" in inbound["responses"]
    for path, method in [("/api/mailboxes/", "post"), ("/api/mailboxes/{mailbox_id}/", "patch")]:
        assert "409" in spec["paths"][path][method]["responses"], (method, path)
    mailbox = spec["components"]["schemas"]["MailboxRead"]["properties"]
    assert not {"imap_password", "smtp_password"} & set(mailbox)
    assert "requester_id" in spec["components"]["schemas"]["TicketRead"]["properties"]


HUGE = 2**63  # past every id column, on both databases


def test_ids_beyond_any_row_are_404_not_500(admin: TestClient, client: TestClient) -> None:
    ticket = make_ticket(client)["id"]
    for caller, method, path in [
        (admin, "GET", f"/api/mailboxes/{HUGE}/"),
        (admin, "PATCH", f"/api/mailboxes/{HUGE}/"),
        (admin, "DELETE", f"/api/mailboxes/{HUGE}/"),
        (admin, "POST", f"/api/mailboxes/{HUGE}/test/"),
        (admin, "GET", f"/api/mail/quarantine/{HUGE}/raw/"),
        (admin, "POST", f"/api/mail/quarantine/{HUGE}/retry/"),
        (admin, "POST", f"/api/mail/quarantine/{HUGE}/discard/"),
        (client, "GET", f"/api/tickets/{HUGE}/comments/1/raw/"),
        (client, "GET", f"/api/tickets/{ticket}/comments/{HUGE}/raw/"),
        (client, "POST", f"/api/tickets/{ticket}/comments/{HUGE}/resend/"),
        (client, "GET", f"/api/tickets/{HUGE}/attachments/"),
        (client, "GET", f"/api/tickets/{ticket}/attachments/{HUGE}/"),
        (client, "GET", f"/api/requesters/{HUGE}/"),
    ]:
        payload = {"active": False} if method == "PATCH" else None
        response = caller.request(method, path, json=payload)
        assert error_field(response, 404) == "id", (method, path)
