"""Events the server sends to a tab (toasts, redirects, scripts), built only from inert text.

Why: Reflex reads the text `<reflex.Var>…</reflex.Var>` inside any string it turns into a
front-end value as a reference to one of its own variables. With anything but a known number
between the tags, Reflex 0.10.1's `LiteralStringVar.create` loops forever on the server's event
loop (memory grows, every page and the API stop answering); with a number it splices that
variable's JavaScript into the event. So a view name, a token name, a `next=` link or an error
message that quotes user input must never reach `rx.toast`, `rx.redirect` or `rx.run_script`
as it is. Every such event in the console is built here, from `inert` text; a test fails if any
other module calls those Reflex functions directly. See docs/reflex-var-marker.md.

`inert` only breaks the marker: a zero-width joiner after its `<` keeps the text looking the same
to people (a toast still shows the view's name) while Reflex no longer recognises it.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from reflex.constants import REFLEX_VAR_OPENING_TAG

_BROKEN_TAG = REFLEX_VAR_OPENING_TAG[0] + "\u2060" + REFLEX_VAR_OPENING_TAG[1:]

TOAST_ID_PREFIX = "page:"
"""A toast's id: this prefix, the path of the page it belongs to, `#` and a random part.

`PageToaster` (ui/components/toaster.py) dismisses the toasts of other pages when the tab moves
to a new page, so a toast about one page's action does not stay on top of the next page."""


def inert(text: Any) -> str:
    """`text` as a string in which Reflex finds no variable marker.

    Args:
        text: anything; it is converted with `str` first.

    Returns:
        The same text with a word joiner (U+2060) inserted after the `<` of every
        `<reflex.Var>`. One pass is enough: the tag starts with its only `<` and ends with its
        only `>`, so an insertion cannot complete a new tag with its neighbours.

    """
    return str(text).replace(REFLEX_VAR_OPENING_TAG, _BROKEN_TAG)


def toast_id(page: str | None = None) -> rx.Var:
    """A new toast's id (see TOAST_ID_PREFIX), made in the browser when the toast is shown.

    `page` is the path the toast belongs to when it announces a move to that page (the new
    ticket after Submit); by default it is the page the tab shows then.
    """
    where = json.dumps(inert(page)) if page else "window.location.pathname"
    return rx.Var(
        f"({json.dumps(TOAST_ID_PREFIX)} + {where} + '#' + Math.random().toString(36).slice(2))"
    )


def toast_success(message: Any, *, page: str | None = None) -> rx.event.EventSpec:
    """A success toast showing `message` (inert), on `page` (see `toast_id`)."""
    return rx.toast.success(inert(message), id=toast_id(page))


def toast_undo(message: Any, on_undo: rx.event.EventType) -> rx.event.EventSpec:
    """A success toast showing `message` (inert) with an "Undo" button that sends `on_undo`.

    It stays 10 seconds, long enough to read and reach the button.
    """
    return rx.toast.success(
        inert(message),
        action={"label": "Undo", "on_click": on_undo},
        duration=10_000,
        id=toast_id(),
    )


def toast_error(message: Any, *, page: str | None = None) -> rx.event.EventSpec:
    """An error toast showing `message` (inert), on `page` (see `toast_id`)."""
    return rx.toast.error(inert(message), id=toast_id(page))


def redirect(path: str, *, replace: bool = False) -> rx.event.EventSpec:
    """Send the tab to `path` on this site; any other target (`//host`, `https:`) becomes `/`.

    Args:
        path: a path starting with a single `/`, e.g. from `ListQuery.url()` or
            `console_routes.safe_return_path`.
        replace: replace the current history entry instead of adding one.

    """
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        path = "/"
    return rx.redirect(inert(path), replace=replace)


def run_script(javascript: str | rx.Var) -> rx.event.EventSpec:
    """Run `javascript` in the tab; a string is made inert first.

    Values in our scripts come from us or are JSON-encoded, but Reflex would still read a marker
    inside them.
    """
    return rx.run_script(inert(javascript) if isinstance(javascript, str) else javascript)


def set_text(element_id: str, text: str) -> rx.event.EventSpec:
    """Put `text` into the field with id `element_id`, as if typed.

    `text` is made inert: it may be user text (a canned response). The field keeps its own
    value (it is not bound to state).
    """
    return rx.set_value(element_id, inert(text))
