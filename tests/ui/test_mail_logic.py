"""The e-mail channel's plain console logic: timeline mail rows, files, forms, quarantine rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from ticket_app.enums import (
    ActorKind,
    CommentChannel,
    DeliveryStatus,
    EventKind,
    MailDirection,
    Priority,
    QuarantineStatus,
    Status,
    TlsMode,
)
from ticket_app.schemas import (
    AttachmentRead,
    CommentRead,
    ConnectionCheck,
    ConnectionStep,
    EventRead,
    InboundMailResult,
    MailboxRead,
    QuarantineRead,
    RequesterRead,
    RequesterTicket,
    TicketRead,
    TimelineEntry,
)
from ticket_app.services.errors import (
    ConflictError,
    DatabaseUnavailableError,
    PermissionDeniedError,
)
from ticket_app.ui.logic import mail
from ticket_app.ui.logic.ticket_page import TicketView, mail_panel, timeline_rows

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _file(file_id: int, comment_id: int | None, size: int = 2048) -> AttachmentRead:
    return AttachmentRead(
        id=file_id,
        ticket_id=7,
        comment_id=comment_id,
        filename="invoice <1>.pdf",
        content_type="application/pdf",
        size=size,
        created_at=T0,
    )


def _comment(**changes: object) -> CommentRead:
    values: dict[str, object] = {
        "id": 3,
        "ticket_id": 7,
        "author": "Jane Doe <jane@customer.example>",
        "author_id": None,
        "author_name": "Jane Doe <jane@customer.example>",
        "body": "<script>alert(1)</script> it broke",
        "public": True,
        "channel": CommentChannel.EMAIL,
        "created_at": T0,
    }
    return CommentRead(**{**values, **changes})


def _mailbox(**changes: object) -> MailboxRead:
    values: dict[str, object] = {
        "id": 2,
        "name": "Support",
        "address": "support@example.com",
        "from_name": "Example Support",
        "imap_host": "imap.example.com",
        "imap_port": 993,
        "imap_tls": TlsMode.TLS,
        "imap_username": "support",
        "imap_folder": "INBOX",
        "imap_password_set": True,
        "smtp_host": "smtp.example.com",
        "smtp_port": 587,
        "smtp_tls": TlsMode.STARTTLS,
        "smtp_username": "support",
        "smtp_password_set": True,
        "active": True,
        "acknowledge_new": False,
        "last_uid": 0,
        "last_fetch_at": None,
        "last_fetch_error": None,
        "created_at": T0,
    }
    return MailboxRead(**{**values, **changes})


FORM = {
    "name": "Support",
    "address": "Support@Example.com",
    "from_name": "Example Support",
    "imap_host": "imap.example.com",
    "imap_port": "",
    "imap_tls": "tls",
    "imap_username": "support",
    "imap_password": "s3cret imap",
    "imap_folder": "",
    "smtp_host": "smtp.example.com",
    "smtp_port": "",
    "smtp_tls": "starttls",
    "smtp_username": "",
    "smtp_password": "",
}


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (1, "1 byte"), (1023, "1,023 bytes"), (2048, "2 KB"), (3_565_158, "3.4 MB")],
)
def test_size_text(size: int, text: str) -> None:
    assert mail.size_text(size) == text


def test_an_inbound_mail_comment_names_its_channel_sender_original_and_files() -> None:
    comment = _comment(
        direction=MailDirection.INBOUND, message_id="<m2@x>", attachments=[_file(5, 3)]
    )
    fields = mail.comment_mail_fields(comment)
    assert fields["channel"] == "email" and fields["channel_label"] == "E-mail"
    assert fields["raw_url"] == "/api/tickets/7/comments/3/raw/"
    assert (fields["delivery"], fields["delivery_text"], fields["file_count"]) == ("", "", "1")
    [row] = mail.comment_files([comment])["3"]
    assert row["url"] == "/api/tickets/7/attachments/5/"
    assert (row["name"], row["size"], row["type"]) == ("invoice <1>.pdf", "2 KB", "application/pdf")


def test_console_and_api_comments_have_no_original_and_no_delivery() -> None:
    for channel, label in ((CommentChannel.CONSOLE, "Console"), (CommentChannel.API, "API")):
        fields = mail.comment_mail_fields(_comment(channel=channel))
        assert fields["channel_label"] == label
        assert fields["raw_url"] == fields["delivery"] == ""
    assert mail.comment_files([_comment()]) == {"3": []}


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (DeliveryStatus.QUEUED, None, "E-mail queued to jane@x.example"),
        (
            DeliveryStatus.QUEUED,
            "connect: refused",
            "E-mail queued to jane@x.example (last attempt: connect: refused)",
        ),
        (DeliveryStatus.SENDING, None, "E-mail being sent to jane@x.example"),
        (DeliveryStatus.SENT, None, "E-mail sent to jane@x.example"),
        (
            DeliveryStatus.FAILED,
            "550 no such user",
            "E-mail not delivered to jane@x.example: 550 no such user",
        ),
    ],
)
def test_an_outbound_reply_says_where_its_mail_stands(
    status: DeliveryStatus, error: str | None, text: str
) -> None:
    comment = _comment(
        channel=CommentChannel.CONSOLE,
        direction=MailDirection.OUTBOUND,
        delivery_status=status,
        delivery_error=error,
        mailed_to="jane@x.example",
    )
    fields = mail.comment_mail_fields(comment)
    assert fields["delivery"] == status.value and fields["delivery_text"] == text
    assert fields["raw_url"] == "/api/tickets/7/comments/3/raw/"
    pending = mail.has_pending_delivery([fields])
    assert pending is (status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING))


def test_the_saved_toast_says_when_a_reply_is_being_mailed() -> None:
    console = {"channel": CommentChannel.CONSOLE}
    assert mail.saved_text(_comment(**console, public=False)) == "Internal note added."
    assert mail.saved_text(_comment(**console)) == "Reply recorded on the ticket (not e-mailed)."
    mailed = _comment(
        **console,
        direction=MailDirection.OUTBOUND,
        delivery_status=DeliveryStatus.QUEUED,
        mailed_to="jane@x.example",
    )
    assert mail.saved_text(mailed) == "Reply saved; it is being e-mailed to jane@x.example."


def test_reply_hint_names_the_recipient_only_for_public_replies_that_are_mailed() -> None:
    assert mail.reply_hint(True, "Jane <j@x.example>") == "Reply by e-mail to Jane <j@x.example>"
    assert mail.reply_hint(True, "") == "Recorded on the ticket only; it is not e-mailed to anyone."
    assert mail.reply_hint(False, "Jane <j@x.example>") == "Internal notes are for staff only."


def _event(kind: EventKind, actor_kind: ActorKind = ActorKind.MAIL, new: str | None = None):
    event = EventRead(
        id=9,
        ticket_id=7,
        actor_kind=actor_kind,
        actor_user_id=None,
        actor_label="mail",
        kind=kind,
        field="mail",
        old_value=None,
        new_value=new,
        created_at=T0,
    )
    return TimelineEntry(kind="event", created_at=T0, actor="mail", event=event)


def test_the_timeline_words_mail_events_and_keeps_comment_text_as_text() -> None:
    entries = [
        _event(EventKind.CREATED),
        _event(EventKind.CREATED, ActorKind.USER),
        _event(EventKind.MAIL_SENT, new="jane@x.example"),
        _event(EventKind.MAIL_FAILED, new="550 no such user"),
        _event(EventKind.MAIL_RESENT),
        TimelineEntry(kind="comment", created_at=T0, actor="x", comment=_comment()),
    ]
    rows = timeline_rows(entries, {})
    assert [row.get("what") for row in rows[:5]] == [
        "Created from an e-mail",
        "Created",
        "E-mail sent to jane@x.example",
        "E-mail not delivered: 550 no such user",
        "E-mail queued to be sent again",
    ]
    assert rows[5]["who"] == "Jane Doe <jane@customer.example>"
    assert rows[5]["body"] == "<script>alert(1)</script> it broke"
    assert rows[5]["channel_label"] == "E-mail"


def test_the_mail_panel_lists_the_tickets_own_files_and_the_requesters_other_tickets() -> None:
    ticket = TicketRead(
        id=7,
        title="Printer",
        description="x",
        category="technical",
        priority="high",
        status="open",
        suggested_category=None,
        suggested_priority=None,
        created_at=T0,
        updated_at=T0,
        requester_id=4,
    )
    requester = RequesterRead(
        id=4,
        email="jane@x.example",
        name="Jane",
        created_at=T0,
        ticket_count=8,
        tickets=[
            RequesterTicket(
                id=ticket_id,
                title=f"T{ticket_id}",
                status=Status.OPEN,
                priority=Priority.LOW,
                created_at=T0,
            )
            for ticket_id in range(8, 0, -1)
        ],
    )
    view = TicketView(
        ticket,
        '"e"',
        [],
        [],
        reply_to="Jane <jane@x.example>",
        files=[_file(1, None), _file(2, 3)],
        requester=requester,
    )
    panel = mail_panel(view)
    assert panel["reply_to"] == "Jane <jane@x.example>"
    assert [row["id"] for row in panel["files"]] == ["1"]
    assert panel["requester_count"] == "8"
    assert [row["id"] for row in panel["other_tickets"]] == ["8", "6", "5", "4", "3"]
    bare = mail_panel(TicketView(ticket, '"e"', [], []))
    assert bare == {"reply_to": "", "files": [], "requester_count": "", "other_tickets": []}
    assert mail.requester_label(requester) == "Jane <jane@x.example>"
    nameless = requester.model_copy(update={"name": None})
    assert mail.requester_label(nameless) == "jane@x.example"


def test_mailbox_rows_show_fetch_health_and_never_a_password() -> None:
    assert mail.mailbox_row(_mailbox())["health"] == "Not fetched yet"
    failing = mail.mailbox_row(
        _mailbox(last_fetch_at=T0, last_fetch_error="login: AUTHENTICATIONFAILED")
    )
    assert failing["health"] == "Failing"
    assert failing["last_fetch"] == "2025-03-01 09:30 UTC"
    assert failing["last_error"] == "login: AUTHENTICATIONFAILED"
    assert mail.mailbox_row(_mailbox(last_fetch_at=T0))["health"] == "OK"
    assert mail.mailbox_row(_mailbox(active=False))["health"] == "Paused"
    row = mail.mailbox_row(_mailbox(smtp_username=None))
    assert row["imap"] == "imap.example.com:993 (tls), support, INBOX"
    assert row["smtp"] == "smtp.example.com:587 (starttls), no login"
    assert not any("password" in key for key in row)


def test_the_add_form_fills_defaults_and_reuses_the_imap_login_for_smtp() -> None:
    data = mail.mailbox_create(FORM)
    assert (data.imap_port, data.smtp_port, data.imap_folder) == (993, 587, "INBOX")
    assert (data.smtp_username, data.smtp_password) == ("support", "s3cret imap")
    assert data.address == "support@example.com" and data.acknowledge_new is False
    own = mail.mailbox_create(
        {**FORM, "smtp_username": "out", "smtp_password": "other", "acknowledge_new": "on"}
    )
    assert (own.smtp_username, own.smtp_password, own.acknowledge_new) == ("out", "other", True)
    none = mail.mailbox_create({**FORM, "smtp_no_login": "on", "smtp_username": "ignored"})
    assert (none.smtp_username, none.smtp_password) == (None, None)


def test_the_add_form_reports_each_refused_field() -> None:
    bad = {**FORM, "imap_port": "99999", "smtp_host": "smtp example.com", "imap_password": ""}
    bad["name"] = {"not": "text"}  # a tampered submission is refused like an empty field
    with pytest.raises(ValidationError) as caught:
        mail.mailbox_create(bad)
    errors = mail.form_errors(caught.value)
    assert set(errors) == {"name", "imap_port", "smtp_host", "imap_password"}
    assert errors["imap_port"] == "Enter a port number from 1 to 65535."
    assert errors["smtp_host"] == "Enter a host name without spaces or slashes."
    summary = mail.error_summary(errors)
    assert summary == "Check Name, IMAP port, IMAP password, SMTP host."


def test_connection_check_rows_name_the_failed_step() -> None:
    check = ConnectionCheck(
        ok=False,
        steps=[
            ConnectionStep(service="imap", ok=True, step="ok", detail="3 messages in the folder"),
            ConnectionStep(service="smtp", ok=False, step="login", detail="535 bad credentials"),
        ],
    )
    assert mail.check_rows(check) == [
        {"service": "IMAP", "ok": "yes", "text": "IMAP: passed (3 messages in the folder)"},
        {
            "service": "SMTP",
            "ok": "no",
            "text": "SMTP: failed at login, the login was refused: 535 bad credentials",
        },
    ]


def test_quarantine_rows_and_what_a_retry_became() -> None:
    entry = QuarantineRead(
        id=12,
        mailbox_id=None,
        message_id=None,
        from_address=None,
        subject="",
        reason="The message has no sender.",
        raw_size=4096,
        status=QuarantineStatus.HELD,
        created_at=T0,
        resolved_at=None,
    )
    row = mail.quarantine_row(entry)
    assert (row["sender"], row["subject"], row["size"]) == ("(no sender)", "(no subject)", "4 KB")
    assert row["raw_url"] == "/api/mail/quarantine/12/raw/"
    assert mail.release_text(InboundMailResult(outcome="created", ticket_id=4)) == (
        "The message became ticket #4."
    )
    assert mail.release_text(InboundMailResult(outcome="appended", ticket_id=4)) == (
        "The message was added to ticket #4."
    )
    held = InboundMailResult(outcome="quarantined", detail="No sender.")
    assert mail.release_text(held) == "Still held: No sender."


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/requesters/4", 4),
        ("/requesters/4/", 4),
        ("/requesters/0", None),
        ("/requesters/x", None),
        ("/requesters/٤", None),
        ("/requesters/99999999999999999999", None),
        ("/tickets/4", None),
        ("/requesters/4/tickets", None),
    ],
)
def test_id_from_path(path: str, expected: int | None) -> None:
    assert mail.id_from_path(path, "requesters") == expected


def test_parse_id_takes_only_row_ids() -> None:
    assert mail.parse_id("12") == 12
    for raw in ("", "0", "-1", "1e3", "x", "<reflex.Var>1</reflex.Var>", "9" * 30):
        assert mail.parse_id(raw) is None


def test_failure_texts_never_leak_more_than_the_service_says() -> None:
    assert mail.failure_text(PermissionDeniedError("mailboxes.manage")) == (
        "Your role does not allow this."
    )
    assert mail.failure_text(DatabaseUnavailableError("pool: x")) == (
        "The database is unavailable; nothing was changed."
    )
    assert mail.failure_text(ConflictError("address", "another mailbox already uses it")) == (
        "Another mailbox already uses it."
    )
    assert mail.failure_text(RuntimeError("secret")) == "That did not work; nothing was changed."
