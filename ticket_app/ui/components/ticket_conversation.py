"""The ticket's conversation: the customer's message, replies, notes and changes, the composer.

Oldest first, the composer right under the newest. The customer's description is shown whole
and read only, as the first message (it is edited through the page's Edit dialog). Comments are
rendered as text, never as HTML or Markdown; `white-space: pre-wrap` keeps their line breaks. A
comment that came or went by e-mail shows its channel, delivery and files.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.canned import canned_menu, composer_suggestions
from ticket_app.ui.components.common import PRE_WRAP, local_time
from ticket_app.ui.components.mail import channel_badge, delivery_line, file_list, raw_mail_link
from ticket_app.ui.components.ticket_fields import SECTION_HEADING
from ticket_app.ui.state.canned import CannedComposerState
from ticket_app.ui.state.ticket_page import TicketPageState

State = TicketPageState


def _comment(row: rx.Var[dict[str, str]]) -> rx.Component:
    """A reply or an internal note: told apart by label, icon and colour."""
    is_reply = row["kind"] == "reply"
    tone = rx.cond(is_reply, "var(--accent-a3)", "var(--amber-a3)")
    edge = rx.cond(is_reply, "var(--accent-8)", "var(--amber-9)")
    return rx.box(
        rx.hstack(
            rx.cond(
                is_reply,
                rx.icon("message-square", size=16, aria_hidden=True),
                rx.icon("lock", size=16, aria_hidden=True),
            ),
            rx.text(
                rx.cond(is_reply, "Public reply", "Internal note"),
                size="1",
                weight="bold",
                data_testid="comment-kind",
            ),
            channel_badge(row),
            rx.text(row["who"], size="1", weight="medium", data_testid="comment-author"),
            rx.text(local_time(row["when_iso"], focusable=True), size="1"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(row["body"], size="2", style=PRE_WRAP, margin_top="0.25rem"),
        rx.cond(
            row["delivery"] != "",
            delivery_line(row, resending=State.resending, on_resend=State.resend_mail),
        ),
        rx.cond(
            row["file_count"] != "0",
            file_list(
                State.comment_files[row["comment_id"]],
                "Files of this message",
                "comment-files",
            ),
        ),
        rx.cond(row["raw_url"] != "", raw_mail_link(row["raw_url"])),
        background=tone,
        border_left=rx.Var.create("4px solid ") + edge,
        border_radius="var(--radius-2)",
        padding="0.5rem 0.75rem",
    )


def _event(row: rx.Var[dict[str, str]]) -> rx.Component:
    """An audit line: what changed, who, when."""
    return rx.hstack(
        rx.icon("history", size=14, aria_hidden=True, color=rx.color("gray", 11)),
        rx.text(
            rx.el.span(row["what"], style={"fontWeight": "500"}),
            " · " + row["who"] + " · ",
            local_time(row["when_iso"], focusable=True),
            size="1",
            color_scheme="gray",
        ),
        spacing="2",
        align="center",
        padding_x="0.25rem",
    )


def _timeline_entry(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.cond(row["kind"] == "event", _event(row), _comment(row)),
        data_testid="timeline-entry",
        data_kind=row["kind"],
        style={"marginBottom": "0.5rem"},
    )


def _customer_message() -> rx.Component:
    """The description as the customer's first message: whole, read only, with its files."""
    fields = State.fields
    who = rx.cond(
        fields["requester_name"] != "",
        fields["requester_name"],
        rx.cond(fields["requester_email"] != "", fields["requester_email"], "The customer"),
    )
    return rx.el.li(
        rx.box(
            rx.hstack(
                rx.icon("user", size=16, aria_hidden=True),
                rx.text("Customer's message", size="1", weight="bold"),
                rx.text(who, size="1", weight="medium", data_testid="customer-name"),
                rx.text(local_time(fields["created_iso"], focusable=True), size="1"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(
                fields["description"],
                id="ticket-description",
                size="2",
                style=PRE_WRAP,
                margin_top="0.25rem",
            ),
            rx.cond(
                State.files.length() > 0,
                file_list(State.files, "Files from the requester's e-mail", "ticket-files"),
            ),
            background="var(--gray-a3)",
            border_left="4px solid var(--gray-9)",
            border_radius="var(--radius-2)",
            padding="0.5rem 0.75rem",
        ),
        data_testid="customer-message",
        style={"marginBottom": "0.5rem"},
    )


def timeline() -> rx.Component:
    """The conversation: the customer's message, then audit events and comments, oldest first."""
    return rx.box(
        rx.heading("Conversation", id="timeline-heading", **SECTION_HEADING),
        rx.el.ol(
            _customer_message(),
            rx.foreach(State.timeline, _timeline_entry),
            aria_labelledby="timeline-heading",
            style={"listStyle": "none", "padding": 0, "margin": 0},
        ),
        width="100%",
    )


def composer() -> rx.Component:
    """Reply to the requester or add an internal note; failed sends keep the text."""
    return rx.form(
        rx.vstack(
            rx.heading("Add to the conversation", **SECTION_HEADING),
            rx.radio_group.root(
                rx.hstack(
                    rx.el.label(
                        rx.hstack(
                            rx.radio_group.item(value="reply", id="composer-reply"),
                            rx.icon("message-square", size=14, aria_hidden=True),
                            rx.text("Reply", size="2"),
                            align="center",
                            spacing="1",
                        )
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.radio_group.item(value="note", id="composer-note"),
                            rx.icon("lock", size=14, aria_hidden=True),
                            rx.text("Internal note", size="2"),
                            align="center",
                            spacing="1",
                        )
                    ),
                    spacing="4",
                    align="center",
                    wrap="wrap",
                ),
                value=rx.cond(State.public_reply, "reply", "note"),
                on_change=State.set_public_reply,
                aria_label="Kind of message",
            ),
            rx.text(
                State.composer_hint,
                size="1",
                id="composer-hint",
                data_testid="composer-hint",
                style={"overflowWrap": "anywhere"},
            ),
            canned_menu(),
            rx.text_area(
                name="body",
                id="composer-body",
                on_change=lambda text: CannedComposerState.typed(text, State.public_reply).debounce(
                    250
                ),
                rows="5",
                resize="vertical",
                placeholder=rx.cond(State.public_reply, "Write a reply…", "Write a note…"),
                aria_label=rx.cond(State.public_reply, "Reply text", "Internal note text"),
                aria_describedby="composer-hint composer-tip composer-error",
                width="100%",
            ),
            composer_suggestions(),
            rx.text(
                rx.cond(
                    State.public_reply,
                    "Type / and a title to insert a canned response.",
                    "Type / and a title to insert a canned response, @ and a name to mention "
                    "a colleague (they are told and follow the ticket).",
                ),
                size="1",
                color_scheme="gray",
                high_contrast=True,
                id="composer-tip",
            ),
            rx.cond(
                State.composer_error != "",
                rx.text(
                    State.composer_error,
                    id="composer-error",
                    size="2",
                    color_scheme="red",
                    role="alert",
                    data_testid="composer-error",
                ),
            ),
            rx.button(
                rx.cond(
                    State.public_reply,
                    rx.icon("send", size=14, aria_hidden=True),
                    rx.icon("lock", size=14, aria_hidden=True),
                ),
                State.composer_action,
                type="submit",
                loading=State.sending,
                id="composer-submit",
                color_scheme=rx.cond(State.public_reply, "indigo", "amber"),
                high_contrast=~State.public_reply,
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=[State.send_comment, CannedComposerState.after_send],
        on_mount=CannedComposerState.load,
        reset_on_submit=False,
        padding="0.75rem",
        border_radius="var(--radius-3)",
        background=rx.cond(State.public_reply, "var(--accent-a2)", "var(--amber-a3)"),
        border=rx.cond(
            State.public_reply, "1px solid var(--accent-a6)", "1px dashed var(--amber-9)"
        ),
        width="100%",
    )
