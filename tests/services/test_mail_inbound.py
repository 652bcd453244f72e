"""Inbound mail through the service layer, on both databases: tickets, threading, loops,
bounces, floods and the quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM, TEST_PASSWORD
from ticket_app.enums import ActorKind, DeliveryStatus, EventKind, QuarantineStatus, Status
from ticket_app.models import (
    MailMessage,
    Requester,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from ticket_app.schemas import CommentCreate, MailboxCreate, TicketUpdate
from ticket_app.services import comments, mailboxes, quarantine, task_queue, tickets
from ticket_app.services.access import Actor
from ticket_app.services.attachments import list_attachments
from ticket_app.services.database import service_session
from ticket_app.services.identity import users
from ticket_app.services.mail_inbound import ingest
from ticket_app.settings import get_settings

SUPPORT = "support@desk.test"


@pytest.fixture
def mail_env(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Mail settings for one test: a key, a storage folder, jobs run at once (no worker)."""
    monkeypatch.setenv("MAIL_SECRET_KEY", mailboxes.generate_key())
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("MAIL_SENDER_HOURLY_LIMIT", "5")
    get_settings.cache_clear()
    task_queue.use_immediate_mode()
    yield db
    task_queue.use_immediate_mode(False)
    get_settings.cache_clear()


def _mail(
    subject: str = "Cannot log in",
    body: str = "I cannot log in since this morning, the password reset mail never arrives.",
    *,
    sender: str = "Jane Doe <jane@customer.example>",
    message_id: str | None = "<m1@customer.example>",
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def _ticket(ticket_id: int) -> Ticket:
    with service_session() as session:
        return session.get(Ticket, ticket_id)


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_new_mail_becomes_a_classified_ticket_with_its_requester(mail_env: Engine) -> None:
    result = ingest(_mail())
    assert result.outcome == "created"
    ticket = _ticket(result.ticket_id)
    assert ticket.title == "Cannot log in"
    assert ticket.requester_email == "jane@customer.example"
    assert ticket.requester_name == "Jane Doe"
    assert ticket.suggested_category is not None and ticket.language == "en"
    with mail_env.connect() as connection:
        requester = connection.execute(sa.select(Requester)).one()
        event = connection.execute(sa.select(TicketEvent.actor_kind, TicketEvent.kind)).first()
    assert requester.email == "jane@customer.example" and ticket.requester_id == requester.id
    assert (event.actor_kind, event.kind) == (ActorKind.MAIL, EventKind.CREATED)


def test_the_same_message_twice_is_stored_once(mail_env: Engine) -> None:
    first, second = ingest(_mail()), ingest(_mail())
    assert second.outcome == "duplicate" and second.ticket_id == first.ticket_id
    assert _count(mail_env, "tickets") == 1 and _count(mail_env, "mail_messages") == 1


def test_a_message_without_id_is_still_recognised_when_fetched_again(mail_env: Engine) -> None:
    raw = _mail(message_id=None)
    assert ingest(raw).outcome == "created"
    assert ingest(raw).outcome == "duplicate"


def test_a_reply_by_in_reply_to_joins_the_ticket_and_drops_the_quote(mail_env: Engine) -> None:
    created = ingest(_mail())
    reply = _mail(
        "Re: Cannot log in",
        "It works now, thanks!\n\nOn Mon, Jane wrote:\n> I cannot log in since this morning",
        message_id="<m2@customer.example>",
        In_Reply_To="<m1@customer.example>",
    )
    result = ingest(reply)
    assert result.outcome == "appended" and result.ticket_id == created.ticket_id
    page = comments.list_comments(created.ticket_id)
    assert [c.body for c in page.items] == ["It works now, thanks!"]
    assert page.items[0].channel == "email" and page.items[0].direction == "inbound"


def test_references_alone_thread_the_reply(mail_env: Engine) -> None:
    created = ingest(_mail())
    reply = _mail(
        "Another subject", "more", message_id="<m3@x>", References="<m1@customer.example>"
    )
    assert ingest(reply).ticket_id == created.ticket_id


def test_subject_token_threads_only_for_the_requester(mail_env: Engine) -> None:
    created = ingest(_mail())
    token = f"Re: Cannot log in [#{created.ticket_id}]"
    mine = ingest(_mail(token, "again", message_id="<m4@customer.example>"))
    assert mine.outcome == "appended" and mine.ticket_id == created.ticket_id
    stranger = ingest(_mail(token, "let me in", sender="eve@evil.example", message_id="<e1@evil>"))
    assert stranger.outcome == "created" and stranger.ticket_id != created.ticket_id


def test_a_reply_reopens_a_closed_ticket(mail_env: Engine) -> None:
    created = ingest(_mail())
    tickets.update_ticket(created.ticket_id, TicketUpdate(status=Status.CLOSED), actor=SYSTEM)
    ingest(_mail("Re: x", "still broken", message_id="<m5@x>", In_Reply_To="<m1@customer.example>"))
    assert _ticket(created.ticket_id).status == Status.OPEN


def test_a_customer_reply_moves_a_pending_ticket_back_to_open_as_the_mail_actor(
    mail_env: Engine,
) -> None:
    created = ingest(_mail())
    tickets.update_ticket(created.ticket_id, TicketUpdate(status=Status.PENDING), actor=SYSTEM)
    ingest(
        _mail(
            "Re: x", "here are the logs", message_id="<m6@x>", In_Reply_To="<m1@customer.example>"
        )
    )
    assert _ticket(created.ticket_id).status == Status.OPEN
    with mail_env.connect() as connection:
        change = connection.execute(
            sa.select(TicketEvent.actor_kind, TicketEvent.old_value, TicketEvent.new_value)
            .where(TicketEvent.field == "status")
            .order_by(TicketEvent.id.desc())
        ).first()
    assert tuple(change) == (ActorKind.MAIL, "pending", "open")


def test_an_auto_reply_leaves_a_pending_ticket_waiting(mail_env: Engine) -> None:
    created = ingest(_mail())
    tickets.update_ticket(created.ticket_id, TicketUpdate(status=Status.PENDING), actor=SYSTEM)
    out_of_office = _mail(
        "Out of office: Re: x",
        "I am away until Monday.",
        message_id="<m7@x>",
        In_Reply_To="<m1@customer.example>",
        Auto_Submitted="auto-replied",
    )
    assert ingest(out_of_office).outcome == "appended"
    assert _ticket(created.ticket_id).status == Status.PENDING


def test_a_customer_mail_on_a_pending_ticket_restarts_its_service_level_clocks(
    mail_env: Engine,
) -> None:
    created = ingest(_mail())
    comments.add_comment(
        created.ticket_id, CommentCreate(body="Send the logs?", public=True), actor=_staff_actor()
    )
    tickets.update_ticket(created.ticket_id, TicketUpdate(status=Status.PENDING), actor=SYSTEM)
    waiting = _ticket(created.ticket_id)
    assert waiting.sla_paused and waiting.resolution_due_at is None
    assert waiting.first_response_due_at is None and waiting.next_response_due_at is None

    ingest(_mail("Re: x", "the logs", message_id="<m8@x>", In_Reply_To="<m1@customer.example>"))

    reopened = _ticket(created.ticket_id)
    with service_session() as session:
        policy = session.get(SlaPolicy, reopened.sla_policy_id)
        reopened_at = session.execute(
            sa.select(sa.func.max(TicketEvent.created_at)).where(TicketEvent.field == "status")
        ).scalar_one()
    assert reopened.status == Status.OPEN and not reopened.sla_paused
    assert reopened.next_response_due_at == reopened_at + timedelta(
        minutes=policy.next_response_minutes
    )
    assert reopened.resolution_due_at is not None


def test_an_auto_reply_starts_no_next_response_clock(mail_env: Engine) -> None:
    created = ingest(_mail())
    comments.add_comment(
        created.ticket_id, CommentCreate(body="Fixed?", public=True), actor=_staff_actor()
    )
    ingest(
        _mail(
            "Out of office: Re: x",
            "I am away until Monday.",
            message_id="<m9@x>",
            In_Reply_To="<m1@customer.example>",
            Auto_Submitted="auto-replied",
        )
    )
    assert _ticket(created.ticket_id).next_response_due_at is None


def test_a_reply_to_a_long_closed_ticket_starts_a_linked_one(mail_env: Engine) -> None:
    created = ingest(_mail())
    tickets.update_ticket(created.ticket_id, TicketUpdate(status=Status.CLOSED), actor=SYSTEM)
    old = _ticket(created.ticket_id).updated_at - timedelta(days=90)
    with mail_env.begin() as connection:
        connection.execute(sa.update(Ticket).values(updated_at=old))
    result = ingest(
        _mail("Re: x", "again", message_id="<m6@x>", In_Reply_To="<m1@customer.example>")
    )
    assert result.outcome == "created" and result.ticket_id != created.ticket_id
    notes = [c.body for c in comments.list_comments(created.ticket_id).items if not c.public]
    assert notes == [f"The requester wrote again: see ticket #{result.ticket_id}."]


def test_a_flood_from_one_sender_is_quarantined_and_can_be_released(mail_env: Engine) -> None:
    results = [ingest(_mail(f"n{i}", "spam", message_id=f"<f{i}@x>")) for i in range(7)]
    assert [r.outcome for r in results] == ["created"] * 5 + ["quarantined"] * 2
    held = quarantine.list_quarantine(actor=SYSTEM)
    assert len(held) == 2 and "flood" in held[0].reason
    released = quarantine.release(held[0].id, actor=SYSTEM)
    assert released.outcome == "created"
    statuses = {q.id: q.status for q in quarantine.list_quarantine(actor=SYSTEM, status=None)}
    assert statuses == {held[0].id: QuarantineStatus.RELEASED, held[1].id: QuarantineStatus.HELD}


def test_unreadable_mail_is_quarantined_with_its_bytes(mail_env: Engine) -> None:
    nested = "".join(
        f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(60)
    )
    head = "From: a@b.example\nSubject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n"
    raw = (head + nested).encode()
    result = ingest(raw)
    assert result.outcome == "quarantined" and "nest" in result.detail
    assert quarantine.raw_message(result.quarantine_id, actor=SYSTEM) == raw
    assert ingest(raw).quarantine_id == result.quarantine_id
    quarantine.discard(result.quarantine_id, actor=SYSTEM)
    assert quarantine.list_quarantine(actor=SYSTEM) == []


def test_mail_without_a_sender_is_quarantined(mail_env: Engine) -> None:
    result = ingest(_mail(sender=""))
    assert result.outcome == "quarantined"


def test_our_own_address_is_never_taken_in(mail_env: Engine) -> None:
    _connect_mailbox()
    result = ingest(_mail(sender=SUPPORT))
    assert result.outcome == "quarantined" and "loop" in result.detail


def test_attachments_are_kept_or_noted_as_dropped(
    mail_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAIL_ATTACHMENT_MAX_BYTES", "1000")
    get_settings.cache_clear()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "jane@c.example", SUPPORT, "files"
    message["Message-ID"] = "<att@c.example>"
    message.set_content("see attached")
    message.add_attachment(
        b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="a.pdf"
    )
    message.add_attachment(b"x" * 5000, maintype="application", subtype="zip", filename="big.zip")
    result = ingest(message.as_bytes())
    files = list_attachments(result.ticket_id, actor=SYSTEM)
    assert [(f.filename, f.content_type) for f in files] == [("a.pdf", "application/pdf")]
    notes = [c.body for c in comments.list_comments(result.ticket_id).items]
    assert len(notes) == 1 and "big.zip (5,000 bytes): over the per-file limit" in notes[0]


def _connect_mailbox(**overrides: object) -> int:
    values = {
        "name": "Support",
        "address": SUPPORT,
        "from_name": "Desk Support",
        "imap_host": "127.0.0.1",
        "imap_port": 9,
        "imap_username": SUPPORT,
        "imap_password": "secret-imap",
        "smtp_host": "127.0.0.1",
        "smtp_port": 9,
        "smtp_tls": "none",
        **overrides,
    }
    return mailboxes.create_mailbox(MailboxCreate(**values), actor=SYSTEM).id


def test_a_public_reply_is_queued_as_mail_and_fails_visibly_when_smtp_is_down(
    mail_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAIL_SEND_RETRIES", "0")
    get_settings.cache_clear()
    mailbox_id = _connect_mailbox()
    created = ingest(_mail(), mailbox_id=mailbox_id)
    staff = _staff_actor()
    reply = comments.add_comment(
        created.ticket_id, CommentCreate(body="Please try again now.", public=True), actor=staff
    )
    assert reply.mailed_to == "jane@customer.example"
    [stored] = [c for c in comments.list_comments(created.ticket_id).items if c.id == reply.id]
    assert stored.delivery_status == DeliveryStatus.FAILED
    assert stored.delivery_error.startswith("connect:")
    with mail_env.connect() as connection:
        sent = connection.execute(
            sa.select(MailMessage).where(MailMessage.comment_id == reply.id)
        ).one()
    assert sent.in_reply_to == "<m1@customer.example>"
    assert sent.subject == f"Re: Cannot log in [#{created.ticket_id}]"


def test_internal_notes_are_never_mailed(mail_env: Engine) -> None:
    mailbox_id = _connect_mailbox()
    created = ingest(_mail(), mailbox_id=mailbox_id)
    comments.add_comment(
        created.ticket_id, CommentCreate(body="internal", public=False), actor=_staff_actor()
    )
    assert _count(mail_env, "mail_messages") == 1


def test_mailbox_passwords_are_stored_encrypted_and_never_returned(mail_env: Engine) -> None:
    mailbox_id = _connect_mailbox()
    read = mailboxes.get_mailbox(mailbox_id, actor=SYSTEM)
    assert read.imap_password_set and "secret-imap" not in read.model_dump_json()
    with mail_env.connect() as connection:
        stored = connection.execute(sa.text("SELECT imap_password FROM mailboxes")).scalar_one()
    assert "secret-imap" not in stored
    events = [e.kind for e in _events(mail_env)]
    assert EventKind.MAILBOX_CREATED in events


def _events(engine: Engine) -> list:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(TicketEvent)).all())


def _staff_actor() -> Actor:
    user = users.create_user(ADMIN_EMAIL, "agent", TEST_PASSWORD, name="Agent A", actor=SYSTEM)
    return Actor(kind=ActorKind.USER, label=user.email, user_id=user.id, role=user.role)
