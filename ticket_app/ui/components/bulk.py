"""Row checkboxes and the bulk bar: what to set on the selected tickets, confirm, undo."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    CATEGORIES,
    FIELD_STYLE,
    PRIORITIES,
    STATUSES,
    choices,
    native_select,
)
from ticket_app.ui.state import SessionState, TicketListState
from ticket_app.ui.state.bulk import BulkState

CHECKBOX_STYLE = {
    "width": "1.1rem",
    "height": "1.1rem",
    "accentColor": "var(--accent-9)",
    "cursor": "pointer",
}


def row_checkbox(
    row: rx.Var[dict[str, str]], selected: rx.Var[bool], can_edit: rx.Var[bool]
) -> rx.Component:
    """Select a row for a bulk change; Shift-click selects the range from the last click.

    `selected` and `can_edit` come from the row's props (see `ticket_row`), not the states.
    """
    return rx.el.input(
        type="checkbox",
        checked=selected,
        on_click=lambda pointer: BulkState.toggle(row["id"], pointer),
        read_only=True,
        disabled=~can_edit,
        aria_label="Select ticket " + row["id"],
        data_testid="row-checkbox",
        style=CHECKBOX_STYLE,
    )


def select_page_checkbox() -> rx.Component:
    """Select every row shown."""
    return rx.el.input(
        type="checkbox",
        checked=(BulkState.selected_count > 0)
        & (BulkState.selected_count == TicketListState.shown_count),
        on_change=BulkState.toggle_page,
        disabled=~SessionState.can_edit,
        aria_label="Select all tickets shown",
        data_testid="select-page",
        style=CHECKBOX_STYLE,
    )


def _choice(label: str, field: str, values: list[str], value: rx.Var[str]) -> rx.Component:
    """One "set … to" select of the bar; its first choice leaves the field alone."""
    return native_select(
        choices(values, first=("", f"{label}: keep")),
        value=value,
        on_change=lambda choice: BulkState.set_choice(field, choice),
        aria_label=f"Set {label.lower()} of the selected tickets",
        id=f"bulk-{field}",
        style={"width": "auto"},
    )


def _assignee_choice() -> rx.Component:
    return rx.el.select(
        rx.el.option("Assignee: keep", value=""),
        rx.el.option("Unassign", value="none"),
        rx.foreach(
            TicketListState.staff, lambda user: rx.el.option(user["name"], value=user["id"])
        ),
        value=BulkState.assignee,
        on_change=lambda choice: BulkState.set_choice("assignee", choice),
        aria_label="Set assignee of the selected tickets",
        id="bulk-assignee",
        style={**FIELD_STYLE, "width": "auto"},
    )


def _tag_choice(label: str, field: str, value: rx.Var[str]) -> rx.Component:
    """A text input of the bar: tags to add or remove, comma-separated ("" leaves them)."""
    return rx.input(
        value=value,
        on_change=lambda text: [BulkState.set_choice(field, text), BulkState.suggest_tags(text)],
        placeholder=label,
        aria_label=f"{label} to the selected tickets (comma-separated)"
        if field == "add_tag"
        else f"{label} from the selected tickets (comma-separated)",
        id=f"bulk-{field.replace('_', '-')}",
        list="bulk-tag-suggestions",
        debounce_timeout=300,
        size="2",
        width="9rem",
    )


def _tag_suggestions() -> rx.Component:
    """The tags in use, offered as the bar's tag inputs are typed into."""
    return rx.el.datalist(
        rx.foreach(BulkState.tag_suggestions, lambda tag: rx.el.option(value=tag)),
        id="bulk-tag-suggestions",
    )


def _scope_text() -> rx.Component:
    """How many tickets a change will touch, and the way to all matching ones."""
    total = TicketListState.total
    return rx.hstack(
        rx.cond(
            BulkState.all_matching,
            rx.text(
                rx.el.strong("All " + BulkState.matching_text + " matching tickets"),
                " selected",
                size="2",
                data_testid="bulk-count",
            ),
            rx.text(
                rx.el.strong(BulkState.selected_count.to_string()),
                " selected",
                size="2",
                data_testid="bulk-count",
            ),
        ),
        rx.cond(
            ~BulkState.all_matching & (total > BulkState.selected_count),
            rx.button(
                rx.cond(
                    TicketListState.total_exact,
                    "Select all " + total.to_string() + " matching",
                    "Select all matching",
                ),
                variant="soft",
                size="2",
                on_click=BulkState.select_all_matching,
                id="select-all-matching",
            ),
        ),
        align="center",
        spacing="2",
        wrap="wrap",
    )


def _confirm_dialog() -> rx.Component:
    """Asks before a change reaches every matching ticket, naming how many."""
    total = BulkState.matching_text
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Change " + total + " tickets?"),
            rx.alert_dialog.description(
                "Every ticket matching the list's filters changes, including those not shown. "
                "You can undo it right after.",
                size="2",
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Change " + total + " tickets",
                        on_click=BulkState.apply_to_all_matching,
                        id="confirm-bulk",
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
        open=BulkState.confirm_open,
        on_open_change=BulkState.show_confirm,
    )


def _undo_bar() -> rx.Component:
    """After a bulk change: what it did and the way back."""
    return rx.cond(
        BulkState.undo_note != "",
        rx.callout(
            rx.hstack(
                rx.text(BulkState.undo_note, size="2"),
                rx.button(
                    "Undo", size="1", variant="soft", on_click=BulkState.undo, id="undo-bulk"
                ),
                align="center",
                spacing="3",
            ),
            icon="check",
            color_scheme="green",
            size="1",
            width="100%",
            data_testid="undo-bar",
        ),
    )


def bulk_bar() -> rx.Component:
    """Shown while rows are selected: what to set, for how many, and "Apply".

    It floats at the bottom of the window, within reach of a phone user's thumb, and takes no
    room in the page: shown in the flow above the table, it pushed every row down by its height
    at the first tick, so the next click meant for a row landed on "Apply". In the document it
    stays right after the filters, where the keyboard reaches it.
    """
    return rx.fragment(
        _undo_bar(),
        rx.cond(
            SessionState.can_edit & ((BulkState.selected_count > 0) | BulkState.all_matching),
            rx.flex(
                _scope_text(),
                rx.flex(
                    _choice("Status", "status", STATUSES, BulkState.status),
                    _choice("Priority", "priority", PRIORITIES, BulkState.priority),
                    _choice("Category", "category", CATEGORIES, BulkState.category),
                    _assignee_choice(),
                    _tag_choice("Add tag", "add_tag", BulkState.add_tag),
                    _tag_choice("Remove tag", "remove_tag", BulkState.remove_tag),
                    _tag_suggestions(),
                    rx.button("Apply", on_click=BulkState.apply, id="apply-bulk", size="2"),
                    rx.button(
                        "Clear selection",
                        on_click=BulkState.clear,
                        variant="soft",
                        color_scheme="gray",
                        size="2",
                    ),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                ),
                direction="column",
                spacing="2",
                padding="0.75rem",
                border_radius="var(--radius-3)",
                background="var(--color-panel-solid)",
                border="1px solid var(--accent-a7)",
                box_shadow="var(--shadow-3)",
                width="min(calc(100% - 1rem), 56rem)",
                position="fixed",
                bottom="0.5rem",
                left="50%",
                transform="translateX(-50%)",
                z_index="30",  # above the phone's "New" button while rows are selected
                role="region",
                aria_label="Bulk change",
                data_testid="bulk-bar",
            ),
        ),
        _confirm_dialog(),
    )


def bulk_bar_room() -> rx.Component:
    """Room below the table while the bulk bar floats, so it never hides the last rows."""
    return rx.cond(
        SessionState.can_edit & ((BulkState.selected_count > 0) | BulkState.all_matching),
        rx.box(height="10rem", aria_hidden="true"),
    )
