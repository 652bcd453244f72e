"""The e-mail channel's console handlers without a browser, on the `db` fixture's database.

The ticket page of a ticket that came by mail (channel, sender, files, the original, whom a reply
is mailed to, the requester's other tickets, resending a failed reply), the mailboxes and
quarantine pages (admins only) and the requester page. Every handler checks the session itself:
anonymous tabs go to sign-in, a role without the permission is refused, and nothing changes.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import reflex as rx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.ui.test_states import _as, _drain, _session_cookie
from ticket_app.enums import DeliveryStatus, EventKind, QuarantineStatus
from ticket_app.models import TicketEvent
from ticket_app.schemas import MailboxCreate
from ticket_app.services import comments, mail_outbound, mailboxes, quarantine, task_queue
from ticket_app.services.identity import sessions
from ticket_app.services.mail_inbound import ingest
from ticket_app.settings import get_settings
from ticket_app.ui.state.mail import (
    NOT_FOUND,
    READY,
    MailboxesState,
    QuarantineState,
    RequesterState,
)
from ticket_app.ui.state.ticket_io import load_view
from ticket_app.ui.state.ticket_page import TicketPageState

SUPPORT = "support@desk.example"
JANE = "Jane Doe <jane@customer.example>"
IMAP_PASSWORD = "imap password that must never show"


@pytest.fixture
def mail_env(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Mail settings for one test: a key, a storage folder, jobs run at once, no retries."""
    monkeypatch.setenv("MAIL_SECRET_KEY", mailboxes.generate_key())
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("MAIL_SENDER_HOURLY_LIMIT", "3")
    monkeypatch.setenv("MAIL_SEND_RETRIES", "0")
    get_settings.cache_clear()
    task_queue.use_immediate_mode()
    yield db
    task_queue.use_immediate_mode(False)
    get_settings.cache_clear()


def _closed_port() -> int:
    """A loopback port nothing listens on: sending there is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _mailbox(address: str = SUPPORT) -> int:
    """A mailbox whose SMTP server refuses connections (replies fail until `send` is faked)."""
    port = _closed_port()
    created = mailboxes.create_mailbox(
        MailboxCreate(
            name=address.split("@")[0],
            address=address,
            from_name="Desk Support",
            imap_host="127.0.0.1",
            imap_port=port,
            imap_tls="none",
            imap_username="support",
            imap_password=IMAP_PASSWORD,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_tls="none",
        ),
        actor=SYSTEM,
    )
    return created.id


def _mail(
    subject: str = "Printer on fire",
    body: str = "The office printer is on fire since this morning, please help.",
    *,
    sender: str = JANE,
    message_id: str = "<m1@customer.example>",
    attachment: bytes | None = None,
    **headers: str,
) -> bytes:
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment, maintype="text", subtype="plain", filename="log.txt")
    return message.as_bytes()


def _tab(cls: type[rx.State], cookie: str = "", path: str = "/") -> Any:
    """`cls`'s state inside a whole state tree (on_load asks for SessionState), at `path`."""
    root = _as(rx.State(_reflex_internal_init=True), cookie, path)
    return _as(root.get_substate(cls.get_full_name().split(".")[1:]), cookie, path)


def _page(ticket_id: int, cookie: str) -> TicketPageState:
    """A ticket page showing `ticket_id` as its on_load would, for the tab with `cookie`."""
    state = _tab(TicketPageState, cookie, f"/tickets/{ticket_id}")
    actor = sessions.resolve_session(cookie.split(f"{sessions.SESSION_COOKIE}=")[1])
    state.shown_id = str(ticket_id)
    state._show(load_view(ticket_id, with_timeline=True, actor=actor))
    return state


def _sent(events: list[Any]) -> str:
    return " ".join(map(str, events))


def _comment_rows(state: TicketPageState) -> list[dict[str, str]]:
    return [row for row in state.timeline if row["kind"] != "event"]


def test_a_ticket_from_mail_shows_channel_sender_files_original_and_recipient(
    mail_env: Engine,
) -> None:
    box = _mailbox()
    created = ingest(_mail(attachment=b"first log"), mailbox_id=box)
    reply = _mail(
        "Re: Printer on fire",
        "Still burning.\n\nOn Monday Jane wrote:\n> The office printer is on fire",
        message_id="<m2@customer.example>",
        attachment=b"second log",
        In_Reply_To="<m1@customer.example>",
    )
    assert ingest(reply, mailbox_id=box).outcome == "appended"
    other = ingest(_mail("Invoice question", "Why two invoices?", message_id="<m3@x>"))
    ticket_id = created.ticket_id

    state = _page(ticket_id, _session_cookie("agent"))
    assert state.timeline[0]["what"] == "Created from an e-mail"
    [row] = _comment_rows(state)
    assert (row["channel"], row["channel_label"], row["who"]) == ("email", "E-mail", JANE)
    assert row["body"] == "Still burning."
    assert row["raw_url"] == f"/api/tickets/{ticket_id}/comments/{row['comment_id']}/raw/"
    [comment_file] = state.comment_files[row["comment_id"]]
    [ticket_file] = state.files
    assert comment_file["name"] == ticket_file["name"] == "log.txt"
    assert ticket_file["url"].startswith(f"/api/tickets/{ticket_id}/attachments/")

    assert state.reply_to == JANE
    assert state.composer_hint == f"Reply by e-mail to {JANE}"
    asyncio.run(state.set_public_reply("note"))
    assert state.composer_hint == "Internal notes are for staff only."
    assert "e-mail" not in state.composer_hint

    assert state.fields["requester_id"] != ""
    assert state.requester_count == "2"
    assert [t["id"] for t in state.other_tickets] == [str(other.ticket_id)]


def test_without_a_mailbox_a_reply_is_not_announced_as_mailed(mail_env: Engine) -> None:
    created = ingest(_mail())
    state = _page(created.ticket_id, _session_cookie("agent"))
    assert state.reply_to == ""
    assert state.composer_hint == "Recorded on the ticket only; it is not e-mailed to anyone."


def test_a_failed_reply_shows_why_and_resend_sends_it_again(
    mail_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = _mailbox()
    ticket_id = ingest(_mail(), mailbox_id=box).ticket_id
    cookie = _session_cookie("agent")
    state = _page(ticket_id, cookie)
    saved = _sent(_drain(state.send_comment({"body": "We are sending a technician."})))
    assert "it is being e-mailed to jane@customer.example" in saved

    [row] = _comment_rows(state)
    assert (row["channel_label"], row["delivery"]) == ("Console", "failed")
    assert row["delivery_text"].startswith("E-mail not delivered to jane@customer.example: ")
    assert row["raw_url"] != ""
    assert state._watched() is not None and state._pending_mail is False

    viewer = _page(ticket_id, _session_cookie("viewer"))
    refused = _sent(_drain(viewer.resend_mail(row["comment_id"])))
    assert "does not allow" in refused
    anonymous = _tab(TicketPageState, "", f"/tickets/{ticket_id}")
    assert "/login" in _sent(_drain(anonymous.resend_mail(row["comment_id"])))

    delivered: list[bytes] = []
    monkeypatch.setattr(mail_outbound, "send", lambda endpoint, raw, **kw: delivered.append(raw))
    events = _sent(_drain(state.resend_mail(row["comment_id"])))
    assert "queued to be sent again" in events
    assert f"delivery-{row['comment_id']}" in events
    assert len(delivered) == 1 and b"We are sending a technician." in delivered[0]
    [stored] = [c for c in comments.list_comments(ticket_id).items if c.public]
    assert stored.delivery_status == DeliveryStatus.SENT
    [row] = _comment_rows(state)
    assert (row["delivery"], row["delivery_text"]) == (
        "sent",
        "E-mail sent to jane@customer.example",
    )
    assert state.resending == ""
    again = _sent(_drain(state.resend_mail(row["comment_id"])))
    assert "Not sent again: Only a failed mail can be sent again." in again
    with mail_env.connect() as connection:
        resent = connection.execute(
            sa.select(sa.func.count()).where(TicketEvent.kind == EventKind.MAIL_RESENT)
        ).scalar_one()
    assert resent == 1


def test_mail_still_queued_makes_every_poll_round_re_read_the_ticket(mail_env: Engine) -> None:
    ticket_id = ingest(_mail()).ticket_id
    state = _page(ticket_id, _session_cookie("agent"))
    state._seen_marker = "1@now"
    assert state._watched().seen == "1@now"
    state._pending_mail = True
    assert state._watched().seen == ""


def _admin_tab(cls: type[rx.State], role: str = "admin", path: str = "/") -> Any:
    return _tab(cls, _session_cookie(role), path)


FORM = {
    "name": "Help",
    "address": "Help@Desk.Example",
    "from_name": "Desk Help",
    "imap_host": "127.0.0.1",
    "imap_port": "",
    "imap_tls": "none",
    "imap_username": "help",
    "imap_password": IMAP_PASSWORD,
    "imap_folder": "",
    "smtp_host": "127.0.0.1",
    "smtp_port": "",
    "smtp_tls": "none",
    "smtp_username": "",
    "smtp_password": "",
}


def test_an_admin_connects_tests_and_removes_a_mailbox(mail_env: Engine) -> None:
    state = _admin_tab(MailboxesState, path="/mailboxes")
    assert _drain_any(state.on_load()) == [None]
    assert state.loaded and state.mailboxes == []

    _drain(state.add_mailbox({**FORM, "imap_port": "nope", "smtp_host": ""}))
    assert set(state.field_errors) == {"imap_port", "smtp_host"}
    assert state.form_error == "Check IMAP port, SMTP host."
    assert mailboxes.list_mailboxes(actor=SYSTEM) == []

    port = str(_closed_port())
    events = _sent(_drain(state.add_mailbox({**FORM, "imap_port": port, "smtp_port": port})))
    assert "help@desk.example connected" in events and "reset()" in events
    assert (state.field_errors, state.form_error) == ({}, "")
    [row] = state.mailboxes
    assert (row["address"], row["health"]) == ("help@desk.example", "Not fetched yet")
    stored = mailboxes.list_mailboxes(actor=SYSTEM)[0]
    assert stored.smtp_username == "help" and stored.smtp_password_set
    everything = repr({name: getattr(state, name) for name in type(state).base_vars})
    assert IMAP_PASSWORD not in everything

    _drain(state.add_mailbox({**FORM, "name": "Other"}))
    assert "already uses address" in state.field_errors["address"]

    _drain(state.test_connection(row["id"]))
    assert state.testing == "" and state.tested_name == "help@desk.example"
    assert [(step["service"], step["ok"]) for step in state.test_rows] == [
        ("IMAP", "no"),
        ("SMTP", "no"),
    ]
    assert "failed at connect" in state.test_rows[0]["text"]

    asyncio.run(state.ask_remove(row["id"]))
    assert state.confirm_label == "Help (help@desk.example)"
    asyncio.run(state.remove_dialog_changed(False))
    assert state.confirm_id == ""
    asyncio.run(state.ask_remove(row["id"]))
    events = _sent(_drain(state.confirm_remove()))
    assert "removed" in events
    assert state.mailboxes == [] and state.test_rows == [] and state.confirm_id == ""
    assert mailboxes.list_mailboxes(actor=SYSTEM) == []


def test_a_mailbox_cannot_be_added_without_the_secret_key(
    mail_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAIL_SECRET_KEY")
    get_settings.cache_clear()
    state = _admin_tab(MailboxesState, path="/mailboxes")
    _drain(state.add_mailbox(FORM))
    assert "MAIL_SECRET_KEY is not set" in state.form_error
    assert IMAP_PASSWORD not in state.form_error


def _drain_any(outcome: Any) -> list[Any]:
    """A handler's result as a list, whether it returned a value or was a generator."""
    if hasattr(outcome, "__aiter__"):
        return _drain(outcome)
    return [asyncio.run(outcome)]


@pytest.mark.parametrize("role", [None, "viewer", "agent"])
def test_only_admins_see_or_change_mailboxes_and_the_quarantine(
    mail_env: Engine, role: str | None
) -> None:
    box = _mailbox()
    ingest(_mail(sender="", message_id="<held@x>"))
    [held] = quarantine.list_quarantine(actor=SYSTEM)
    cookie = _session_cookie(role) if role else ""
    for cls in (MailboxesState, QuarantineState):
        state = _tab(cls, cookie, "/mailboxes")
        loaded = _sent(_drain_any(state.on_load()))
        assert "redirect" in loaded  # to sign-in (or setup), or home for a staff member
        assert state.loaded is False

    state = _tab(MailboxesState, cookie, "/mailboxes")
    state.mailboxes = [{"id": str(box), "address": SUPPORT, "name": "s"}]
    sent = _sent(_drain(state.add_mailbox({**FORM, "address": "new@desk.example"})))
    sent += _sent(_drain(state.test_connection(str(box))))
    state.confirm_id = str(box)
    sent += _sent(_drain(state.confirm_remove()))
    assert [m.address for m in mailboxes.list_mailboxes(actor=SYSTEM)] == [SUPPORT]
    assert state.test_rows == [] and state.field_errors == {}
    assert ("/login" if role is None else "does not allow") in sent

    state = _tab(QuarantineState, cookie, "/quarantine")
    state.entries = [{"id": str(held.id), "subject": "s", "sender": "x"}]
    _drain(state.retry(str(held.id)))
    state.confirm_id = str(held.id)
    _drain(state.confirm_discard())
    assert [q.status for q in quarantine.list_quarantine(actor=SYSTEM)] == [QuarantineStatus.HELD]


def test_an_admin_retries_and_discards_held_mail(mail_env: Engine) -> None:
    flood = [
        ingest(_mail(f"Question {n}", "Another question.", message_id=f"<f{n}@x>"))
        for n in range(4)
    ]
    assert flood[-1].outcome == "quarantined"
    unreadable = ingest(_mail("No sender", "who am I", sender="", message_id="<n@x>"))
    assert unreadable.outcome == "quarantined"

    state = _admin_tab(QuarantineState, path="/quarantine")
    _drain_any(state.on_load())
    assert [row["id"] for row in state.entries] == [
        str(unreadable.quarantine_id),
        str(flood[-1].quarantine_id),
    ]
    held = state.entries[1]
    assert held["sender"] == "jane@customer.example" and held["subject"] == "Question 3"
    assert held["raw_url"] == f"/api/mail/quarantine/{held['id']}/raw/"

    events = _sent(_drain(state.retry(held["id"])))
    assert "The message became ticket #" in events and "quarantine-heading" in events
    assert [row["id"] for row in state.entries] == [str(unreadable.quarantine_id)]

    events = _sent(_drain(state.retry(str(unreadable.quarantine_id))))
    assert "Still held" in events and f"retry-{unreadable.quarantine_id}" in events

    asyncio.run(state.ask_discard(str(unreadable.quarantine_id)))
    assert state.confirm_label.startswith("“No sender” from ")
    assert "discarded" in _sent(_drain(state.confirm_discard()))
    assert state.entries == [] and state.confirm_id == "" and state.busy == ""
    statuses = {q.id: q.status for q in quarantine.list_quarantine(actor=SYSTEM, status=None)}
    assert statuses[unreadable.quarantine_id] == QuarantineStatus.DISCARDED


def test_the_requester_page_lists_their_tickets_for_any_reader(mail_env: Engine) -> None:
    first = ingest(_mail())
    second = ingest(_mail("Invoice question", "Why two invoices?", message_id="<m9@x>"))
    agent = _page(first.ticket_id, _session_cookie("agent"))
    requester_id = agent.fields["requester_id"]

    state = _admin_tab(RequesterState, "viewer", f"/requesters/{requester_id}")
    _drain(state.on_load())
    assert state.page == READY
    assert (state.label, state.count_text) == (JANE, "2 tickets")
    assert [row["id"] for row in state.tickets] == [
        str(second.ticket_id),
        str(first.ticket_id),
    ]

    cookie = _session_cookie("admin")
    for path in ("/requesters/999", "/requesters/abc"):
        missing = _tab(RequesterState, cookie, path)
        _drain(missing.on_load())
        assert missing.page == NOT_FOUND

    anonymous = _tab(RequesterState, "", f"/requesters/{requester_id}")
    assert "/login" in _sent(_drain(anonymous.on_load()))
    assert anonymous.tickets == []
