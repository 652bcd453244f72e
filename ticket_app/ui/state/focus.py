"""Keyboard focus moves the console's states send: scripts run in the browser after a render.

A state handler cannot focus an element itself; it sends a script (`run_script`) that the
browser runs when the event's answer arrives, often before React has rendered what the same
answer changed. These builders wait for the element, keep it focused across a re-render, and
leave alone focus the user has moved meanwhile.
"""

from __future__ import annotations

import json

import reflex as rx

from ticket_app.ui.safe_events import run_script


def row_link_id(ticket_id: str) -> str:
    """DOM id of a row's title link, the element that holds focus when the row is current."""
    return f"ticket-link-{ticket_id}"


FOCUS_MARK_GLOBAL = "triageDeskFocusMark"
"""Window property the row-focus script sets to the mark of the last focus move it ran."""


RENDER_WAIT_MS = 10_000
"""How long a focus move waits for its element to be rendered, in milliseconds.

Frames were counted before (30, about half a second), which a loaded machine's first render of
a ticket page outlasted: the move gave up and focus stayed on the page's body."""
REMOUNT_WATCH_MS = 1_500
"""After focusing, how long a move keeps its element focused across a re-render that replaces
the element (focus falls to the body when a focused node is removed), in milliseconds."""
FOCUS_MOVE_GLOBAL = "triageDeskFocusMove"
"""Window property numbering focus moves: a move stops as soon as a newer one starts."""


def focus_when_rendered_script(element_id: str, *, unless_focused: bool = False) -> str:
    """A script expression focusing `element_id` once it is rendered (up to RENDER_WAIT_MS).

    State changes sent with (or just before) the focus move are rendered after the browser has
    already run it, so an element they create is not there yet on the first try: the move
    retries on every animation frame. It gives up when a newer move starts, or when the user
    has put focus elsewhere meanwhile (always with `unless_focused`, where focus stays wherever
    the user already put it). For REMOUNT_WATCH_MS after focusing, a re-render that replaces
    the element (and so drops focus to the body) is followed by focusing the new element. An
    element that cannot take focus yet (in a hidden or inert part of the page) is tried again.
    """
    elsewhere = "active && active !== document.body && active !== start"
    skip = "active && active !== document.body" if unless_focused else elsewhere
    return (
        f"(function () {{ "
        f"const move = (window.{FOCUS_MOVE_GLOBAL} = (window.{FOCUS_MOVE_GLOBAL} || 0) + 1); "
        f"const start = document.activeElement; "
        f"const giveUpAt = performance.now() + {RENDER_WAIT_MS}; "
        f"let focused = null, watchUntil = 0; "
        f"(function attempt() {{ "
        f"if (window.{FOCUS_MOVE_GLOBAL} !== move) return; "
        f"const element = document.getElementById({json.dumps(element_id)}); "
        f"const active = document.activeElement; "
        f"if (focused === null) {{ "
        f"if ({skip}) return; "
        f"if (element) element.focus(); "
        f"if (element && document.activeElement === element) {{ focused = element; "
        f"watchUntil = performance.now() + {REMOUNT_WATCH_MS}; }} "
        f"else if (performance.now() > giveUpAt) return; "
        f"}} else {{ "
        f"if (performance.now() > watchUntil) return; "
        f"if (element && element !== focused && (!active || active === document.body)) "
        f"{{ element.focus(); focused = element; }} "
        f"}} "
        f"requestAnimationFrame(attempt); "
        f"}})(); }})()"
    )


def focus_when_rendered(element_id: str, *, unless_focused: bool = False) -> rx.event.EventSpec:
    """Move keyboard focus to `element_id` once rendered (see `focus_when_rendered_script`)."""
    return run_script(focus_when_rendered_script(element_id, unless_focused=unless_focused))


def focus_row(ticket_id: str, mark: str) -> rx.event.EventSpec:
    """Focus a row's link and record `mark` in `window[FOCUS_MARK_GLOBAL]`.

    The mark is recorded even when the row is gone, so a later key press never waits on a move
    that cannot happen; key presses report the mark they saw (see `TicketListState._focus_base`).
    """
    # run_script evaluates one expression, hence the comma operator.
    return run_script(
        f"(window.{FOCUS_MARK_GLOBAL} = {json.dumps(mark)}, "
        f"{focus_when_rendered_script(row_link_id(ticket_id))})"
    )


def focus_element(element_id: str) -> rx.event.EventSpec:
    """Move keyboard focus to the element with `element_id` (built like `rx.scroll_to`)."""
    element = rx.vars.FunctionStringVar.create("document.getElementById").call(element_id)
    return run_script(element.to(rx.vars.ObjectVar).focus.to(rx.vars.FunctionVar).call())
