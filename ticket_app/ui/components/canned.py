"""Canned responses: the composer's menu and suggestion lists, and the /canned-responses page.

Titles and bodies are user text: shown as text only (never HTML or Markdown).
"""

from __future__ import annotations

import reflex as rx

from ticket_app.schemas import PLACEHOLDERS
from ticket_app.ui.components.common import (
    PRE_WRAP,
    confirm_dialog,
    error_alert,
    field_label,
    section_heading,
    table_headers,
)
from ticket_app.ui.state.canned import CannedComposerState, CannedResponsesState

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
    """Under the composer: matching canned responses for `/words`, colleagues for `@`."""
    return rx.fragment(
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
