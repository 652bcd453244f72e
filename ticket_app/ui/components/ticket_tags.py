"""The ticket's tags on its page: chips with a remove button, and an input to add more.

The input suggests the tags in use (a `<datalist>` refreshed as it is typed into); several tags
may be typed at once, comma-separated. Viewers see the chips without buttons.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import FIELD_STYLE
from ticket_app.ui.state import SessionState
from ticket_app.ui.state.ticket_page import TicketPageState
from ticket_app.ui.state.ticket_tags import TAG_INPUT_ID

State = TicketPageState
_SUGGESTIONS_ID = "ticket-tag-suggestions"
_CHIPS = {
    "listStyle": "none",
    "padding": "0",
    "margin": "0",
    "display": "flex",
    "flexWrap": "wrap",
    "gap": "0.35rem",
}
_REMOVE = {
    "display": "inline-flex",
    "alignItems": "center",
    "justifyContent": "center",
    "background": "transparent",
    "border": "none",
    "padding": "0.1rem",
    "marginLeft": "0.15rem",
    "borderRadius": "var(--radius-1)",
    "color": "inherit",
    "cursor": "pointer",
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "1px"},
}


def _chip(tag: rx.Var[str]) -> rx.Component:
    """One tag; staff who edit get a button that removes it."""
    return rx.el.li(
        rx.badge(
            tag,
            rx.cond(
                SessionState.can_edit,
                rx.el.button(
                    rx.icon("x", size=12, aria_hidden=True),
                    type="button",
                    on_click=State.remove_tag(tag),
                    aria_label="Remove tag " + tag,
                    title="Remove tag " + tag,
                    style=_REMOVE,
                ),
            ),
            size="2",
            variant="soft",
            color_scheme="gray",
            high_contrast=True,
        ),
        data_testid="tag-chip",
    )


def _add_form() -> rx.Component:
    """Type one or more tags (comma-separated) and press Enter or "Add"."""
    return rx.form(
        rx.hstack(
            rx.el.input(
                id=TAG_INPUT_ID,
                name="tag",
                list=_SUGGESTIONS_ID,
                placeholder="e.g. billing, vip",
                autocomplete="off",
                max_length=200,
                on_change=State.suggest_tags.debounce(250),
                on_focus=State.suggest_tags(""),
                aria_invalid=rx.cond(State.field_errors.contains("tags"), "true", "false"),
                aria_describedby="tags-error",
                style={**FIELD_STYLE, "flex": "1"},
            ),
            rx.el.datalist(
                rx.foreach(State.tag_suggestions, lambda tag: rx.el.option(value=tag)),
                id=_SUGGESTIONS_ID,
            ),
            rx.button("Add", type="submit", size="2", variant="soft", id="add-tag"),
            spacing="2",
            width="100%",
            align="center",
        ),
        on_submit=State.add_tags,
        reset_on_submit=True,
        width="100%",
    )


def tags_field() -> rx.Component:
    """The "Tags" field of the details panel."""
    return rx.vstack(
        rx.el.label(
            rx.text("Tags", size="1", weight="medium", color_scheme="gray"),
            html_for=TAG_INPUT_ID,
        ),
        rx.cond(
            State.tag_list.length() > 0,
            rx.el.ul(
                rx.foreach(State.tag_list, _chip),
                aria_label="Current tags",
                style=_CHIPS,
                data_testid="ticket-tags",
            ),
            rx.text("No tags", size="1", data_testid="ticket-tags"),
        ),
        rx.cond(SessionState.can_edit, _add_form()),
        rx.cond(
            State.field_errors.contains("tags"),
            rx.text(
                State.field_errors["tags"],
                id="tags-error",
                size="1",
                color_scheme="red",
                role="alert",
            ),
        ),
        spacing="1",
        width="100%",
    )
