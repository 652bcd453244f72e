"""Small shared pieces: labelled fields, value lists and the colors of badges."""

from __future__ import annotations

import reflex as rx
from reflex.components.el.elements.base import BaseHTML

from ticket_app.enums import Category, Priority, Status
from ticket_app.ui.logic.tickets import label_of_value

CATEGORIES = [c.value for c in Category]
PRIORITIES = [p.value for p in Priority]
STATUSES = [s.value for s in Status]

PRIORITY_COLORS = {"low": "gray", "medium": "blue", "high": "orange", "critical": "red"}
# Pending (waiting on the requester), plum: step 12 on step a4 measures about 10:1 in the light
# theme (#53195d on #f7def8) and 11:1 in the dark one (#f4d4f4 on #3a1d3b); the label says it too.
STATUS_COLORS = {
    "open": "green",
    "in_progress": "amber",
    "pending": "plum",
    "resolved": "indigo",
    "closed": "gray",
}
CATEGORY_COLORS = {"billing": "teal", "technical": "violet", "account": "cyan", "general": "gray"}


class DocumentLink(BaseHTML):
    """A plain `<a>` the browser follows itself: downloads and pages outside the console.

    Reflex turns `rx.el.a` into a client-side router link, which cannot reach a server route
    such as the CSV export (it showed the console's 404 page instead).
    """

    tag = "a"

    href: rx.Var[str]
    download: rx.Var[str]
    target: rx.Var[str]
    rel: rx.Var[str]


document_link = DocumentLink.create


class DocumentForm(BaseHTML):
    """A plain `<form>` the browser submits itself, e.g. a POST whose answer is a download.

    The CSV export takes the session cookie on POST only (a GET could be triggered by any page
    with an `<img>`), so the console's Export button submits this form; the browser saves the
    attachment and stays on the page.
    """

    tag = "form"

    action: rx.Var[str]
    method: rx.Var[str]


document_form = DocumentForm.create


SR_ONLY = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "padding": "0",
    "margin": "-1px",
    "overflow": "hidden",
    "clip": "rect(0, 0, 0, 0)",
    "whiteSpace": "nowrap",
    "border": "0",
}


def screen_reader_text(text: str) -> rx.Component:
    """Text announced by screen readers but not shown (e.g. the name of an actions column)."""
    return rx.el.span(text, style=SR_ONLY)


def field_label(text: str, html_for: str) -> rx.Component:
    """A visible <label> tied to the input with id `html_for`."""
    return rx.el.label(
        rx.text(text, size="2", weight="medium"),
        html_for=html_for,
    )


def field_error(message: rx.Var[str], error_id: str) -> rx.Component:
    """A validation message under a field (announced by screen readers)."""
    return rx.cond(
        message != "",
        rx.text(message, id=error_id, size="1", color_scheme="red", role="alert"),
    )


FIELD_STYLE = {
    "width": "100%",
    "height": "var(--space-6)",
    "padding": "0 var(--space-2)",
    "border": "1px solid var(--gray-a7)",
    "borderRadius": "var(--radius-2)",
    "background": "var(--color-surface)",
    "color": "var(--gray-12)",
    "fontSize": "var(--font-size-2)",
    "fontFamily": "inherit",
}


def native_select(
    options: list[tuple[str, str]],
    *,
    value: rx.Var[str] | str,
    on_change,
    style: dict | None = None,
    **props,
) -> rx.Component:
    """A native `<select>` from (value, label) pairs, styled with the theme's tokens.

    Native rather than Radix's custom select: it is operable with every keyboard and screen
    reader as is, and opening it does not hide the rest of the page from assistive technology
    (axe-core flagged Radix's open select: focusable content under aria-hidden, an option
    highlight at 3.26:1 contrast, content outside landmarks).
    """
    return rx.el.select(
        *(rx.el.option(label, value=key) for key, label in options),
        value=value,
        on_change=on_change,
        style={**FIELD_STYLE, **(style or {})},
        **props,
    )


def choices(values: list[str], *, first: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    """(value, label) pairs for enum values, optionally led by `first` (e.g. "all")."""
    pairs = [(value, label_of_value(value)) for value in values]
    return [first, *pairs] if first else pairs


def tone_style(value: rx.Var[str], colors: dict[str, str]) -> dict[str, rx.Var]:
    """Badge-like colours for a value: the theme's step-12 text on its translucent step 4.

    Step 12 on step 4 of every Radix scale is far above 4.5:1 in light and dark themes (the
    plain CSS colour names used before measured 1.06:1 to 2.66:1).
    """
    return {
        "color": rx.match(
            value, *((k, f"var(--{c}-12)") for k, c in colors.items()), "var(--gray-12)"
        ),
        "background": rx.match(
            value, *((k, f"var(--{c}-a4)") for k, c in colors.items()), "var(--gray-a4)"
        ),
        "border": "1px solid transparent",
        "borderRadius": "9999px",
        "width": "auto",
        "height": "var(--space-5)",
        "fontSize": "var(--font-size-1)",
        "fontWeight": "500",
    }


def error_alert(
    message: rx.Var,
    *actions: rx.Component,
    test_id: str | None = None,
    announce: bool = True,
    **props,
) -> rx.Component:
    """A red callout with `message`, shown only while `message` is not empty.

    `actions` follow the text (e.g. a "Try again" button). `announce` makes it a live
    `role="alert"` (read out by screen readers as it appears); `test_id` sets `data-testid`;
    other keyword arguments go to the callout's root (e.g. `width`).
    """
    if announce:
        props["role"] = "alert"
    if test_id is not None:
        props["data_testid"] = test_id
    return rx.cond(
        message != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle_alert", aria_hidden=True)),
            rx.callout.text(message),
            *actions,
            color_scheme="red",
            **props,
        ),
    )
