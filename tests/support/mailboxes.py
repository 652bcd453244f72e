"""A support mailbox on the test mail servers (`tests.support.mail_servers`)."""

from __future__ import annotations

from tests.support.mail_servers import Dovecot, SMTPServer
from ticket_app.schemas import MailboxCreate


def dovecot_mailbox(
    dovecot: Dovecot,
    address: str,
    *,
    from_name: str = "Support",
    smtp: SMTPServer | None = None,
) -> MailboxCreate:
    """A mailbox named "Support" that reads `address` from `dovecot` (IMAP with STARTTLS).

    It logs in with the account's password. Replies go through `smtp` with STARTTLS and the
    same login; without `smtp`, to port 25 of localhost with no login (for tests that only
    read mail).
    """
    password = dovecot.account(address).password
    sending = (
        {
            "smtp_port": smtp.port,
            "smtp_tls": "starttls",
            "smtp_username": address,
            "smtp_password": password,
        }
        if smtp is not None
        else {"smtp_port": 25}
    )
    return MailboxCreate(
        name="Support",
        address=address,
        from_name=from_name,
        imap_host="localhost",
        imap_port=dovecot.imap_port,
        imap_tls="starttls",
        imap_username=address,
        imap_password=password,
        smtp_host="localhost",
        **sending,
    )
