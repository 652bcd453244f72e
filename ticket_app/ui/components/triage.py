"""Small marks of the triage reading shared by the list and the ticket page (issue 14)."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import screen_reader_text

FRUSTRATED_TEXT = "Frustrated customer"


def frustration_mark(*, with_text: bool = False) -> rx.Component:
    """An icon saying the customer was frustrated, with the words for screen readers.

    `with_text` shows the words too (the ticket page); the list shows the icon with a tooltip,
    so the mark never relies on colour alone.
    """
    words = (
        rx.text(FRUSTRATED_TEXT, size="2", weight="medium")
        if with_text
        else screen_reader_text(FRUSTRATED_TEXT)
    )
    return rx.hstack(
        rx.icon("frown", size=16, aria_hidden=True, color=rx.color("orange", 11)),
        words,
        spacing="1",
        align="center",
        title=FRUSTRATED_TEXT,
        data_testid="frustrated-mark",
        display="inline-flex",
    )


def language_mark(code: rx.Var[str]) -> rx.Component:
    """A row's language code ("DE") when it is not English; nothing otherwise."""
    return rx.cond(
        code != "",
        rx.badge(
            screen_reader_text("Language: "),
            code,
            variant="outline",
            color_scheme="gray",
            size="1",
            data_testid="language-mark",
        ),
    )
