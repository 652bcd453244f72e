"""Mail as text: parsing hostile messages, subjects, loop rules and composing replies."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from ticket_app.mail.compose import Outgoing, build_message, new_message_id, thread_references
from ticket_app.mail.loops import automatic_reason
from ticket_app.mail.parse import UnparseableMailError, parse_message
from ticket_app.mail.subjects import clean_subject, reply_subject, ticket_token

OWN = ["support@desk.test"]


def _mail(
    headers: str, body: str = "Hello", content_type: str = "text/plain; charset=utf-8"
) -> bytes:
    return f"{headers.strip()}\nContent-Type: {content_type}\n\n{body}\n".encode()


def test_reply_keeps_only_the_new_text_and_decodes_headers() -> None:
    raw = (
        b"From: =?utf-8?q?J=C3=BCrgen?= <Juergen@Example.COM>\n"
        b"To: support@desk.test\n"
        b"Subject: AW: Re: Login broken [#12]\n"
        b"Message-ID: <abc@example.com>\n"
        b"In-Reply-To: <x1@desk.test>\n"
        b"References: <a0@desk.test> <x1@desk.test>\n"
        b"Content-Type: text/plain; charset=utf-8\n\n"
        b"Danke, geht wieder!\n\n"
        b"Am Mo., 1. Dez. 2026 um 10:00 schrieb Support <support@desk.test>:\n"
        b"> Hallo, bitte neu starten.\n"
    )
    mail = parse_message(raw)
    assert mail.from_name == "Jürgen"
    assert mail.from_address == "juergen@example.com"
    assert mail.title == "Login broken"
    assert mail.thread_ids == ["<x1@desk.test>", "<a0@desk.test>"]
    assert mail.reply == "Danke, geht wieder!"
    assert "bitte neu starten" in mail.body


def test_unknown_charset_and_wrong_bytes_still_decode() -> None:
    raw = b"From: a@b.example\nSubject: x\nContent-Type: text/plain; charset=x-nope\n\ncaf\xe9 ok\n"
    mail = parse_message(raw)
    assert mail.body == "caf\ufffd ok"


def test_html_only_mail_becomes_text_without_its_scripts() -> None:
    raw = _mail(
        "From: a@b.example\nSubject: hi",
        "<p>Hi <b>there</b></p><script>alert('x')</script><img src=x onerror=alert(1)>",
        "text/html; charset=utf-8",
    )
    mail = parse_message(raw)
    assert mail.html_only
    assert "Hi there" in mail.body
    assert "alert" not in mail.body and "<" not in mail.body


def test_a_message_without_id_gets_a_stable_derived_one() -> None:
    raw = _mail("From: a@b.example\nSubject: no id")
    first, second = parse_message(raw), parse_message(raw)
    assert first.derived_message_id and first.message_id == second.message_id
    assert parse_message(raw + b"x").message_id != first.message_id


def test_deep_multipart_nesting_is_refused_with_a_reason() -> None:
    parts = "".join(
        f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(200)
    )
    raw = f"From: a@b.example\nSubject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n{parts}"
    with pytest.raises(UnparseableMailError, match="nest"):
        parse_message(raw.encode())


def test_empty_input_is_refused() -> None:
    with pytest.raises(UnparseableMailError):
        parse_message(b"  \n")


def test_attachments_over_the_limits_are_listed_as_dropped() -> None:
    small, large = b"a" * 100, b"b" * 5000
    message = BytesParser(policy=policy.default).parsebytes(_mail("From: a@b.example\nSubject: f"))
    message.make_mixed()
    message.add_attachment(small, maintype="application", subtype="pdf", filename="small.pdf")
    message.add_attachment(large, maintype="application", subtype="zip", filename="../../big.zip")
    mail = parse_message(message.as_bytes(), max_file_bytes=1000, max_message_bytes=10_000)
    assert [(a.filename, a.payload) for a in mail.attachments] == [("small.pdf", small)]
    assert [(d.filename, d.size) for d in mail.dropped] == [(".._.._big.zip", 5000)]


def test_delivery_report_names_the_failed_message() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example\nTo: support@desk.test\nSubject: Undelivered\n"
        b"Message-ID: <dsn1@mx.example>\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        b"--B\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example\n\n"
        b"Final-Recipient: rfc822; gone@customer.example\nAction: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n"
        b"--B\nContent-Type: text/rfc822-headers\n\n"
        b"Message-ID: <reply-1@desk.test>\nSubject: Re: x\n\n--B--\n"
    )
    bounce = parse_message(raw).bounce
    assert bounce is not None
    assert bounce.original_message_id == "<reply-1@desk.test>"
    assert bounce.status == "5.1.1"
    assert "user unknown" in bounce.diagnostic


@pytest.mark.parametrize(
    ("subject", "clean", "token"),
    [
        ("Re: AW: Fwd: Login broken [#12]", "Login broken", 12),
        ("RE[2]: WG: Invoice", "Invoice", None),
        ("  ", "", None),
        ("Re: [#7] moved [#8]", "moved", 8),
    ],
)
def test_subject_prefixes_and_tokens(subject: str, clean: str, token: int | None) -> None:
    assert clean_subject(subject) == clean
    assert ticket_token(subject) == token


def test_reply_subject_does_not_grow_with_each_exchange() -> None:
    once = reply_subject("Login broken", 5, "t")
    assert once == "Re: Login broken [#5]"
    assert reply_subject(once, 5, "t") == once


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "Precedence: list",
        "List-Id: <news.example.com>",
        "X-Autoreply: yes",
        "X-Auto-Response-Suppress: All",
        "Return-Path: <>",
    ],
)
def test_automatic_mail_gets_no_automatic_answer(headers: str) -> None:
    mail = parse_message(_mail(f"From: a@b.example\nSubject: x\n{headers}"))
    assert automatic_reason(mail, OWN) is not None


@pytest.mark.parametrize("sender", ["mailer-daemon@b.example", "Support@Desk.test"])
def test_system_senders_and_our_own_address_get_no_answer(sender: str) -> None:
    assert automatic_reason(parse_message(_mail(f"From: {sender}\nSubject: x")), OWN)


def test_a_person_writing_may_be_answered() -> None:
    mail = parse_message(_mail("From: a@b.example\nSubject: x\nAuto-Submitted: no"))
    assert automatic_reason(mail, OWN) is None


def test_reply_headers_follow_rfc5322_and_resist_injection() -> None:
    references = thread_references("<c@x>", ["<a@x>", "<b@x>"])
    assert references == ["<a@x>", "<b@x>", "<c@x>"]
    message = build_message(
        Outgoing(
            from_name="Support\r\nBcc: evil@x.example",
            from_address="support@desk.test",
            to_name="Jürgen",
            to_address="juergen@example.com",
            subject="Re: x\nBcc: evil@x.example [#1]",
            body="Hello",
            message_id=new_message_id("desk.test"),
            in_reply_to="<c@x>",
            references=references,
            automatic=True,
        )
    )
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["In-Reply-To"] == "<c@x>"
    assert parsed["References"].split() == references
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Message-ID"].endswith("@desk.test>")


def test_long_threads_keep_the_first_and_latest_references() -> None:
    chain = thread_references("<new@x>", [f"<{i}@x>" for i in range(40)])
    assert len(chain) == 20 and chain[0] == "<0@x>" and chain[-1] == "<new@x>"
