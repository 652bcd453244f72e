"""The list's keyboard shortcuts: a page-wide key listener and the "?" dialog that lists them.

Reflex's `rx.window_event_listener` registers a `keydown` listener on the window; this one
also hands over where the key was pressed, so keys typed into a text field, or pressed with
Ctrl/Alt/Meta, never reach the server, and Enter on a link or button keeps its own meaning.
"""

from __future__ import annotations

import dataclasses

import reflex as rx
from reflex.components.core.window_events import WindowEventListener
from reflex.event import EventHandler
from reflex.vars import ObjectVar, Var

from ticket_app.ui.state.keyboard import SHORTCUTS, KeyboardState
from ticket_app.ui.state.tickets import FOCUS_MARK_GLOBAL

SHORTCUT_KEYS = ["j", "k", "x", "a", "/", "n", "?", "Enter"]
TYPING_TAGS = ["INPUT", "TEXTAREA", "SELECT"]
ACTIVATING_TAGS = ["A", "BUTTON"]


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
    wanted = Var.create(SHORTCUT_KEYS).contains(e.key) & ~(modified | typing | native_enter)
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
    """The "?" dialog; also opened by the header's keyboard button."""
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
        on_click=KeyboardState.show_shortcuts(True),
    )
