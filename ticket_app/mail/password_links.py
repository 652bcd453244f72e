"""The e-mail that carries an invitation or a password reset link: its subject and plain text.

Invitation: who invited the person, to which desk (the sending mailbox's name and the site's
address), with which role, the link and when it stops working. Reset: who asked for the reset,
the link, when it stops working, and that the current password works until the link is used.
Every value is written on one line, whatever it holds, so no stored name can add lines that
look like ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ticket_app.enums import PasswordLinkPurpose

PRODUCT = "Triage Desk"


@dataclass(frozen=True)
class LinkMailText:
    """What the mail says: whose link, who made it, for which desk, the link and its end.

    `name`, `email`, `role`: the person's; `sender`: who made the link, e.g. "Ann Admin
    (ann@example.com)"; `desk`: the sending mailbox's name; `site`: the public base URL;
    `expires_at`: when the link stops working (UTC).
    """

    purpose: PasswordLinkPurpose
    name: str
    email: str
    role: str
    sender: str
    desk: str
    site: str
    url: str
    expires_at: datetime


def _line(value: str) -> str:
    return " ".join(value.split())


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def link_mail_subject(text: LinkMailText) -> str:
    """`Invitation to <desk> on Triage Desk`, or `Password reset for <desk> on Triage Desk`."""
    what = "Invitation to" if text.purpose is PasswordLinkPurpose.INVITE else "Password reset for"
    return f"{what} {_line(text.desk)} on {PRODUCT}"


def link_mail_body(text: LinkMailText) -> str:
    """The plain-text body: greeting, who and what, the link alone on its line, its end."""
    name, sender, desk = _line(text.name), _line(text.sender), _line(text.desk)
    site, role = _line(text.site), _line(text.role)
    if text.purpose is PasswordLinkPurpose.INVITE:
        lines = [
            f"{sender} invited you to {desk} on {PRODUCT} ({site}) as {_article(role)} {role}.",
            "",
            f"Choose your password with this link. It works once, until {_when(text.expires_at)}:",
            "",
            text.url,
            "",
            f"You sign in with {text.email}. If the link no longer works, ask {sender} for a "
            "new one. If you did not expect this invitation, you can ignore this e-mail.",
        ]
    else:
        lines = [
            f"{sender} asked for a password reset link for your {PRODUCT} account "
            f"({text.email}) at {desk} ({site}).",
            "",
            f"Choose a new password with this link. It works once, until {_when(text.expires_at)}:",
            "",
            text.url,
            "",
            "Your current password works until you use the link; using it signs you out "
            "everywhere. If you did not expect this, tell your administrator.",
        ]
    return (
        "\n".join(
            [
                f"Hello {name},",
                "",
                *lines,
                "",
                "-- ",
                f"An automatic e-mail from {PRODUCT} for {desk}. The link is for you alone: do not "
                "forward this e-mail.",
            ]
        )
        + "\n"
    )
