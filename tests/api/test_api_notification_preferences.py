"""Notification e-mail preferences through the API, and the e-mail copies they cause.

- `GET/PUT /api/notifications/preferences/`: every kind with its choice (defaults: `assigned`
  and `mentioned` on), partial updates, duplicates refused, audited, one's own only,
  anonymous 401.
- A notification of a kind someone wants e-mailed queues one outbound mail in the same
  transaction (handed to the task queue after the commit), only while a mailbox is active,
  never to whoever caused it; its subject, body, link (PUBLIC_BASE_URL, never Host) and
  headers; a reply to it is quarantined, never added to the ticket.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.conftest import SYSTEM
from tests.support.auth import add_token, add_user, bearer
from ticket_app.api.app import create_api
from ticket_app.enums import NotificationKind
from ticket_app.models import MailMessage, TicketEvent, utc_now
from ticket_app.schemas import MailboxCreate, MailboxUpdate
from ticket_app.services import file_store, mail_inbound, mail_outbound, mailboxes
from ticket_app.services.database import service_session
from ticket_app.services.notifications import notify
from ticket_app.services.sla_check import check_due
from ticket_app.settings import get_settings

ALL_KINDS = ["assigned", "replied", "sla_warning", "sla_breached", "mentioned"]
DEFAULTS = [
    {"kind": "assigned", "email": True},
    {"kind": "replied", "email": False},
    {"kind": "sla_warning", "email": False},
    {"kind": "sla_breached", "email": False},
    {"kind": "mentioned", "email": True},
]
URL = "/api/notifications/preferences/"
SUPPORT = "support@desk.test"


@pytest.fixture
def enqueued(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Mail settings for one test (a key, a storage folder, a public base URL); the ids handed
    to the task queue are recorded instead of sent."""
    monkeypatch.setenv("MAIL_SECRET_KEY", mailboxes.generate_key())
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://desk.example.com/")
    get_settings.cache_clear()
    handed: list[int] = []
    monkeypatch.setattr(mail_outbound, "enqueue_delivery", handed.append)
    yield handed
    get_settings.cache_clear()


@pytest.fixture
def people(db: Engine, admin_token: str) -> dict[str, TestClient]:
    """API clients acting as the admin, two agents (Ann, Bob) and a viewer (Vic)."""
    clients = {"admin": TestClient(create_api(), headers=bearer(admin_token))}
    for name, role in (("ann", "agent"), ("bob", "agent"), ("vic", "viewer")):
        add_user(role, f"{name}@example.com")
        clients[name] = TestClient(create_api(), headers=bearer(add_token(f"{name}@example.com")))
    return clients


def add_mailbox(active: bool = True) -> int:
    created = mailboxes.create_mailbox(
        MailboxCreate(
            name="Support",
            address=SUPPORT,
            from_name="Desk Support",
            imap_host="127.0.0.1",
            imap_username=SUPPORT,
            imap_password="imap-secret",
            smtp_host="127.0.0.1",
            smtp_port=2525,
            smtp_tls="none",
        ),
        actor=SYSTEM,
    )
    if not active:
        mailboxes.update_mailbox(created.id, MailboxUpdate(active=False), actor=SYSTEM)
    return created.id


def _user_id(client: TestClient) -> int:
    return client.get("/api/me/").json()["id"]


def _ticket(client: TestClient, **fields: object) -> int:
    payload = {"title": "VPN drops", "description": "Every hour.", "category": "technical"}
    response = client.post("/api/tickets/", json={**payload, **fields, "priority": "high"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _outbound(db: Engine) -> list[MailMessage]:
    with db.connect() as connection:
        rows = connection.execute(sa.select(MailMessage.__table__).order_by(MailMessage.id)).all()
    return [MailMessage.model_validate(row._mapping) for row in rows]


def _breaches(db: Engine, ticket_id: int) -> int:
    with db.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "sla_breached")
        ).scalar_one()


def _pending(session: Session) -> list[int]:
    return session.info.get("notification_mail", [])


def _message(row: MailMessage) -> EmailMessage:
    assert row.raw_path
    return message_from_bytes(file_store.read(row.raw_path), policy=default_policy)


# --- Preferences ---------------------------------------------------------------------------


def test_everyone_starts_with_assigned_and_mentioned_e_mailed(
    people: dict[str, TestClient],
) -> None:
    for client in people.values():
        response = client.get(URL)
        assert response.status_code == 200
        assert response.json() == DEFAULTS
    assert [item["kind"] for item in DEFAULTS] == ALL_KINDS


def test_a_partial_update_changes_only_the_kinds_listed_and_is_audited(
    people: dict[str, TestClient], db: Engine
) -> None:
    ann = people["ann"]
    response = ann.put(
        URL, json=[{"kind": "replied", "email": True}, {"kind": "assigned", "email": False}]
    )
    assert response.status_code == 200
    expected = {item["kind"]: item["email"] for item in DEFAULTS} | {
        "replied": True,
        "assigned": False,
    }
    assert {item["kind"]: item["email"] for item in response.json()} == expected
    assert {item["kind"]: item["email"] for item in ann.get(URL).json()} == expected
    assert people["bob"].get(URL).json() == DEFAULTS  # one's own only
    # The full list back: only real changes are audited.
    assert ann.put(URL, json=response.json()).json() == response.json()
    assert ann.put(URL, json=[]).json() == response.json()
    with db.connect() as connection:
        events = connection.execute(
            sa.select(TicketEvent.field, TicketEvent.old_value, TicketEvent.new_value)
            .where(TicketEvent.kind == "notification_prefs_changed")
            .order_by(TicketEvent.id)
        ).all()
        actor_label = connection.execute(
            sa.select(TicketEvent.actor_label).where(
                TicketEvent.kind == "notification_prefs_changed"
            )
        ).scalar()
    assert [tuple(event) for event in events] == [
        ("email.replied", "false", "true"),
        ("email.assigned", "true", "false"),
    ]
    assert actor_label.startswith("ann@example.com")


@pytest.mark.parametrize(
    "body",
    [
        [{"kind": "gossip", "email": True}],
        [{"kind": "assigned", "email": "yes"}],
        [{"kind": "assigned"}],
        [{"kind": "assigned", "email": True, "sms": True}],
        {"kind": "assigned", "email": True},
        [{"kind": kind, "email": True} for kind in ALL_KINDS * 2],
    ],
)
def test_bad_preferences_are_a_422_naming_the_field(
    people: dict[str, TestClient], body: object
) -> None:
    response = people["ann"].put(URL, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]
    assert people["ann"].get(URL).json() == DEFAULTS


def test_a_kind_listed_twice_takes_its_last_value(people: dict[str, TestClient]) -> None:
    body = [{"kind": "assigned", "email": False}, {"kind": "assigned", "email": True}]
    assert people["ann"].put(URL, json=body).json() == DEFAULTS
    body.reverse()
    assert people["ann"].put(URL, json=body).json()[0] == {"kind": "assigned", "email": False}


def test_every_role_keeps_its_own_and_anonymous_callers_are_refused(
    people: dict[str, TestClient], anonymous_client: TestClient
) -> None:
    for name in ("admin", "ann", "vic"):
        body = [{"kind": "sla_breached", "email": True}]
        assert people[name].put(URL, json=body).status_code == 200
        assert {i["kind"]: i["email"] for i in people[name].get(URL).json()}["sla_breached"]
    assert anonymous_client.get(URL).status_code == 401
    assert anonymous_client.put(URL, json=[]).status_code == 401


def test_a_read_only_token_may_choose_too(people: dict[str, TestClient]) -> None:
    with TestClient(
        create_api(), headers=bearer(add_token("ann@example.com", scopes="tickets:read"))
    ) as reader:
        assert reader.put(URL, json=[{"kind": "replied", "email": True}]).status_code == 200


# --- The e-mail copies ----------------------------------------------------------------------


def test_an_assignment_queues_one_mail_to_the_assignee_after_the_commit(
    people: dict[str, TestClient], enqueued: list[int], db: Engine
) -> None:
    add_mailbox()
    ann, bob = people["ann"], people["bob"]
    ticket_id = _ticket(ann, title="VPN drops\r\nBcc: evil@example.com")
    assert ann.patch(f"/api/tickets/{ticket_id}/", json={"assignee_id": _user_id(bob)}).is_success
    [row] = _outbound(db)
    assert enqueued == [row.id]
    assert row.kind == "notification" and row.direction == "outbound"
    assert row.delivery_status == "queued" and row.ticket_id is None
    assert row.to_address == "bob@example.com" and row.from_address == SUPPORT
    message = _message(row)
    assert message["To"] == "bob <bob@example.com>"
    assert message["From"] == f"Desk Support <{SUPPORT}>"
    assert message["Subject"] == (
        f"[Triage Desk #{ticket_id}] Assigned to you: VPN drops Bcc: evil@example.com"
    )
    assert message["Bcc"] is None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] is None and message["References"] is None
    assert message["Message-ID"] == row.message_id
    body = message.get_content()
    assert f"ann@example.com (token robot) assigned ticket #{ticket_id} to you." in body
    assert f"Ticket #{ticket_id}: VPN drops Bcc: evil@example.com\n" in body
    assert f"Open it: https://desk.example.com/tickets/{ticket_id}\n" in body
    assert "https://desk.example.com/notifications" in body
    # The mail is not part of the ticket's conversation.
    assert ann.get(f"/api/tickets/{ticket_id}/mail/").json() == []


def test_the_link_never_comes_from_the_host_header(
    people: dict[str, TestClient], enqueued: list[int], db: Engine, monkeypatch
) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL")
    get_settings.cache_clear()
    add_mailbox()
    ann = people["ann"]
    ticket_id = _ticket(ann)
    ann.patch(
        f"/api/tickets/{ticket_id}/",
        json={"assignee_id": _user_id(people["bob"])},
        headers={"Host": "attacker.example"},
    )
    [row] = _outbound(db)
    body = _message(row).get_content()
    assert "attacker.example" not in body and "http" not in body
    assert f"Ticket #{ticket_id}: VPN drops" in body


def test_no_mail_without_an_active_mailbox_or_when_the_preference_is_off(
    people: dict[str, TestClient], enqueued: list[int], db: Engine
) -> None:
    ann, bob = people["ann"], people["bob"]
    bob_id = _user_id(bob)
    _ticket(ann, assignee_id=bob_id)
    mailbox_id = add_mailbox(active=False)
    _ticket(ann, assignee_id=bob_id)
    assert _outbound(db) == [] and enqueued == []
    mailboxes.update_mailbox(mailbox_id, MailboxUpdate(active=True), actor=SYSTEM)
    bob.put(URL, json=[{"kind": "assigned", "email": False}])
    _ticket(ann, assignee_id=bob_id)
    assert _outbound(db) == [] and enqueued == []
    # Bell notifications were written every time.
    assert len(bob.get("/api/notifications/").json()) == 3


def test_never_to_whoever_caused_it(
    people: dict[str, TestClient], enqueued: list[int], db: Engine
) -> None:
    add_mailbox()
    ann, bob = people["ann"], people["bob"]
    ann_id, bob_id = _user_id(ann), _user_id(bob)
    for client in (ann, bob):
        client.put(URL, json=[{"kind": kind, "email": True} for kind in ALL_KINDS])
    mine = _ticket(ann, assignee_id=ann_id)  # taking it oneself
    ann.post(f"/api/tickets/{mine}/comments/", json={"body": "Note to self", "public": False})
    assert _outbound(db) == []
    bob.put(f"/api/tickets/{mine}/followers/me/")
    ann.post(
        f"/api/tickets/{mine}/comments/",
        json={"body": "@bob can you check the VPN logs?", "public": False},
    )
    rows = _outbound(db)
    assert [row.to_address for row in rows] == ["bob@example.com"]
    message = _message(rows[0])
    assert message["Subject"] == f"[Triage Desk #{mine}] Mentioned you: VPN drops"
    body = message.get_content()
    assert (
        f"ann@example.com (token robot) mentioned you in an internal note on ticket #{mine}:"
        in body
    )
    assert "> @bob can you check the VPN logs?" in body
    bob.post(f"/api/tickets/{mine}/comments/", json={"body": "On it", "public": False})
    rows = _outbound(db)
    assert [row.to_address for row in rows] == ["bob@example.com", "ann@example.com"]
    assert _message(rows[1])["Subject"] == f"[Triage Desk #{mine}] New reply: VPN drops"
    assert enqueued == [row.id for row in rows]
    assert bob_id != ann_id


def test_a_rolled_back_change_queues_nothing(
    people: dict[str, TestClient], enqueued: list[int], db: Engine
) -> None:
    add_mailbox()
    ticket_id = _ticket(people["ann"])
    bob_id = _user_id(people["bob"])
    with pytest.raises(RuntimeError), service_session() as session:
        told = notify(session, [bob_id], NotificationKind.ASSIGNED, ticket_id, actor_label="ann")
        assert told == 1 and len(_pending(session)) == 1
        raise RuntimeError("the change fails after notifying")
    assert _outbound(db) == [] and enqueued == []
    assert people["bob"].get("/api/notifications/").json() == []


def test_a_reply_to_a_notification_is_quarantined_not_added_to_the_ticket(
    people: dict[str, TestClient], enqueued: list[int], db: Engine
) -> None:
    add_mailbox()
    ann = people["ann"]
    ticket_id = _ticket(ann)
    ann.patch(f"/api/tickets/{ticket_id}/", json={"assignee_id": _user_id(people["bob"])})
    [row] = _outbound(db)
    reply = EmailMessage()
    reply["From"] = "Bob <bob@example.com>"
    reply["To"] = SUPPORT
    reply["Subject"] = f"Re: [Triage Desk #{ticket_id}] Assigned to you: VPN drops"
    reply["Message-ID"] = "<bob-reply@example.com>"
    reply["In-Reply-To"] = row.message_id
    reply["References"] = row.message_id
    reply.set_content("Thanks, on it.")
    result = mail_inbound.ingest(reply.as_bytes())
    assert result.outcome == "quarantined" and "notification" in result.detail
    comments = ann.get(f"/api/tickets/{ticket_id}/comments/").json()
    assert all("on it" not in comment["body"] for comment in comments)
    assert ann.get("/api/tickets/").headers["X-Total-Count"] == "1"


def test_the_service_level_check_mails_the_team_only_who_chose_it(
    people: dict[str, TestClient], enqueued: list[int], db: Engine
) -> None:
    add_mailbox()
    people["bob"].put(URL, json=[{"kind": "sla_breached", "email": True}])
    ann_id, bob_id = _user_id(people["ann"]), _user_id(people["bob"])
    unowned = _ticket(people["ann"])
    bobs = _ticket(people["ann"], assignee_id=bob_id)
    _ticket(people["ann"], assignee_id=ann_id)
    check_due(utc_now() + timedelta(days=30))
    rows = [row for row in _outbound(db) if "Target broken" in row.subject]
    assert {row.to_address for row in rows} == {"bob@example.com"}
    breaches = {ticket_id: _breaches(db, ticket_id) for ticket_id in (unowned, bobs)}
    assert all(breaches.values())
    assert sorted(row.subject for row in rows) == sorted(
        subject
        for ticket_id, count in breaches.items()
        for subject in [f"[Triage Desk #{ticket_id}] Target broken: VPN drops"] * count
    )


def test_a_bounce_of_a_notification_marks_it_failed_and_touches_no_ticket(
    people: dict[str, TestClient], enqueued: list[int], db: Engine
) -> None:
    add_mailbox()
    ann = people["ann"]
    ticket_id = _ticket(ann)
    ann.patch(f"/api/tickets/{ticket_id}/", json={"assignee_id": _user_id(people["bob"])})
    [row] = _outbound(db)
    report = (
        b"From: MAILER-DAEMON@mx.example\nTo: support@desk.test\nSubject: Undelivered\n"
        b"Message-ID: <dsn-n1@mx.example>\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        b"--B\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example\n\n"
        b"Final-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n"
        b"--B\nContent-Type: text/rfc822-headers\n\n"
        b"Message-ID: " + row.message_id.encode() + b"\nSubject: x\n\n--B--\n"
    )
    result = mail_inbound.ingest(report)
    assert result.outcome == "bounce" and result.ticket_id is None
    [failed, bounce] = _outbound(db)
    assert failed.delivery_status == "failed" and "user unknown" in failed.delivery_error
    assert bounce.kind == "bounce" and bounce.ticket_id is None
    assert ann.get(f"/api/tickets/{ticket_id}/comments/").json() == []
    assert mail_inbound.ingest(report).outcome == "duplicate"
