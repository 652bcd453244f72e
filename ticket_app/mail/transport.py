r"""Talk to mail servers: fetch new messages over IMAP, send over SMTP, check a connection.

IMAP goes through `imap-tools` (login, TLS, folder status, UID search); the message bytes are
fetched with `BODY.PEEK[]` on its imaplib client so they are kept exactly as received (the
`.eml` staff download, and the id derived for a message without Message-ID, depend on that) and
no `\\Seen` flag changes. SMTP uses the standard library's `smtplib`. Certificates are verified
against the system's CAs, or against `ca_file` when one is configured (a private CA).
"""

from __future__ import annotations

import imaplib
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError

from ticket_app.enums import TlsMode

FETCH_BATCH = 50
_UID_IN_FETCH = re.compile(rb"UID (\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class ImapEndpoint:
    """Where and how to read a mailbox: host, port, TLS mode, login and folder."""

    host: str
    port: int
    tls: TlsMode
    username: str
    password: str
    folder: str = "INBOX"
    timeout: float = 30.0
    ca_file: Path | None = None


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where and how to send: host, port, TLS mode, optional login."""

    host: str
    port: int
    tls: TlsMode
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ca_file: Path | None = None


class MailTransportError(Exception):
    """A mail server could not be reached or refused us; `step` names where it failed.

    `step` is one of "dns", "connect", "tls", "login", "folder", "send"; `temporary` says whether
    trying again later may succeed (SMTP 4xx, timeouts, refused connections) or not (5xx).
    """

    def __init__(self, step: str, detail: str, *, temporary: bool = True) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step
        self.detail = detail
        self.temporary = temporary


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the server holds it: its UID in the folder and its exact bytes."""

    uid: int
    raw: bytes


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying TLS client context (system CAs, or only `ca_file` when given)."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def _resolve(host: str, port: int) -> None:
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise MailTransportError("dns", f"{host} does not resolve ({error.strerror})") from error


def _open_imap(endpoint: ImapEndpoint) -> MailBox | MailBoxStartTls | MailBoxUnencrypted:
    _resolve(endpoint.host, endpoint.port)
    try:
        if endpoint.tls is TlsMode.TLS:
            mailbox = MailBox(
                endpoint.host,
                endpoint.port,
                timeout=endpoint.timeout,
                ssl_context=tls_context(endpoint.ca_file),
            )
        elif endpoint.tls is TlsMode.STARTTLS:
            mailbox = MailBoxStartTls(
                endpoint.host,
                endpoint.port,
                timeout=endpoint.timeout,
                ssl_context=tls_context(endpoint.ca_file),
            )
        else:
            mailbox = MailBoxUnencrypted(endpoint.host, endpoint.port, timeout=endpoint.timeout)
    except ssl.SSLError as error:
        raise MailTransportError("tls", error.reason or str(error)) from error
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailTransportError("connect", _describe(error)) from error
    try:
        mailbox.login(endpoint.username, endpoint.password, initial_folder=None)
    except MailboxLoginError as error:
        _logout(mailbox)
        raise MailTransportError("login", "the server refused the user name or password") from error
    try:
        mailbox.folder.set(endpoint.folder, readonly=True)
    except MailboxFolderSelectError as error:
        _logout(mailbox)
        detail = f"folder {endpoint.folder!r} cannot be opened"
        raise MailTransportError("folder", detail) from error
    return mailbox


def _logout(mailbox: MailBox | MailBoxStartTls | MailBoxUnencrypted) -> None:
    with suppress(OSError, imaplib.IMAP4.error):
        mailbox.logout()


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return str(error) or type(error).__name__


def check_imap(endpoint: ImapEndpoint) -> int:
    """Log in and open the folder; return its message count. Raises MailTransportError."""
    mailbox = _open_imap(endpoint)
    try:
        return int(mailbox.folder.status(endpoint.folder, ["MESSAGES"])["MESSAGES"])
    finally:
        _logout(mailbox)


def fetch_after(
    endpoint: ImapEndpoint, uidvalidity: int | None, last_uid: int, *, limit: int
) -> tuple[int, Iterator[FetchedMessage]]:
    """(the folder's UIDVALIDITY, its messages after `last_uid` in UID order, at most `limit`).

    When the server's UIDVALIDITY differs from `uidvalidity` (the folder was recreated, or this
    is the first fetch), the UIDs start again and every message is returned from the first.
    The iterator holds the connection open until exhausted or closed. Raises
    MailTransportError.
    """
    mailbox = _open_imap(endpoint)
    try:
        current = int(mailbox.folder.status(endpoint.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        start = last_uid if current == uidvalidity else 0
        # `n:*` always matches the newest message, even when its UID is below n (RFC 3501 6.4.8).
        found = mailbox.uids(f"UID {start + 1}:*")
    except (OSError, imaplib.IMAP4.error) as error:
        _logout(mailbox)
        raise MailTransportError("connect", _describe(error)) from error
    uids = sorted(uid for uid in (int(u) for u in found) if uid > start)[:limit]
    return current, _fetch_bodies(mailbox, uids)


def _fetch_bodies(
    mailbox: MailBox | MailBoxStartTls | MailBoxUnencrypted, uids: list[int]
) -> Iterator[FetchedMessage]:
    try:
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            uid_set = ",".join(map(str, batch))
            status, data = mailbox.client.uid("FETCH", uid_set, "(UID BODY.PEEK[])")
            if status != "OK":
                raise MailTransportError("connect", f"FETCH answered {status}")
            by_uid: dict[int, bytes] = {}
            for item in data:
                if isinstance(item, tuple) and len(item) == 2:
                    found = _UID_IN_FETCH.search(item[0])
                    if found:
                        by_uid[int(found.group(1))] = item[1]
            for uid in batch:
                if uid in by_uid:
                    yield FetchedMessage(uid, by_uid[uid])
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailTransportError("connect", _describe(error)) from error
    finally:
        _logout(mailbox)


@contextmanager
def _smtp_session(endpoint: SmtpEndpoint) -> Iterator[smtplib.SMTP]:
    """An SMTP connection with TLS started and the login done; MailTransportError otherwise."""
    _resolve(endpoint.host, endpoint.port)
    context = tls_context(endpoint.ca_file)
    try:
        if endpoint.tls is TlsMode.TLS:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                endpoint.host, endpoint.port, timeout=endpoint.timeout, context=context
            )
        else:
            client = smtplib.SMTP(endpoint.host, endpoint.port, timeout=endpoint.timeout)
    except ssl.SSLError as error:
        raise MailTransportError("tls", error.reason or str(error)) from error
    except OSError as error:
        raise MailTransportError("connect", _describe(error)) from error
    with client:
        try:
            if endpoint.tls is TlsMode.STARTTLS:
                client.starttls(context=context)
        except (ssl.SSLError, smtplib.SMTPNotSupportedError) as error:
            raise MailTransportError("tls", str(error)) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailTransportError("connect", _describe(error)) from error
        try:
            if endpoint.username:
                client.login(endpoint.username, endpoint.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise MailTransportError("login", _smtp_reply(error)) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailTransportError("login", _describe(error)) from error
        yield client


def send(endpoint: SmtpEndpoint, raw: bytes, *, envelope_from: str, recipients: list[str]) -> None:
    """Send the RFC 5322 message `raw` to `recipients` through `endpoint`.

    Its bytes go out unchanged but for line endings: every bare LF becomes CRLF, as SMTP
    requires (RFC 5321 2.3.8). Messages are stored with LF; smtplib converts the line endings
    of text, not of bytes, and a server that counts a bare-LF message as one line refused
    every message of over 1,000 bytes.

    Raises MailTransportError: `temporary` for timeouts, refused connections, failed logins and
    4xx answers; not for 5xx answers (the recipient or the content was refused for good).
    """
    with _smtp_session(endpoint) as client:
        try:
            client.sendmail(envelope_from, recipients, _BARE_LF.sub(b"\r\n", raw))
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            detail = "; ".join(
                f"{recipient}: {code} {text.decode(errors='replace')}"
                for recipient, (code, text) in error.recipients.items()
            )
            temporary = all(400 <= code < 500 for code in codes)
            raise MailTransportError("send", detail, temporary=temporary) from error
        except smtplib.SMTPResponseException as error:
            temporary = 400 <= error.smtp_code < 500
            raise MailTransportError("send", _smtp_reply(error), temporary=temporary) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailTransportError("send", _describe(error)) from error


_BARE_LF = re.compile(rb"(?<!\r)\n")


def check_smtp(endpoint: SmtpEndpoint) -> None:
    """Connect, start TLS and log in as a send would, then quit. Raises MailTransportError."""
    with _smtp_session(endpoint):
        pass


def _smtp_reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{error.smtp_code} {text}".strip()
