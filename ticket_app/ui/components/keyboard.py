"""The list's keyboard shortcuts: a page-wide key listener and the "?" dialog that lists them.

Reflex's `rx.window_event_listener` registers a `keydown` listener on the window; this one
also hands over where the key was pressed, so keys typed into a text field, inside an open
menu, list box or dialog (a pill menu's type-ahead: typing a colleague's name must not assign
the row with its "a" or leave the page with its "n"), or pressed with Ctrl/Alt/Meta, never
reach the server, and Enter on a link or button keeps its own meaning.

Also `remember_opener` and `return_focus`, which give a dialog opened from state (no
`rx.dialog.trigger`) back the focus return a trigger would have: Radix hands focus on close to
the trigger, and without one it falls to <body>.
"""

from __future__ import annotations

import dataclasses
import json

import reflex as rx
from reflex.components.core.window_events import WindowEventListener
from reflex.event import EventHandler
from reflex.vars import FunctionStringVar, ObjectVar, Var

from ticket_app.ui.state.focus import FOCUS_MARK_GLOBAL
from ticket_app.ui.state.keyboard import SHORTCUTS, KeyboardState

SHORTCUT_KEYS = ["j", "k", "x", "a", "/", "n", "?", "Enter"]
TYPING_TAGS = ["INPUT", "TEXTAREA", "SELECT"]
ACTIVATING_TAGS = ["A", "BUTTON"]
POPUP_SELECTOR = '[role="menu"], [role="listbox"], [role="dialog"], [role="alertdialog"]'
"""Keys pressed inside these belong to them (type-ahead, Enter on an item, a dialog's keys)."""
SHORTCUTS_BUTTON_ID = "shortcuts-button"
OPENERS_GLOBAL = "triageDeskDialogOpeners"
"""Window property: per dialog name, the element that had focus when that dialog opened."""


def remember_opener(name: str) -> FunctionStringVar:
    """An `on_open_auto_focus` handler noting which element had focus as dialog `name` opened.

    Radix runs it as the content mounts, before it moves focus into the dialog, so the focused
    element is still the button (or row) the dialog was opened from. It runs in the browser,
    synchronously: a queued event could run after focus has moved.
    """
    return FunctionStringVar.create(
        f"((event) => {{ (window.{OPENERS_GLOBAL} ??= {{}})[{json.dumps(name)}] = "
        f"document.activeElement; }})"
    )


def return_focus(name: str, fallback_id: str = "") -> FunctionStringVar:
    """An `on_close_auto_focus` handler putting focus back where dialog `name` was opened.

    When that element has left the page (a merge removes its button), or focus was on <body>,
    the element with `fallback_id` gets it instead (none when ""). Prevents Radix's default,
    which focuses the dialog's trigger, or nothing when it has none.
    """
    return FunctionStringVar.create(
        f"((event) => {{ event.preventDefault(); "
        f"const openers = window.{OPENERS_GLOBAL} ?? {{}}; "
        f"const opener = openers[{json.dumps(name)}]; "
        f"delete openers[{json.dumps(name)}]; "
        f"const back = opener && opener.isConnected && opener !== document.body "
        f"? opener : document.getElementById({json.dumps(fallback_id)}); "
        f"if (back) back.focus(); }})"
    )


@dataclasses.dataclass(frozen=True)
class _KeyTarget:
    """The fields of the element a key was pressed on that the listener reads."""

    tagName: str = ""  # noqa: N815
    isContentEditable: bool = False  # noqa: N815
    dataset: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _KeyEvent:
    """A DOM KeyboardEvent, with its target."""

    key: str = ""
    altKey: bool = False  # noqa: N815
    ctrlKey: bool = False  # noqa: N815
    metaKey: bool = False  # noqa: N815
    target: _KeyTarget = dataclasses.field(default_factory=_KeyTarget)


def _shortcut_spec(
    e: ObjectVar[_KeyEvent],
) -> tuple[Var[str], Var[bool], Var[str], Var[str]]:
    """(key, whether it is a shortcut here, the focused row's ticket id or "", focus mark).

    The focus mark is the one the last row-focus script left in the window ("" before any),
    read as the key is pressed, so the server can tell a report made before its last focus
    move ran.
    """
    target = e.target
    modified = e.altKey | e.ctrlKey | e.metaKey
    typing = Var.create(TYPING_TAGS).contains(target.tagName) | target.isContentEditable
    native_enter = (e.key == "Enter") & Var.create(ACTIVATING_TAGS).contains(target.tagName)
    in_popup = Var(
        _js_expr=f"({target._js_expr}?.closest?.({json.dumps(POPUP_SELECTOR)}) != null)",
        _var_type=bool,
    )
    wanted = Var.create(SHORTCUT_KEYS).contains(e.key) & ~(
        modified | typing | native_enter | in_popup
    )
    ticket = target.dataset.to(dict)["ticketId"].to(str)
    mark = Var(_js_expr=f'String(window.{FOCUS_MARK_GLOBAL} ?? "")', _var_type=str)
    return e.key.to(str), wanted, (ticket | Var.create("")).to(str), mark


class ShortcutListener(WindowEventListener):
    """A window `keydown` listener that tells shortcuts from typing."""

    on_key_down: EventHandler[_shortcut_spec]


def shortcut_listener() -> rx.Component:
    """Send shortcut keys (and only those) to `KeyboardState.shortcut`."""
    return ShortcutListener.create(
        on_key_down=lambda key, wanted, ticket, mark: rx.cond(
            wanted, KeyboardState.shortcut(key, ticket, mark), rx.noop()
        )
    )


def _shortcut_row(keys: str, action: str) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.code(keys, variant="outline", high_contrast=True)),
        rx.table.cell(action),
    )


def shortcuts_dialog() -> rx.Component:
    """The "?" dialog; also opened by the header's keyboard button.

    Focus moves to Close when it opens and, when it closes, back to where it was: the keyboard
    button, or the row (or other element) "?" was pressed on.
    """
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Keyboard shortcuts"),
            rx.dialog.description(
                "They work on the ticket list whenever no text field has focus.", size="2"
            ),
            rx.table.root(
                rx.table.body(*(_shortcut_row(keys, action) for keys, action in SHORTCUTS)),
                size="1",
                margin_y="1rem",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Close", variant="soft", high_contrast=True)),
                justify="end",
            ),
            max_width="28rem",
            data_testid="shortcuts-dialog",
            on_open_auto_focus=remember_opener("shortcuts"),
            on_close_auto_focus=return_focus("shortcuts"),
        ),
        open=KeyboardState.shortcuts_open,
        on_open_change=KeyboardState.show_shortcuts,
    )


def shortcuts_button() -> rx.Component:
    """The way to the shortcuts without knowing `?`."""
    return rx.icon_button(
        rx.icon("keyboard", size=16),
        variant="ghost",
        color_scheme="gray",
        high_contrast=True,
        aria_label="Keyboard shortcuts",
        aria_haspopup="dialog",
        id=SHORTCUTS_BUTTON_ID,
        on_click=KeyboardState.show_shortcuts(True),
    )
