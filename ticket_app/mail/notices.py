"""The e-mail copy of a notification: its subject and plain-text body.

Subject: `[Triage Desk #123] Assigned to you: <ticket title>`. The tag is deliberately not the
`[#123]` token of customer mail (`mail.subjects`), so a reply to it can never be threaded into
the ticket by its subject. The body says who did what, quotes the reply or note when there is
one, and links to the ticket under PUBLIC_BASE_URL (never a request's Host); without that
setting it names the ticket without a link.
"""

from __future__ import annotations

from ticket_app.enums import NotificationKind

PRODUCT = "Triage Desk"

SUBJECT_LABELS: dict[NotificationKind, str] = {
    NotificationKind.ASSIGNED: "Assigned to you",
    NotificationKind.REPLIED: "New reply",
    NotificationKind.MENTIONED: "Mentioned you",
    NotificationKind.SLA_WARNING: "Target close",
    NotificationKind.SLA_BREACHED: "Target broken",
}
"""The words after the tag in a notification's subject, per kind."""

_QUOTED = (NotificationKind.REPLIED, NotificationKind.MENTIONED)


def notice_subject(kind: NotificationKind, ticket_id: int, title: str) -> str:
    """`[Triage Desk #<ticket_id>] <label>: <title>` (one line; compose flattens breaks)."""
    return f"[{PRODUCT} #{ticket_id}] {SUBJECT_LABELS[kind]}: {title}"


def _what(kind: NotificationKind, ticket_id: int, actor: str, detail: str) -> str:
    if kind is NotificationKind.ASSIGNED:
        return f"{actor} assigned ticket #{ticket_id} to you."
    if kind is NotificationKind.REPLIED:
        return f"{actor} wrote on ticket #{ticket_id}, which you own or follow:"
    if kind is NotificationKind.MENTIONED:
        return f"{actor} mentioned you in an internal note on ticket #{ticket_id}:"
    state = "is close" if kind is NotificationKind.SLA_WARNING else "was broken"
    target = f" ({detail})" if detail else ""
    return f"A service-level target{target} of ticket #{ticket_id} {state}."


def notice_body(
    kind: NotificationKind,
    *,
    ticket_id: int,
    title: str,
    actor: str,
    detail: str,
    base_url: str | None,
) -> str:
    """The plain-text body of a notification e-mail.

    `actor` names who caused it, `detail` is the notification's short text (a reply's first
    words, a target's name), `base_url` the configured PUBLIC_BASE_URL or None. The title is
    written on one line whatever it holds.
    """
    title = " ".join(title.split())
    lines = [_what(kind, ticket_id, actor, detail), ""]
    if kind in _QUOTED and detail:
        lines += [f"> {line}" if line else ">" for line in detail.splitlines()] + [""]
    lines.append(f"Ticket #{ticket_id}: {title}")
    base = base_url.rstrip("/") if base_url else None
    if base:
        lines.append(f"Open it: {base}/tickets/{ticket_id}")
    lines += [
        "",
        "-- ",
        f"An automatic notification from {PRODUCT}. Replies to it are not read as messages "
        "on the ticket; answer in the console.",
        "Choose which notifications are e-mailed to you on the Notifications page"
        + (f": {base}/notifications" if base else "."),
    ]
    return "\n".join(lines) + "\n"
