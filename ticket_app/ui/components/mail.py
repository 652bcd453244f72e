"""Mail on the ticket page: a comment's channel, a reply's delivery, files and the raw message.

Mail is hostile input: subjects, senders, bodies, file names and server errors are rendered as
text only, never as HTML. Files and raw messages are plain links to the API's download routes
(`document_link`), which check the session cookie and answer with `Content-Disposition:
attachment` and `nosniff`, so the browser saves them instead of showing them. The e-mail
channel's own pages are `mailboxes`, `quarantine` and `requesters`; they share the styles here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from ticket_app.ui.components.common import document_link, screen_reader_text
from ticket_app.ui.state.session import SessionState

WRAP = {"overflowWrap": "anywhere"}
# Links inside a message's tinted box: the scale's darkest step, always underlined, so they pass
# 4.5:1 on the tint in light and dark themes and do not rely on colour alone.
MESSAGE_LINK = {
    "color": "var(--accent-12)",
    "textDecoration": "underline",
    "fontSize": "var(--font-size-1)",
    "overflowWrap": "anywhere",
}
PAGE_LINK = {
    "color": "var(--accent-11)",
    "textDecoration": "underline",
    "overflowWrap": "anywhere",
}
LIST_STYLE = {"listStyle": "none", "padding": 0, "margin": 0}


def state_badge(text: Any, color: str, icon: str, **props) -> rx.Component:
    """A small soft badge: an icon (hidden from screen readers) and `text` in `color`."""
    return rx.badge(
        rx.icon(icon, size=12, aria_hidden=True),
        text,
        color_scheme=color,
        variant="soft",
        high_contrast=True,
        **props,
    )


def channel_badge(row: rx.Var[dict[str, str]]) -> rx.Component:
    """How a comment arrived or was written: E-mail, Console or API."""
    return rx.badge(
        screen_reader_text("Channel: "),
        rx.match(
            row["channel"],
            ("email", rx.icon("mail", size=12, aria_hidden=True)),
            ("api", rx.icon("code", size=12, aria_hidden=True)),
            rx.icon("monitor", size=12, aria_hidden=True),
        ),
        row["channel_label"],
        color_scheme="gray",
        variant="surface",
        high_contrast=True,
        data_testid="comment-channel",
        data_channel=row["channel"],
    )


def delivery_line(
    row: rx.Var[dict[str, str]], *, resending: rx.Var[str], on_resend: Callable[[Any], Any]
) -> rx.Component:
    """An outbound reply's mail: queued, sending, sent or failed (with the server's words).

    A failed one offers "Resend e-mail" to agents and admins. The line can take focus (it
    gets it after a resend, when the button it replaced is gone).
    """
    failed = row["delivery"] == "failed"
    return rx.flex(
        rx.text(
            rx.match(
                row["delivery"],
                ("failed", state_badge("Failed", "red", "triangle-alert")),
                ("sent", state_badge("Sent", "green", "check")),
                ("sending", state_badge("Sending", "blue", "send")),
                state_badge("Queued", "gray", "clock"),
            ),
            " ",
            row["delivery_text"],
            id="delivery-" + row["comment_id"],
            tab_index=-1,
            size="1",
            style={**WRAP, "outline": "none"},
            data_testid="delivery-state",
            data_delivery=row["delivery"],
        ),
        rx.cond(
            failed & SessionState.can_edit,
            rx.button(
                rx.icon("rotate-cw", size=12, aria_hidden=True),
                "Resend e-mail",
                on_click=on_resend(row["comment_id"]),
                loading=resending == row["comment_id"],
                size="1",
                variant="soft",
                high_contrast=True,
                id="resend-" + row["comment_id"],
                data_testid="resend-mail",
            ),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        margin_top="0.25rem",
    )


def _file_item(file: rx.Var[dict[str, str]], link_style: dict) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.icon("paperclip", size=12, aria_hidden=True, flex_shrink="0"),
            rx.text(
                document_link(file["name"], href=file["url"], style=link_style),
                " (" + file["size"] + ", " + file["type"] + ")",
                size="1",
            ),
            spacing="1",
            align="center",
        ),
        data_testid="file",
    )


def file_list(
    files: rx.Var[list[dict[str, str]]], label: str, test_id: str, *, on_tint: bool = True
) -> rx.Component:
    """Files as download links with their size and type (`label` names the list)."""
    link_style = MESSAGE_LINK if on_tint else PAGE_LINK
    return rx.box(
        rx.text(label, size="1", weight="medium"),
        rx.el.ul(
            rx.foreach(files, lambda file: _file_item(file, link_style)),
            aria_label=label,
            style=LIST_STYLE,
        ),
        margin_top="0.25rem",
        data_testid=test_id,
    )


def raw_mail_link(url: rx.Var[str]) -> rx.Component:
    """The link that downloads the message exactly as received or sent."""
    return rx.text(
        document_link("View original (.eml)", href=url, style=MESSAGE_LINK),
        size="1",
        margin_top="0.25rem",
        data_testid="raw-mail",
    )
