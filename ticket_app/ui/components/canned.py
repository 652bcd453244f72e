"""Canned responses: the composer's menu and suggestion lists, and the /canned-responses page.

Titles and bodies are user text: shown as text only (never HTML or Markdown). The suggestion
lists are keyboard-operable (`suggestion_keys`): Down moves from the composer into the list,
Up and Down move within it, Enter chooses, Escape closes it and returns to the composer.
"""

from __future__ import annotations

import reflex as rx
from reflex.components.core.window_events import WindowEventListener
from reflex.event import EventHandler
from reflex.vars import FunctionStringVar, ObjectVar, Var

from ticket_app.schemas import PLACEHOLDERS
from ticket_app.ui.components.common import (
    PRE_WRAP,
    confirm_dialog,
    error_alert,
    field_label,
    section_heading,
    table_headers,
)
from ticket_app.ui.state.canned import COMPOSER_ID, CannedComposerState, CannedResponsesState

Composer = CannedComposerState
Page = CannedResponsesState
PLACEHOLDER_HELP = "Placeholders: " + ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)


def canned_menu() -> rx.Component:
    """The composer's "Canned responses" menu: inserts the chosen one, filled in."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("message-square-quote", size=14, aria_hidden=True),
                "Canned responses",
                rx.icon("chevron-down", size=14, aria_hidden=True),
                type="button",
                variant="soft",
                color_scheme="gray",
                size="1",
                id="canned-menu",
            )
        ),
        rx.menu.content(
            rx.foreach(
                Composer.responses,
                lambda row: rx.menu.item(
                    row["title"],
                    on_select=Composer.insert(row["id"]),
                    data_testid="canned-menu-item",
                ),
            ),
            rx.cond(Composer.responses.length() > 0, rx.menu.separator()),
            rx.menu.item(
                rx.link("Manage canned responses", href="/canned-responses", underline="none"),
            ),
        ),
    )


# The keys of the suggestion lists, in the browser: moving focus between the lists' buttons
# keeps them plain buttons (announced as such, chosen with Enter natively) while the composer
# keeps its text. Only Down enters a list from the composer; Up there still moves the caret.
_SUGGESTION_KEYS_JS = (
    "((event) => {"
    f" const field = document.getElementById({COMPOSER_ID!r});"
    " const box = document.querySelector('[data-composer-suggestions]');"
    " if (!field || !box) return;"
    " const items = [...box.querySelectorAll('button[data-choice]')];"
    " const at = items.indexOf(document.activeElement);"
    " const inField = event.target === field;"
    " if (!items.length || (!inField && at < 0)) return;"
    " if (event.key === 'ArrowDown' || (event.key === 'ArrowUp' && !inField)) {"
    "  event.preventDefault();"
    "  const next = inField ? 0 : at + (event.key === 'ArrowDown' ? 1 : -1);"
    "  if (next < 0) { field.focus(); return; }"
    "  items[Math.min(next, items.length - 1)].focus();"
    " } else if (event.key === 'Escape') {"
    "  event.preventDefault();"
    "  field.focus();"
    "  box.querySelector('button[data-dismiss]')?.click();"
    " }"
    "})"
)


def _raw_event(event: ObjectVar) -> tuple[Var]:
    """The keydown event itself, for a handler that runs in the browser."""
    return (event,)


class _SuggestionKeys(WindowEventListener):
    """A window `keydown` listener handing the event to browser-side JavaScript."""

    on_key_down: EventHandler[_raw_event]


def suggestion_keys() -> rx.Component:
    """Up, Down, Enter and Escape for the composer's `/` and `@` suggestions (no server trip)."""
    return _SuggestionKeys.create(on_key_down=FunctionStringVar.create(_SUGGESTION_KEYS_JS))


def _suggestion_list(rows: rx.Var, label: str, test_id: str, text, on_choose) -> rx.Component:
    return rx.cond(
        rows.length() > 0,
        rx.el.ul(
            rx.foreach(
                rows,
                lambda row: rx.el.li(
                    rx.button(
                        text(row),
                        type="button",
                        variant="ghost",
                        size="1",
                        on_click=on_choose(row),
                        data_testid=test_id,
                        data_choice="",
                        style={"&:focus-visible": {"background": "var(--accent-a4)"}},
                    )
                ),
            ),
            aria_label=label,
            style={
                "listStyle": "none",
                "margin": 0,
                "padding": "0.25rem",
                "display": "flex",
                "flexWrap": "wrap",
                "gap": "0.25rem",
                "border": "1px solid var(--gray-a6)",
                "borderRadius": "var(--radius-2)",
                "background": "var(--color-panel-solid)",
                "width": "100%",
            },
        ),
    )


def composer_suggestions() -> rx.Component:
    """Under the composer: matching canned responses for `/words`, colleagues for `@`.

    Operable by keyboard (`suggestion_keys`); the hidden button is what Escape presses.
    """
    return rx.el.div(
        suggestion_keys(),
        rx.el.button(type="button", on_click=Composer.dismiss, data_dismiss="", hidden=True),
        _suggestion_list(
            Composer.suggestions,
            "Matching canned responses",
            "canned-suggestion",
            lambda row: row["title"],
            lambda row: Composer.insert(row["id"]),
        ),
        _suggestion_list(
            Composer.mentions,
            "Colleagues to mention",
            "mention-suggestion",
            lambda row: row["name"] + " (@" + row["handle"] + ")",
            lambda row: Composer.mention(row["handle"]),
        ),
        data_composer_suggestions="",
        style={"display": "contents"},
    )


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    editable = row["editable"] == "yes"
    return rx.table.row(
        rx.table.cell(rx.text(row["title"], weight="medium")),
        rx.table.cell(
            rx.text(
                row["body"], size="1", style={**PRE_WRAP, "maxHeight": "6rem", "overflow": "hidden"}
            )
        ),
        rx.table.cell(rx.cond(row["shared"] == "yes", "Shared", "Personal")),
        rx.table.cell(row["uses"]),
        rx.table.cell(
            rx.cond(
                editable,
                rx.hstack(
                    rx.button(
                        "Edit",
                        size="1",
                        variant="soft",
                        on_click=Page.edit(row["id"]),
                        aria_label="Edit " + row["title"],
                    ),
                    rx.button(
                        "Delete",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=Page.ask_delete(row["id"]),
                        aria_label="Delete " + row["title"],
                        aria_haspopup="dialog",
                    ),
                    spacing="2",
                ),
            )
        ),
        data_testid="canned-row",
    )


def _form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(Page.form_heading, size="4", as_="h2", id="canned-form-heading"),
                rx.vstack(
                    field_label("Title", "canned-title"),
                    rx.input(
                        id="canned-title",
                        value=Page.title,
                        on_change=Page.set_title,
                        max_length=120,
                        width="100%",
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.vstack(
                    field_label("Text", "canned-body"),
                    rx.text(PLACEHOLDER_HELP, size="1", id="canned-body-help"),
                    rx.text_area(
                        id="canned-body",
                        value=Page.body,
                        on_change=Page.set_body,
                        rows="6",
                        resize="vertical",
                        aria_describedby="canned-body-help",
                        width="100%",
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.cond(
                    Page.may_share,
                    rx.el.label(
                        rx.hstack(
                            rx.switch(
                                checked=Page.shared,
                                on_change=Page.set_shared,
                                id="canned-shared",
                            ),
                            rx.text("Shared with the whole team", size="2"),
                            align="center",
                            spacing="2",
                        )
                    ),
                ),
                rx.cond(
                    Page.form_error != "",
                    rx.text(
                        Page.form_error,
                        id="canned-form-error",
                        size="2",
                        color_scheme="red",
                        role="alert",
                        tab_index=-1,
                    ),
                ),
                rx.hstack(
                    rx.button(
                        rx.cond(Page.editing_id != "", "Save changes", "Create"),
                        type="submit",
                        id="canned-save",
                    ),
                    rx.cond(
                        Page.editing_id != "",
                        rx.button(
                            "Cancel",
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            on_click=Page.cancel_edit,
                        ),
                    ),
                    spacing="2",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=Page.save,
            reset_on_submit=False,
        ),
        width="100%",
    )


def canned_responses_page_content() -> rx.Component:
    """The list (title order) with edit and delete where allowed, and the form."""
    return rx.vstack(
        section_heading("Canned responses", "canned-heading"),
        rx.text(
            "Your own replies and the team's shared ones, inserted from the composer's menu "
            "or by typing / and a title at its start.",
            size="2",
        ),
        error_alert(Page.load_error, width="100%"),
        rx.cond(
            Page.rows.length() > 0,
            rx.table.root(
                table_headers("Title", "Text", "Kind", "Uses", ""),
                rx.table.body(rx.foreach(Page.rows, _row)),
                width="100%",
                aria_labelledby="canned-heading",
            ),
            rx.text("No canned responses yet.", size="2", data_testid="canned-empty"),
        ),
        rx.cond(Page.may_keep, _form()),
        confirm_dialog(
            name="canned-delete",
            title="Delete " + Page.confirm_title + "?",
            description="It is no longer offered in anyone's composer.",
            confirm_text="Delete",
            is_open=Page.confirm_id != "",
            on_open_change=Page.delete_dialog_changed,
            on_confirm=Page.confirm_delete,
            busy=Page.deleting,
            fallback_id="canned-heading",
            test_id="canned-delete-confirm",
        ),
        spacing="4",
        width="100%",
    )
