"""The e-mail channel end to end through real servers (private dovecot, SMTP with STARTTLS
and AUTH): mail in becomes tickets and replies, replies out reach the customer's mailbox with
correct threading headers, loops stop, and an SMTP outage loses nothing.

Jobs run at once in the test's thread (the task queue's immediate mode); the worker process
itself is exercised in test_mail_worker.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM, TEST_PASSWORD
from tests.support.mail_servers import Dovecot, SMTPServer
from tests.support.mailboxes import dovecot_mailbox
from ticket_app.enums import ActorKind, DeliveryStatus, MailKind
from ticket_app.models import MailMessage, Ticket
from ticket_app.schemas import CommentCreate, MailboxUpdate, TicketCreate, TicketUpdate
from ticket_app.services import (
    comments,
    mail_fetch,
    mail_outbound,
    mailboxes,
    task_queue,
    tickets,
)
from ticket_app.services.access import Actor
from ticket_app.services.identity import users
from ticket_app.settings import get_settings

SUPPORT = "support@desk.test"
CUSTOMER = "customer@desk.test"
STRANGER = "stranger@desk.test"
AUTORESPONDER = "autoresponder@desk.test"


@pytest.fixture
def desk(
    db: Engine, dovecot: Dovecot, smtp: SMTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[int]:
    """A mailbox connected to the test servers (IMAP STARTTLS, SMTP STARTTLS + AUTH, the test
    CA trusted); yields its id. Jobs run at once."""
    monkeypatch.setenv("MAIL_SECRET_KEY", mailboxes.generate_key())
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("MAIL_CA_FILE", str(dovecot.tls.ca_file))
    monkeypatch.setenv("MAIL_SEND_RETRIES", "0")
    get_settings.cache_clear()
    task_queue.use_immediate_mode()
    mailbox = mailboxes.create_mailbox(
        dovecot_mailbox(dovecot, SUPPORT, from_name="Desk Support", smtp=smtp), actor=SYSTEM
    )
    yield mailbox.id
    task_queue.use_immediate_mode(False)
    get_settings.cache_clear()


def _agent() -> Actor:
    user = users.create_user(ADMIN_EMAIL, "agent", TEST_PASSWORD, name="Agent A", actor=SYSTEM)
    return Actor(kind=ActorKind.USER, label=user.email, user_id=user.id, role=user.role)


def _customer_mail(
    subject: str, body: str, *, sender: str = CUSTOMER, **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Casey Customer <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def _only_ticket(engine: Engine) -> Ticket:
    with engine.connect() as connection:
        [row] = connection.execute(sa.select(Ticket)).all()
    return row


def test_mail_in_reply_out_and_the_answer_back_stay_one_thread(
    desk: int, db: Engine, dovecot: Dovecot, smtp: SMTPServer
) -> None:
    first = _customer_mail(
        "Invoice charged twice",
        "Hello, my card was charged twice for the March invoice. Please refund one payment.",
        Message_ID="<c1@desk.test>",
    )
    dovecot.deliver(SUPPORT, first)
    report = mail_fetch.fetch_mailbox(desk)
    assert report.outcomes == {"created": 1}
    ticket = _only_ticket(db)
    assert ticket.requester_email == CUSTOMER and ticket.requester_id is not None
    assert ticket.suggested_category == "billing"

    reply = comments.add_comment(
        ticket.id, CommentCreate(body="Refund issued, sorry!", public=True), actor=_agent()
    )
    [received] = dovecot.wait_for_messages(CUSTOMER, 1)
    assert received["In-Reply-To"] == "<c1@desk.test>"
    assert received["References"].split() == ["<c1@desk.test>"]
    assert received["Subject"] == f"Re: Invoice charged twice [#{ticket.id}]"
    assert received.get_content().strip() == "Refund issued, sorry!"
    stored = comments.list_comments(ticket.id).items[0]
    assert stored.id == reply.id and stored.delivery_status == DeliveryStatus.SENT
    assert received["Message-ID"] == stored.message_id
    assert smtp.messages[0].tls and smtp.messages[0].login == SUPPORT

    answer = _customer_mail(
        f"Re: {received['Subject']}",
        "Thanks, received it.\n\nOn Monday Desk Support wrote:\n> Refund issued, sorry!\n",
        Message_ID="<c2@desk.test>",
        In_Reply_To=received["Message-ID"],
        References=f"<c1@desk.test> {received['Message-ID']}",
    )
    dovecot.deliver(SUPPORT, answer)
    assert mail_fetch.fetch_mailbox(desk).outcomes == {"appended": 1}
    bodies = [c.body for c in comments.list_comments(ticket.id).items]
    assert bodies == ["Refund issued, sorry!", "Thanks, received it."]


def test_a_long_reply_goes_out_with_crlf_line_endings(
    desk: int, db: Engine, dovecot: Dovecot, smtp: SMTPServer
) -> None:
    """SMTP carries lines ended by CRLF (RFC 5321 2.3.8); the queued .eml has bare LFs, and a
    server that counts a bare-LF message as one line refused a reply of over 1,000 bytes."""
    dovecot.deliver(SUPPORT, _customer_mail("Export fails", "The CSV export fails every time."))
    mail_fetch.fetch_mailbox(desk)
    ticket = _only_ticket(db)
    steps = [
        f"Step {n}: open Settings, then Export, and choose the CSV format again." for n in range(40)
    ]
    body = "\n".join(steps)
    comments.add_comment(ticket.id, CommentCreate(body=body, public=True), actor=_agent())
    [received] = dovecot.wait_for_messages(CUSTOMER, 1)
    assert received.get_content().strip().splitlines() == steps
    assert b"\r\n" in smtp.messages[0].data
    [stored] = comments.list_comments(ticket.id).items
    assert stored.delivery_status == DeliveryStatus.SENT


def test_subject_token_without_headers_threads_for_the_requester_only(
    desk: int, db: Engine, dovecot: Dovecot
) -> None:
    dovecot.deliver(SUPPORT, _customer_mail("Printer offline", "The office printer is offline."))
    mail_fetch.fetch_mailbox(desk)
    ticket = _only_ticket(db)
    token = f"Re: Printer offline [#{ticket.id}]"
    dovecot.deliver(SUPPORT, _customer_mail(token, "Still offline today."))
    dovecot.deliver(SUPPORT, _customer_mail(token, "Add me to it.", sender=STRANGER))
    assert mail_fetch.fetch_mailbox(desk).outcomes == {"appended": 1, "created": 1}
    with db.connect() as connection:
        owners = (
            connection.execute(sa.select(Ticket.requester_email).order_by(Ticket.id))
            .scalars()
            .all()
        )
    assert owners == [CUSTOMER, STRANGER]


def test_an_auto_responder_answering_our_acknowledgement_is_not_answered_again(
    desk: int, db: Engine, dovecot: Dovecot
) -> None:
    mailboxes.update_mailbox(desk, MailboxUpdate(acknowledge_new=True), actor=SYSTEM)
    dovecot.deliver(
        SUPPORT, _customer_mail("Need help", "Please call me back.", sender=AUTORESPONDER)
    )
    mail_fetch.fetch_mailbox(desk)
    [ack] = dovecot.wait_for_messages(AUTORESPONDER, 1)
    assert ack["Auto-Submitted"] == "auto-replied"
    vacation = _customer_mail(
        f"Auto: {ack['Subject']}",
        "I am out of office until Monday.",
        sender=AUTORESPONDER,
        In_Reply_To=ack["Message-ID"],
        Auto_Submitted="auto-replied",
    )
    dovecot.deliver(SUPPORT, vacation)
    assert mail_fetch.fetch_mailbox(desk).outcomes == {"appended": 1}
    assert len(dovecot.read_mailbox(AUTORESPONDER)) == 1
    with db.connect() as connection:
        kinds = connection.execute(sa.select(MailMessage.kind).order_by(MailMessage.id)).scalars()
        assert list(kinds) == [MailKind.CUSTOMER, MailKind.ACKNOWLEDGEMENT, MailKind.AUTOMATIC]


def test_smtp_down_keeps_the_reply_shows_the_reason_and_resend_delivers(
    desk: int, db: Engine, dovecot: Dovecot, smtp: SMTPServer
) -> None:
    dovecot.deliver(SUPPORT, _customer_mail("VPN", "The VPN drops every hour."))
    mail_fetch.fetch_mailbox(desk)
    ticket = _only_ticket(db)
    agent = _agent()
    with smtp.down():
        reply = comments.add_comment(
            ticket.id, CommentCreate(body="Try the new profile.", public=True), actor=agent
        )
    [stored] = comments.list_comments(ticket.id).items
    assert stored.id == reply.id and stored.delivery_status == DeliveryStatus.FAILED
    assert "connection refused" in stored.delivery_error
    assert dovecot.read_mailbox(CUSTOMER) == []
    mail_outbound.resend_comment(ticket.id, reply.id, actor=agent)
    [received] = dovecot.wait_for_messages(CUSTOMER, 1)
    assert received.get_content().strip() == "Try the new profile."
    assert comments.list_comments(ticket.id).items[0].delivery_status == DeliveryStatus.SENT


def test_malformed_mail_never_stops_the_fetch(desk: int, db: Engine, dovecot: Dovecot) -> None:
    big = EmailMessage()
    big["From"], big["Subject"], big["Message-ID"] = CUSTOMER, "big file", "<big@desk.test>"
    big.set_content("attached")
    big.add_attachment(
        b"\0" * 15_000_000, maintype="application", subtype="octet-stream", filename="dump.bin"
    )
    nested = "".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(80)
    )
    raw_messages = [
        b"From: broken <customer@desk.test>\r\nSubject: =?x-unknown?q?caf=E9?=\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n\r\ncaf\xe9 \xff\xfe broken\r\n",
        b"Subject: no sender at all\r\n\r\nwho am I\r\n",
        b"From: customer@desk.test\r\nSubject: no id\r\n\r\nno message id here\r\n",
        big.as_bytes(),
        (
            "From: customer@desk.test\r\nSubject: deep\r\n"
            "Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + nested
        ).encode(),
        b"From: customer@desk.test\r\nSubject: html\r\nContent-Type: text/html\r\n\r\n"
        b"<p>Hello</p><script>document.title='pwned'</script>\r\n",
    ]
    for raw in raw_messages:
        dovecot.deliver(SUPPORT, raw)
    report = mail_fetch.fetch_mailbox(desk)
    assert report.fetched == len(raw_messages) and report.error is None
    assert report.outcomes == {"created": 4, "quarantined": 2}
    with db.connect() as connection:
        titles = set(connection.execute(sa.select(Ticket.title)).scalars())
        descriptions = " ".join(connection.execute(sa.select(Ticket.description)).scalars())
    assert {"no id", "big file", "html"} <= titles
    assert "<script>" not in descriptions and "pwned" not in descriptions
    assert mail_fetch.fetch_mailbox(desk).fetched == 0


def test_a_notification_e_mail_reaches_the_assignee_and_their_reply_is_held(
    desk: int, db: Engine, dovecot: Dovecot, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://desk.example.com")
    get_settings.cache_clear()
    agent = _agent()
    colleague = users.create_user(STRANGER, "agent", TEST_PASSWORD, name="Sam", actor=SYSTEM)
    ticket = tickets.create_ticket(
        TicketCreate(title="VPN drops", description="Every hour.", category="technical"),
        actor=agent,
    )
    tickets.update_ticket(ticket.id, TicketUpdate(assignee_id=colleague.id), actor=agent)
    [received] = dovecot.wait_for_messages(STRANGER, 1)
    assert received["Subject"] == f"[Triage Desk #{ticket.id}] Assigned to you: VPN drops"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["From"] == f"Desk Support <{SUPPORT}>"
    assert f"https://desk.example.com/tickets/{ticket.id}" in received.get_content()
    with db.connect() as connection:
        sent = connection.execute(
            sa.select(MailMessage.delivery_status).where(
                MailMessage.kind == MailKind.NOTIFICATION.value
            )
        ).scalar_one()
    assert sent == DeliveryStatus.SENT

    answer = _customer_mail(
        f"Re: {received['Subject']}",
        "Thanks, I will look at it.",
        sender=STRANGER,
        Message_ID="<sam-1@desk.test>",
        In_Reply_To=received["Message-ID"],
    )
    dovecot.deliver(SUPPORT, answer)
    assert mail_fetch.fetch_mailbox(desk).outcomes == {"quarantined": 1}
    assert [c.body for c in comments.list_comments(ticket.id).items] == []
