"""The "Save view" dialog: the list's filters, search and sort under a name."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import field_error, field_label
from ticket_app.ui.state import SessionState, TicketListState
from ticket_app.ui.state.views import NavState


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
