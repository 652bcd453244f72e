"""Real mail servers for the tests, private to the test run and reachable only on loopback.

- `Dovecot`: Debian's dovecot started with a configuration of its own in a temporary folder
  (never the system configuration, no system users): passwd-file test accounts, Maildir storage,
  IMAP (plain logins allowed, STARTTLS) and IMAPS on free 127.0.0.1 ports, and LMTP on a unix
  socket for delivery.
- `SMTPServer`: an aiosmtpd server on a free 127.0.0.1 port (STARTTLS or implicit TLS, AUTH
  PLAIN/LOGIN with the test accounts) that delivers what it accepts into the dovecot mailboxes
  over LMTP and keeps a copy in memory. It accepts only the test accounts as recipients, so
  nothing can leave the machine.
- `TLSFiles`: a throw-away certificate authority and a certificate for localhost and 127.0.0.1,
  shared by both servers, so clients verify the servers (trusting `ca_file`) instead of turning
  certificate checks off.
"""

from __future__ import annotations

import asyncio
import grp
import hmac
import imaplib
import ipaddress
import os
import pwd
import re
import secrets
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"
TEST_DOMAIN = "desk.test"
TEST_USERS = ("support", "customer", "stranger", "autoresponder")
# Created in every account, as hosted mailboxes have them; never deleted by `clear_mailboxes`.
STANDARD_FOLDERS = ("INBOX", "Drafts", "Sent", "Trash", "Junk")
# Where Debian (and Fedora) keep dovecot's service programs; the LMTP one is a separate package.
_LIBEXEC_DIRS = (Path("/usr/lib/dovecot"), Path("/usr/libexec/dovecot"))
_SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"

ImapSecurity = Literal["starttls", "imaps", "plain"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def dovecot_binary() -> str | None:
    """Path of the `dovecot` program, also when /usr/sbin is not on a user's PATH."""
    return shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:{_SBIN_PATH}")


def missing_dovecot_parts() -> list[str]:
    """The Debian packages this module needs but does not find (empty when all are there)."""
    missing = []
    if dovecot_binary() is None or not any((d / "imap").exists() for d in _LIBEXEC_DIRS):
        missing.append("dovecot-imapd")
    if not any((d / "lmtp").exists() for d in _LIBEXEC_DIRS):
        missing.append("dovecot-lmtpd")
    return missing


@dataclass(frozen=True)
class TLSFiles:
    """A throw-away certificate authority and a server certificate it signed (PEM files)."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, folder: Path) -> TLSFiles:
        """Generate the authority and a certificate for `localhost` and 127.0.0.1 in `folder`,
        valid for two days."""
        folder.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Triage Desk test CA")])
        ca_cert = (
            _certificate_builder(ca_name, ca_name, ca_key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(key_cert_sign=True), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
        cert = (
            _certificate_builder(name, ca_name, key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(key_cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        files = cls(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
        files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files.key_file.touch(mode=0o600)
        files.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return files

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the throw-away authority (host names checked)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        """A server context presenting the certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _certificate_builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    """The fields both certificates share: names, key, serial, validity and key identifier."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, key_cert_sign: bool) -> x509.KeyUsage:
    """Key usage of an authority (`key_cert_sign`) or of a TLS server with an EC key."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class MailAccount:
    """A test mailbox: its address (also its IMAP and SMTP login) and its generated password."""

    address: str
    password: str


_DOVECOT_CONF = """\
# Private test instance written by tests/support/mail_servers.py; not the system's dovecot.
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = {instance}
log_path = {folder}/dovecot.log
protocols = imap lmtp
listen = {host}
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
ssl = yes
ssl_cert = <{tls.cert_file}
ssl_key = <{tls.key_file}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
mail_location = maildir:~/Maildir
# Only this dovecot writes these mailboxes, and nothing needs to survive a crash: skip the
# directory rescans, fsyncs and repeated user lookups that make 1,000 deliveries slow.
mail_fsync = never
maildir_very_dirty_syncs = yes
auth_cache_size = 1M
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    auto = subscribe
    special_use = \\Drafts
  }}
  mailbox Sent {{
    auto = subscribe
    special_use = \\Sent
  }}
  mailbox Trash {{
    auto = subscribe
    special_use = \\Trash
  }}
  mailbox Junk {{
    auto = subscribe
    special_use = \\Junk
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {folder}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%Lu {folder}/users
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
protocol lmtp {{
  postmaster_address = postmaster@{domain}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """A private dovecot: test accounts, IMAP, IMAPS and LMTP, all in a temporary folder.

    Use as a context manager, or call `start()` and `stop()`. Everything runs as the current
    user, except that under root the mailboxes and the login, auth and other internal services
    belong to `nobody`: dovecot refuses mail access and unconfined login processes as root.
    """

    host = LOOPBACK
    folder: Path
    tls: TLSFiles
    imap_port: int
    imaps_port: int

    def __init__(self, users: Iterable[str] = TEST_USERS, domain: str = TEST_DOMAIN) -> None:
        self.domain = domain.lower()
        self.accounts = {
            address: MailAccount(address, secrets.token_urlsafe(18))
            for address in (f"{user}@{self.domain}".lower() for user in users)
        }
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def lmtp_socket(self) -> Path:
        """The unix socket dovecot accepts LMTP deliveries on."""
        return self.folder / "run" / "lmtp"

    def account(self, address: str) -> MailAccount:
        """The test account with this address (any case); KeyError for anyone else."""
        return self.accounts[address.lower()]

    def start(self, attempts: int = 3) -> None:
        """Write the configuration and start dovecot in the foreground as a child process;
        return when IMAP, IMAPS and LMTP accept connections. A port taken between choosing and
        binding it is retried with new ports."""
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed")
        self.folder = Path(tempfile.mkdtemp(prefix="triage-desk-dovecot-"))
        # The mail user (`nobody` under root) must reach its Maildir below this folder.
        self.folder.chmod(0o711)
        self.tls = TLSFiles.create(self.folder / "tls")
        (self.folder / "state").mkdir()
        self._write_users()
        for attempt in range(attempts):
            self.imap_port, self.imaps_port = free_port(), free_port()
            self._write_config()
            try:
                self._launch(binary)
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    self.stop()
                    raise

    def stop(self) -> None:
        """Stop dovecot and remove its folder (mailboxes, logs, certificates)."""
        self._terminate()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _terminate(self) -> None:
        """SIGTERM to the master, which ends its services; SIGKILL if it hangs."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _write_users(self) -> None:
        """The passwd-file: every account with its password, mail owner and home folder."""
        owner = _unprivileged_user()
        uid, gid = owner.pw_uid, owner.pw_gid
        mail = self.folder / "mail"
        mail.mkdir(mode=0o700)
        os.chown(mail, uid, gid)
        lines = [
            f"{a.address}:{{PLAIN}}{a.password}:{uid}:{gid}::{mail / a.address}::\n"
            for a in self.accounts.values()
        ]
        users = self.folder / "users"
        users.touch(mode=0o600)
        os.chown(users, uid, gid)  # read by the auth service, which runs as that user
        users.write_text("".join(lines))

    def _write_config(self) -> None:
        """dovecot.conf for the current ports."""
        owner = _unprivileged_user()
        (self.folder / "dovecot.conf").write_text(
            _DOVECOT_CONF.format(
                folder=self.folder,
                instance=self.folder.name,
                host=self.host,
                user=owner.pw_name,
                group=grp.getgrgid(owner.pw_gid).gr_name,
                tls=self.tls,
                domain=self.domain,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
            )
        )

    def _launch(self, binary: str, timeout: float = 20.0) -> None:
        """Start the master and wait until it serves; RuntimeError (with its log) if it ends."""
        output = (self.folder / "dovecot.out").open("ab")
        with output:
            self._process = subprocess.Popen(
                [binary, "-F", "-c", str(self.folder / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"dovecot did not start:\n{self._logs()}")
            if self._serving():
                return
            time.sleep(0.05)
        self._terminate()
        raise RuntimeError(f"dovecot did not serve within {timeout} s:\n{self._logs()}")

    def _serving(self) -> bool:
        """Whether both IMAP ports and the LMTP socket accept connections."""
        try:
            for port in (self.imap_port, self.imaps_port):
                socket.create_connection((self.host, port), timeout=1).close()
            with socket.socket(socket.AF_UNIX) as lmtp:
                lmtp.connect(str(self.lmtp_socket))
        except OSError:
            return False
        return True

    def _logs(self) -> str:
        """The end of dovecot's own output and log, for error messages."""
        parts = []
        for name in ("dovecot.out", "dovecot.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def deliver(
        self, recipient: str, message: bytes | EmailMessage, *, sender: str | None = None
    ) -> None:
        """Deliver one message into `recipient`'s INBOX over LMTP (see `deliver_many`)."""
        self.deliver_many(recipient, [message], sender=sender)

    def deliver_many(
        self,
        recipient: str,
        messages: Iterable[bytes | EmailMessage],
        *,
        sender: str | None = None,
    ) -> int:
        """Deliver messages into `recipient`'s INBOX over one LMTP connection; return how many.

        Raw bytes are delivered exactly as given (malformed mail included); an `EmailMessage` is
        serialised with CRLF line ends. The envelope sender (dovecot's `Return-Path`) is
        `sender` when given ("" for the null sender of bounces), otherwise the message's `From`
        address, or `nobody@<domain>` without one.
        """
        count = 0
        with smtplib.LMTP(str(self.lmtp_socket)) as lmtp:
            for message in messages:
                raw = (
                    message.as_bytes(policy=policy.SMTP)
                    if isinstance(message, EmailMessage)
                    else message
                )
                envelope_from = sender if sender is not None else self._from_address(raw)
                lmtp.sendmail(envelope_from, [recipient], raw)
                count += 1
        return count

    def _from_address(self, raw: bytes) -> str:
        """The address in a raw message's `From` header, or `nobody@<domain>` without one."""
        headers = BytesHeaderParser().parsebytes(raw)
        address = parseaddr(str(headers.get("From", "")))[1]
        return address if "@" in address else f"nobody@{self.domain}"

    @contextmanager
    def imap(self, address: str, *, security: ImapSecurity = "starttls") -> Iterator[imaplib.IMAP4]:
        """A logged-in IMAP connection for a test account, logged out at the end.

        `security`: "starttls" (port `imap_port`, upgraded), "imaps" (port `imaps_port`) or
        "plain" (port `imap_port`, no TLS). Certificates are verified against `tls.ca_file`.
        """
        client: imaplib.IMAP4
        if security == "imaps":
            client = imaplib.IMAP4_SSL(
                self.host, self.imaps_port, ssl_context=self.tls.client_context(), timeout=30
            )
        else:
            client = imaplib.IMAP4(self.host, self.imap_port, timeout=30)
        try:
            if security == "starttls":
                client.starttls(self.tls.client_context())
            account = self.account(address)
            client.login(account.address, account.password)
            yield client
        finally:
            client.logout()

    def read_mailbox(
        self, address: str, folder: str = "INBOX", *, security: ImapSecurity = "starttls"
    ) -> list[EmailMessage]:
        """Every message in a test account's folder, read over IMAP without marking it seen,
        in UID order, parsed with `policy.default`."""
        with self.imap(address, security=security) as client:
            _ok(client.select(_quoted(folder), readonly=True))
            uids = _ok(client.uid("SEARCH", "ALL"))[0].split()
            if not uids:
                return []
            fetched = _ok(client.uid("FETCH", "1:*", "(BODY.PEEK[])"))
        by_uid = {}
        for item in fetched:
            if isinstance(item, tuple):
                uid = re.search(rb"UID (\d+)", item[0])
                assert uid is not None, item[0]
                by_uid[int(uid.group(1))] = item[1]
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(by_uid[uid]) for uid in sorted(by_uid)]

    def wait_for_messages(
        self, address: str, count: int, folder: str = "INBOX", *, timeout: float = 10.0
    ) -> list[EmailMessage]:
        """`read_mailbox` (over plain IMAP) once the folder holds at least `count` messages, for
        mail sent in the background; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.read_mailbox(address, folder, security="plain")
            if len(messages) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(messages) >= count, (
            f"{address} {folder}: {len(messages)} messages after {timeout} s, expected {count}"
        )
        return messages

    def clear_mailboxes(self) -> None:
        """Empty every account over IMAP: expunge the standard folders, delete all others.
        UIDVALIDITY stays, so UIDs keep growing across tests as on a real server."""
        for address in self.accounts:
            with self.imap(address, security="plain") as client:
                listed = [_list_entry(line) for line in _ok(client.list()) if line]
                extra = [
                    name
                    for flags, name in listed
                    if name not in STANDARD_FOLDERS and "\\noselect" not in flags.lower()
                ]
                # Children first; a parent that only holds them (\Noselect) goes with the last.
                for name in sorted(extra, key=len, reverse=True):
                    _ok(client.delete(_quoted(name)))
                for name in STANDARD_FOLDERS:
                    exists = int(_ok(client.select(_quoted(name)))[0])
                    if exists:
                        _ok(client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)"))
                        _ok(client.expunge())
                    _ok(client.close())


def _unprivileged_user() -> pwd.struct_passwd:
    """The user owning the mailboxes and running dovecot's login and internal services: the
    current user, or `nobody` under root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    return pwd.getpwnam("nobody")


def _ok(response: tuple[str, list[Any]]) -> list[Any]:
    """The data of an imaplib response; AssertionError unless the server said OK."""
    status, data = response
    assert status == "OK", data
    return data


def _quoted(folder: str) -> str:
    """An IMAP quoted string for a folder name (imaplib sends arguments as they are)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list_entry(line: bytes) -> tuple[str, str]:
    """Flags and folder name of one LIST response line such as `(\\HasNoChildren) "/" Sent`."""
    match = re.fullmatch(rb'\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)', line)
    assert match is not None, line
    name = match.group("name").decode()
    if name.startswith('"'):
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return match.group("flags").decode(), name


@dataclass(frozen=True)
class ReceivedMail:
    """One message the SMTP server accepted and delivered: envelope, raw bytes, connection."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None
    tls: bool

    @property
    def message(self) -> EmailMessage:
        """The message parsed with `policy.default`."""
        return BytesParser(policy=policy.default).parsebytes(self.data)


class _DeliveringHandler:
    """aiosmtpd handler: accepts test accounts only and delivers each message over LMTP."""

    def __init__(self, server: SMTPServer) -> None:
        self._server = server

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        """Require AUTH first when the server does (checked here rather than by aiosmtpd, which
        would also count implicit TLS as unencrypted for AUTH)."""
        if self._server.auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Refuse every recipient but the test accounts, so no mail can leave the machine."""
        dovecot = self._server.dovecot
        if address.lower() not in dovecot.accounts:
            if address.rpartition("@")[2].lower() != dovecot.domain:
                return f"550 5.7.1 Relaying denied: only @{dovecot.domain} test accounts"
            return "550 5.1.1 No such test account"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Deliver to every recipient's INBOX, then record the message."""
        data = envelope.original_content
        assert isinstance(data, bytes) and envelope.mail_from is not None
        try:
            for recipient in envelope.rcpt_tos:
                await asyncio.to_thread(
                    self._server.dovecot.deliver, recipient, data, sender=envelope.mail_from
                )
        except (smtplib.SMTPException, OSError) as error:
            return f"451 4.3.0 Local delivery failed: {error}"
        auth = session.auth_data
        self._server.record(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=data,
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
                tls=server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 2.0.0 Delivered"


class SMTPServer:
    """An SMTP server on a fixed free 127.0.0.1 port that delivers into a `Dovecot`.

    STARTTLS is offered (or, with `implicit_tls`, TLS from the first byte); AUTH PLAIN and LOGIN
    take the dovecot test accounts, only over TLS, and are required unless `auth_required` is
    false. `stop()` closes the port and open sessions; `start()` listens again on the same port.
    """

    host = LOOPBACK

    def __init__(
        self, dovecot: Dovecot, *, auth_required: bool = True, implicit_tls: bool = False
    ) -> None:
        self.dovecot = dovecot
        self.port = free_port()
        self.auth_required = auth_required
        self.implicit_tls = implicit_tls
        self._controller: Controller | None = None
        self._received: list[ReceivedMail] = []
        self._lock = threading.Lock()

    def __enter__(self) -> SMTPServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server listens."""
        return self._controller is not None

    @property
    def messages(self) -> list[ReceivedMail]:
        """Messages accepted since the start or the last `clear()`, oldest first."""
        with self._lock:
            return list(self._received)

    def record(self, mail: ReceivedMail) -> None:
        """Keep an accepted message (called by the handler)."""
        with self._lock:
            self._received.append(mail)

    def clear(self) -> None:
        """Forget the recorded messages."""
        with self._lock:
            self._received.clear()

    def start(self) -> None:
        """Listen on `port`, with a fresh aiosmtpd controller (a stopped one cannot restart)."""
        assert self._controller is None, "SMTP server already running"
        tls = self.dovecot.tls.server_context()
        controller = Controller(
            _DeliveringHandler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="localhost",
            ssl_context=tls if self.implicit_tls else None,
            tls_context=None if self.implicit_tls else tls,
            authenticator=self._authenticate,
            # aiosmtpd counts only STARTTLS as encryption: with implicit TLS every session is
            # encrypted already. `handle_MAIL` enforces `auth_required`.
            auth_require_tls=not self.implicit_tls,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening: new connections are refused until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @contextmanager
    def down(self) -> Iterator[None]:
        """Stopped inside the block, listening again on the same port after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """AUTH PLAIN/LOGIN succeeds with a test account's address and password."""
        if isinstance(auth_data, LoginPassword):
            account = self.dovecot.accounts.get(auth_data.login.decode(errors="replace").lower())
            if account and hmac.compare_digest(account.password.encode(), auth_data.password):
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)
