"""The mail test infrastructure itself, through public protocols only: SMTP in, LMTP delivery,
IMAP (STARTTLS, IMAPS, plain) out."""

from __future__ import annotations

import imaplib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.support.mail_servers import STANDARD_FOLDERS, Dovecot, SMTPServer

SUPPORT = "support@desk.test"
CUSTOMER = "customer@desk.test"
STRANGER = "stranger@desk.test"


def make_message(sender: str, recipients: list[str], subject: str) -> EmailMessage:
    """A small plain-text message with a fresh Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="desk.test")
    message.set_content(f"Body of {subject}\n")
    return message


def send(smtp: SMTPServer, dovecot: Dovecot, message: EmailMessage, login: str = SUPPORT) -> None:
    """Submit a message as a mail client would: STARTTLS (certificate verified), AUTH, send."""
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
        client.starttls(context=dovecot.tls.client_context())
        client.login(login, dovecot.account(login).password)
        client.send_message(message)


def test_smtp_with_auth_and_starttls_delivers_readable_over_imap_starttls_and_imaps(
    smtp: SMTPServer, dovecot: Dovecot
) -> None:
    message = make_message(SUPPORT, [CUSTOMER, STRANGER], "Your ticket [#12]")

    send(smtp, dovecot, message)

    for security in ("starttls", "imaps"):
        [received] = dovecot.read_mailbox(CUSTOMER, security=security)
        assert received["Message-ID"] == message["Message-ID"]
        assert received["Subject"] == "Your ticket [#12]"
        assert received["Return-Path"] == f"<{SUPPORT}>"
        assert received.get_content().splitlines() == ["Body of Your ticket [#12]"]
    assert [m["Message-ID"] for m in dovecot.read_mailbox(STRANGER)] == [message["Message-ID"]]
    assert dovecot.read_mailbox(SUPPORT) == []
    [recorded] = smtp.messages
    assert (recorded.mail_from, recorded.rcpt_tos) == (SUPPORT, (CUSTOMER, STRANGER))
    assert (recorded.login, recorded.tls) == (SUPPORT, True)
    assert recorded.message["Message-ID"] == message["Message-ID"]


def test_smtp_offers_auth_only_after_starttls_and_requires_it(
    smtp: SMTPServer, dovecot: Dovecot
) -> None:
    message = make_message(SUPPORT, [CUSTOMER], "No auth")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(message)
        assert refused.value.smtp_code == 530
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
        client.starttls(context=dovecot.tls.client_context())
        client.ehlo()
        assert client.has_extn("auth")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(SUPPORT, "not the password")
    assert smtp.messages == []
    assert dovecot.read_mailbox(CUSTOMER) == []


def test_smtp_refuses_recipients_outside_the_test_accounts(
    smtp: SMTPServer, dovecot: Dovecot
) -> None:
    for outside in ("someone@example.com", "support@desk.test.example.com", "nobody@desk.test"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(smtp, dovecot, make_message(SUPPORT, [outside], "Leak?"))
        assert refused.value.recipients[outside][0] == 550
    assert smtp.messages == []


def test_smtp_stopped_refuses_connections_then_works_again_on_the_same_port(
    smtp: SMTPServer, dovecot: Dovecot
) -> None:
    port = smtp.port
    with smtp.down():
        assert not smtp.running
        with pytest.raises(ConnectionRefusedError):
            smtplib.SMTP(smtp.host, port, timeout=5)
    assert smtp.port == port
    message = make_message(SUPPORT, [CUSTOMER], "After the outage")
    send(smtp, dovecot, message)
    [received] = dovecot.wait_for_messages(CUSTOMER, 1)
    assert received["Message-ID"] == message["Message-ID"]


def test_smtp_with_implicit_tls(dovecot: Dovecot) -> None:
    message = make_message(SUPPORT, [CUSTOMER], "Over implicit TLS")
    with SMTPServer(dovecot, implicit_tls=True) as server:
        context = dovecot.tls.client_context()
        with smtplib.SMTP_SSL(server.host, server.port, context=context, timeout=30) as client:
            client.login(SUPPORT, dovecot.account(SUPPORT).password)
            client.send_message(message)
        assert [(m.login, m.tls) for m in server.messages] == [(SUPPORT, True)]
    assert [m["Subject"] for m in dovecot.read_mailbox(CUSTOMER)] == ["Over implicit TLS"]


def test_lmtp_bulk_delivery_arrives_complete_and_in_order(dovecot: Dovecot) -> None:
    messages = [make_message(CUSTOMER, [SUPPORT], f"Bulk {n}") for n in range(200)]

    assert dovecot.deliver_many(SUPPORT, messages) == 200

    received = dovecot.read_mailbox(SUPPORT)
    assert [m["Subject"] for m in received] == [f"Bulk {n}" for n in range(200)]
    assert {m["Return-Path"] for m in received} == {f"<{CUSTOMER}>"}


def test_lmtp_delivers_raw_bytes_unchanged_and_bounces_with_a_null_sender(
    dovecot: Dovecot,
) -> None:
    raw = b"Subject: =?bogus-charset?q?caf=E9?=\r\n\r\nNo From, no Message-ID, \xff\xfe bytes.\r\n"

    dovecot.deliver(SUPPORT, raw, sender="")

    with dovecot.imap(SUPPORT) as client:
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1", "(BODY.PEEK[TEXT])")
    assert data[0][1] == b"No From, no Message-ID, \xff\xfe bytes.\r\n"
    [received] = dovecot.read_mailbox(SUPPORT)
    assert received["Return-Path"] == "<>"


def test_imap_allows_plain_logins_and_its_certificate_is_only_trusted_via_the_test_authority(
    dovecot: Dovecot,
) -> None:
    dovecot.deliver(SUPPORT, make_message(CUSTOMER, [SUPPORT], "Plain"))

    assert [m["Subject"] for m in dovecot.read_mailbox(SUPPORT, security="plain")] == ["Plain"]
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(
            dovecot.host, dovecot.imaps_port, ssl_context=ssl.create_default_context(), timeout=30
        )


def test_clearing_empties_every_folder_and_removes_folders_tests_made(dovecot: Dovecot) -> None:
    dovecot.deliver(SUPPORT, make_message(CUSTOMER, [SUPPORT], "Old"))
    with dovecot.imap(SUPPORT) as client:
        assert client.create('"Archive/2026"')[0] == "OK"
        message = make_message(SUPPORT, [CUSTOMER], "Sent earlier").as_bytes()
        assert client.append('"Sent"', "", None, message)[0] == "OK"

    dovecot.clear_mailboxes()

    with dovecot.imap(SUPPORT) as client:
        folders = sorted(line.decode().rsplit(" ", 1)[1] for line in client.list()[1])
    assert folders == sorted(STANDARD_FOLDERS)
    for folder in STANDARD_FOLDERS:
        assert dovecot.read_mailbox(SUPPORT, folder) == []


def test_waiting_for_messages_that_never_come_fails_with_what_arrived(dovecot: Dovecot) -> None:
    dovecot.deliver(SUPPORT, make_message(CUSTOMER, [SUPPORT], "Only one"))
    with pytest.raises(AssertionError, match=r"1 messages after 0\.3 s, expected 2"):
        dovecot.wait_for_messages(SUPPORT, 2, timeout=0.3)
