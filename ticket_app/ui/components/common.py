"""Small shared pieces: labelled fields, value lists, the colors of badges and error callouts.

Also what the admin pages share: section headings, table headers and the confirmation of a
destructive action.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.components.el.elements.base import BaseHTML
from reflex.vars import FunctionStringVar
from reflex_base.vars.base import Var

from ticket_app.enums import Category, Priority, Status
from ticket_app.ui.components.keyboard import remember_opener, return_focus
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


# Times reach the page as ISO 8601 in UTC and are worded in the browser, in the viewer's own
# time zone and locale (the server does not know either). "" for no time or an invalid one.
# One formatter for the page: `toLocaleString` with options builds a new one on every call
# (milliseconds each; a page of rows words 50 times).
_LOCAL_TIME = FunctionStringVar.create(
    "((iso) => { const d = new Date(iso || NaN); if (isNaN(d)) return ''; "
    "globalThis.__localTimeFormat ??= new Intl.DateTimeFormat(undefined, {year: 'numeric', "
    "month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', "
    "timeZoneName: 'short'}); return globalThis.__localTimeFormat.format(d); })"
)
_UTC_TIME = FunctionStringVar.create(
    "((iso) => { const d = new Date(iso || NaN); return isNaN(d) ? '' : "
    "d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'; })"
)


def local_time(
    iso: rx.Var[str],
    *,
    text: rx.Var[str] | None = None,
    focusable: bool = False,
    title_on_hover: bool = False,
    **props,
) -> rx.Component:
    """A `<time>` showing `iso` (ISO 8601) in the viewer's time zone, UTC on hover and focus.

    `text` replaces the shown words (e.g. "5 min ago"); the hover then gives the local time and
    UTC. `focusable` puts the time in the tab order with a tooltip that also opens on focus
    (for a few times on a page; a list's rows use the hover title alone). `title_on_hover`
    (with `text`) words that title when the pointer enters the time (again when the time
    changed since) instead of when it is drawn: a page of rows then draws without the
    browser's date formatter, whose first use loads its locale data (25 to 70 ms of a list's
    first draw, see docs/performance.md).
    Other keyword arguments go to the `<time>` element.
    """
    local = _LOCAL_TIME.call(iso).to(str)
    utc = _UTC_TIME.call(iso).to(str)
    shown = local if text is None else text
    if text is not None and title_on_hover:
        words = Var(
            _js_expr=(
                "((event) => { const time = event.currentTarget; const iso = time.dateTime; "
                "if (time.dataset.titleFor !== iso) { time.dataset.titleFor = iso; "
                f"time.title = {_LOCAL_TIME}(iso) + ' (' + {_UTC_TIME}(iso) + ')'; }} }})"
            )
        )
        return rx.el.time(shown, date_time=iso, custom_attrs={"onPointerEnter": words}, **props)
    detail = utc if text is None else local + " (" + utc + ")"
    if not focusable:
        return rx.el.time(shown, date_time=iso, title=detail, **props)
    return rx.tooltip(rx.el.time(shown, date_time=iso, tab_index=0, **props), content=detail)


PRE_WRAP = {"whiteSpace": "pre-wrap", "overflowWrap": "anywhere"}

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


def confirm_dialog(
    *,
    name: str,
    title: rx.Var[str],
    description: rx.Var[str] | str,
    confirm_text: str,
    is_open: rx.Var[bool],
    on_open_change: Any,
    on_confirm: Any,
    busy: rx.Var[bool],
    fallback_id: str,
    test_id: str,
) -> rx.Component:
    """A destructive action's confirmation, opened from state (no trigger).

    Cancel has focus when it opens, so Enter alone never confirms; when it closes, focus goes
    back to the button that opened it, or to `fallback_id` when that button is gone.
    """
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button("Cancel", variant="soft", color_scheme="gray", disabled=busy)
                ),
                rx.button(
                    confirm_text,
                    color_scheme="red",
                    high_contrast=True,
                    on_click=on_confirm,
                    loading=busy,
                    data_testid=test_id,
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="28rem",
            on_open_auto_focus=remember_opener(name),
            on_close_auto_focus=return_focus(name, fallback_id),
        ),
        open=is_open,
        on_open_change=on_open_change,
    )


def section_heading(text: str, heading_id: str) -> rx.Component:
    """A page section's h2 that can take focus (`heading_id` is where focus lands)."""
    return rx.heading(
        text, size="4", as_="h2", id=heading_id, tab_index=-1, style={"outline": "none"}
    )


def table_headers(*names: str) -> rx.Component:
    """A table's header row; an empty name is an actions column, named for screen readers."""
    return rx.table.header(
        rx.table.row(
            *(rx.table.column_header_cell(name or screen_reader_text("Actions")) for name in names)
        )
    )
