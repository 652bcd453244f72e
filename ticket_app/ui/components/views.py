"""The views in the navigation, built-in and saved, and the "Save view" dialog.

A view is the list's filters, search and sort under a name (`NavState`); its link shows its
live count, and a saved view offers its owner (and admins) a delete button, which asks first
(naming the view and who else loses it) and offers Undo in its toast.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import confirm_dialog, field_error, field_label
from ticket_app.ui.state import SessionState, TicketListState
from ticket_app.ui.state.views import VIEW_ICONS, NavState

NAV_ITEM_STYLE = {
    "display": "flex",
    "alignItems": "center",
    "gap": "var(--space-2)",
    "padding": "var(--space-1) var(--space-2)",
    "borderRadius": "var(--radius-2)",
    "color": "var(--gray-12)",
    "textDecoration": "none",
    "whiteSpace": "nowrap",
    "minHeight": "2.25rem",
    "&:hover": {"background": "var(--gray-a3)"},
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "1px"},
    "&[aria-current='page']": {"background": "var(--accent-a4)", "fontWeight": "600"},
}


def _count(value: rx.Var[str], test_id: str) -> rx.Component:
    return rx.text(
        value,
        size="1",
        color_scheme="gray",
        high_contrast=True,
        margin_left="auto",
        padding_left="0.75rem",
        data_testid=test_id,
    )


def _view_icon(name: rx.Var[str]) -> rx.Component:
    """The row's icon, chosen among VIEW_ICONS in the browser.

    Each is a static import: `rx.icon` of a name known only in the browser loads lucide's
    dynamic icon map (an entry for each of its ~1,600 icons, evaluated with the page's code) and
    fetches the icon after the first render.
    """
    return rx.match(
        name,
        *((icon, rx.icon(icon, size=16, aria_hidden=True)) for icon in VIEW_ICONS),
        rx.fragment(),
    )


def view_link(item: rx.Var[dict[str, str]], test_id: str) -> rx.Component:
    """One view: icon, name and count; marked as current when the list shows it."""
    return rx.link(
        _view_icon(item["icon"].to(str)),
        rx.text(item["label"], size="2"),
        _count(item["count"], f"{test_id}-count"),
        href=item["href"].to(str),
        aria_current=rx.cond(item["href"] == NavState.active_href, "page", "false"),
        style=NAV_ITEM_STYLE,
        underline="none",
        data_testid=test_id,
        data_view=item["label"],
    )


def saved_view(item: rx.Var[dict[str, str]]) -> rx.Component:
    """A saved view with a delete button for its owner (and admins)."""
    return rx.hstack(
        rx.box(view_link(item, "saved-view"), flex="1", min_width="0"),
        rx.cond(
            (item["own"] == "yes") | SessionState.is_admin,
            rx.icon_button(
                rx.icon("trash-2", size=14),
                size="1",
                variant="ghost",
                color_scheme="gray",
                high_contrast=True,
                aria_label="Delete view " + item["label"].to(str),
                aria_haspopup="dialog",
                on_click=NavState.ask_delete(item["id"].to(str)),
                data_testid="delete-view",
            ),
        ),
        spacing="1",
        align="center",
        width="100%",
    )


def delete_view_dialog() -> rx.Component:
    """Confirm deleting a saved view: its name, and who sees it (everyone, for a shared one)."""
    return confirm_dialog(
        name="delete-view",
        title="Delete the view “" + NavState.delete_name + "”?",
        description=NavState.delete_note,
        confirm_text="Delete view",
        is_open=NavState.delete_id != "",
        on_open_change=NavState.delete_dialog_changed,
        on_confirm=NavState.delete(NavState.delete_id),
        busy=rx.Var.create(False),
        fallback_id="nav-dashboard",
        test_id="confirm-delete-view",
    )


def save_view_dialog() -> rx.Component:
    """A button that opens the dialog; admins may share the view with the team."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("bookmark-plus", size=14),
                "Save view",
                variant="soft",
                size="1",
                id="save-view",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Save view"),
            rx.dialog.description(
                "Keeps what the list shows in the navigation: ",
                rx.el.strong(TicketListState.described),
                size="2",
            ),
            rx.form(
                rx.vstack(
                    field_label("Name", "view-name"),
                    rx.input(
                        id="view-name",
                        name="name",
                        value=NavState.new_name,
                        on_change=NavState.set_new_name,
                        placeholder="e.g. Critical billing",
                        aria_describedby="view-name-error",
                        auto_focus=True,
                        width="100%",
                    ),
                    field_error(NavState.save_error, "view-name-error"),
                    rx.el.input(type="hidden", name="query", value=TicketListState.query_string),
                    rx.cond(
                        SessionState.is_admin,
                        rx.el.label(
                            rx.hstack(
                                rx.checkbox(
                                    checked=NavState.new_shared,
                                    on_change=NavState.set_new_shared,
                                    name="shared",
                                    aria_label="Share with the team",
                                ),
                                rx.text("Share with the team", size="2"),
                                align="center",
                            ),
                        ),
                    ),
                    rx.flex(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Save", type="submit", id="save-view-submit"),
                        spacing="3",
                        justify="end",
                        width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
                on_submit=NavState.save,
                reset_on_submit=False,
            ),
            max_width="26rem",
        ),
        open=NavState.save_open,
        on_open_change=NavState.open_save,
    )
