"""The ticket's fields on its page: the details panel and its triage reading, the Edit dialog.

The properties (status, priority, category, assignee, tags, requester) are edited in place in
the side panel; the title and the customer's description only through the explicit Edit dialog.
Also the save feedback and the warning that someone else changed the ticket meanwhile. User text
is rendered as text, never as HTML; `white-space: pre-wrap` keeps its line breaks.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    CATEGORIES,
    CATEGORY_COLORS,
    FIELD_STYLE,
    PRE_WRAP,
    PRIORITIES,
    PRIORITY_COLORS,
    STATUS_COLORS,
    STATUSES,
    choices,
    error_alert,
    local_time,
    native_select,
    tone_style,
)
from ticket_app.ui.components.keyboard import remember_opener, return_focus
from ticket_app.ui.components.sla import sla_mark
from ticket_app.ui.components.ticket_tags import tags_field
from ticket_app.ui.components.triage import frustration_mark
from ticket_app.ui.state import SessionState
from ticket_app.ui.state.ticket_page import TicketPageState

State = TicketPageState

EDIT_DIALOG = "edit-ticket"
EDIT_BUTTON_ID = "edit-ticket"
SECTION_HEADING = {"size": "3", "as_": "h3", "margin_bottom": "0.5rem"}


def _label(text: str, field_id: str) -> rx.Component:
    return rx.el.label(
        rx.text(text, size="1", weight="medium", color_scheme="gray"), html_for=field_id
    )


def _field_error(field: str) -> rx.Component:
    return rx.cond(
        State.field_errors.contains(field),
        rx.text(
            State.field_errors[field],
            id=f"{field}-error",
            size="1",
            color_scheme="red",
            role="alert",
        ),
    )


def text_field(label: str, field: str, **props) -> rx.Component:
    """A labelled text field saved when it loses focus; viewers see the stored text.

    Uncontrolled (the browser holds what is typed), so nothing typed is lost to a slow or
    failed save; it remounts with the stored text when that changes (see `versions`).
    """
    field_id = f"ticket-{field.replace('_', '-')}"
    common = {
        "id": field_id,
        "default_value": State.fields[field],
        "key": f"{field}-" + State.versions[field].to_string(),
        "on_blur": lambda value: State.save_field(field, value),
        "aria_invalid": rx.cond(State.field_errors.contains(field), "true", "false"),
        "aria_describedby": f"{field}-error",
        "width": "100%",
        **props,
    }
    editor = rx.input(**common)
    shown = rx.text(
        rx.cond(State.fields[field] != "", State.fields[field], "—"),
        id=field_id,
        size="2",
        style=PRE_WRAP,
    )
    return rx.vstack(
        _label(label, field_id),
        rx.cond(SessionState.can_edit, editor, shown),
        _field_error(field),
        spacing="1",
        width="100%",
    )


def _choice_field(
    label: str, field: str, values: list[str], colors: dict[str, str]
) -> rx.Component:
    """A labelled status/priority/category select, saved on change; viewers see the value."""
    field_id = f"ticket-{field}"
    return rx.vstack(
        _label(label, field_id),
        native_select(
            choices(values),
            value=State.fields[field],
            on_change=lambda value: State.save_field(field, value),
            disabled=~SessionState.can_edit,
            id=field_id,
            style=tone_style(State.fields[field], colors),
        ),
        spacing="1",
    )


def _assignee_field() -> rx.Component:
    """The assignee picker: "Unassigned" and the staff who can be assigned."""
    return rx.vstack(
        _label("Assignee", "ticket-assignee"),
        rx.el.select(
            rx.foreach(
                State.assignees,
                lambda choice: rx.el.option(choice["label"], value=choice["value"]),
            ),
            value=State.fields["assignee_id"],
            on_change=lambda value: State.save_field("assignee_id", value),
            disabled=~SessionState.can_edit,
            id="ticket-assignee",
            style=FIELD_STYLE,
        ),
        spacing="1",
        width="100%",
    )


def _time(label: str, iso: rx.Var, test_id: str) -> rx.Component:
    return rx.text(
        label + " ",
        local_time(iso, focusable=True),
        size="1",
        color_scheme="gray",
        data_testid=test_id,
    )


def edit_button() -> rx.Component:
    """The "Edit" button beside the heading: opens the title and description dialog."""
    return rx.button(
        rx.icon("pencil", size=14, aria_hidden=True),
        "Edit",
        on_click=State.start_edit,
        size="2",
        variant="soft",
        id=EDIT_BUTTON_ID,
        aria_label="Edit title and description",
    )


def edit_dialog() -> rx.Component:
    """Title and description edited explicitly: Save stores what changed, Cancel drops it.

    Its inputs are uncontrolled and keyed by the round of editing, so what is typed survives
    the page taking in others' changes meanwhile; each saved field is audited by the service.
    Closing it gives focus back to the Edit button.
    """
    key = State.edit_round.to_string()
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit title and description"),
            rx.dialog.description(
                "The change is recorded in the ticket's history.", size="2", color_scheme="gray"
            ),
            rx.form(
                rx.vstack(
                    _label("Title", "edit-title"),
                    rx.input(
                        id="edit-title",
                        name="title",
                        default_value=State.fields["title"],
                        key="title-" + key,
                        max_length=200,
                        aria_invalid=rx.cond(State.field_errors.contains("title"), "true", "false"),
                        aria_describedby="title-error",
                        width="100%",
                    ),
                    _field_error("title"),
                    _label("Description", "edit-description"),
                    rx.text_area(
                        id="edit-description",
                        name="description",
                        default_value=State.fields["description"],
                        key="description-" + key,
                        rows="10",
                        resize="vertical",
                        aria_invalid=rx.cond(
                            State.field_errors.contains("description"), "true", "false"
                        ),
                        aria_describedby="description-error",
                        width="100%",
                    ),
                    _field_error("description"),
                    error_alert(State.save_error, width="100%"),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button(
                            "Save",
                            type="submit",
                            loading=State.edit_saving,
                            # The solid accent measured 4.28:1 in the dark theme's dialog.
                            high_contrast=True,
                        ),
                        spacing="3",
                        justify="end",
                        width="100%",
                    ),
                    spacing="2",
                    width="100%",
                    margin_top="0.75rem",
                ),
                on_submit=State.save_edit,
                reset_on_submit=False,
            ),
            max_width="40rem",
            on_open_auto_focus=remember_opener(EDIT_DIALOG),
            on_close_auto_focus=return_focus(EDIT_DIALOG, EDIT_BUTTON_ID),
        ),
        open=State.editing,
        on_open_change=State.edit_dialog_changed,
    )


def save_feedback() -> rx.Component:
    """What happened to the last save: a polite status line, or an alert when it failed."""
    return rx.box(
        rx.text(
            State.save_note,
            size="2",
            color_scheme="gray",
            role="status",
            data_testid="save-note",
        ),
        error_alert(State.save_error, test_id="save-error"),
    )


def conflict_warning() -> rx.Component:
    """Someone else changed the ticket since it was opened: reload, or apply this version."""
    return rx.cond(
        State.conflict_by != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("users", aria_hidden=True)),
            rx.vstack(
                rx.callout.text(
                    rx.el.strong(State.conflict_by),
                    " changed this ticket after you opened it.",
                    rx.cond(
                        State.pending_text != "",
                        rx.fragment(" Your change (", State.pending_text, ") was not saved."),
                    ),
                ),
                rx.hstack(
                    rx.button(
                        rx.icon("refresh-cw", size=14, aria_hidden=True),
                        "Reload",
                        on_click=State.reload,
                        size="1",
                        variant="soft",
                        high_contrast=True,
                    ),
                    rx.button(
                        "Apply anyway",
                        on_click=State.apply_anyway,
                        size="1",
                        color_scheme="orange",
                        high_contrast=True,
                    ),
                    spacing="2",
                ),
                spacing="2",
            ),
            color_scheme="orange",
            high_contrast=True,
            role="alert",
            data_testid="conflict-warning",
            width="100%",
        ),
    )


def details_panel() -> rx.Component:
    """The side panel: status, priority, category, assignee, tags, requester, AI reading, times."""
    fields = State.fields
    return rx.card(
        rx.vstack(
            rx.heading("Details", **SECTION_HEADING),
            rx.cond(fields["sla_text"] != "", sla_mark(fields["sla_text"], fields["sla_tone"])),
            # Wrapping rather than three fixed columns: the selects size to their values
            # ("In progress" is wider than a third of the panel beside the ticket).
            rx.flex(
                _choice_field("Status", "status", STATUSES, STATUS_COLORS),
                _choice_field("Priority", "priority", PRIORITIES, PRIORITY_COLORS),
                _choice_field("Category", "category", CATEGORIES, CATEGORY_COLORS),
                wrap="wrap",
                spacing="3",
                width="100%",
            ),
            _assignee_field(),
            tags_field(),
            text_field("Requester name", "requester_name", max_length=100),
            text_field("Requester email", "requester_email", type="email", max_length=254),
            _triage_reading(),
            _time("Created", fields["created_iso"], "created-at"),
            _time("Updated", fields["updated_iso"], "updated-at"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _reading_line(label: str, value: rx.Var[str], test_id: str) -> rx.Component:
    """One labelled line of the triage reading, left out when there is nothing to say."""
    return rx.cond(
        value != "",
        rx.text(
            rx.el.span(label + ": ", style={"fontWeight": "500"}),
            value,
            size="2",
            data_testid=test_id,
            # A suggested title can be one long unbroken string (a URL, an id).
            overflow_wrap="anywhere",
        ),
    )


def _triage_reading() -> rx.Component:
    """What the AI read at creation: suggestion (source, confidence), language, tone, mood."""
    fields = State.fields
    return rx.box(
        rx.text("AI suggestion", size="1", weight="medium", color_scheme="gray"),
        rx.text(
            rx.cond(fields["suggestion"] != "", fields["suggestion"], "None recorded"),
            size="2",
            data_testid="ai-suggestion",
        ),
        _reading_line("Suggested title", fields["suggested_title"], "ai-title"),
        _reading_line("Language", fields["language"], "ticket-language"),
        _reading_line("Tone", fields["sentiment"], "ticket-sentiment"),
        rx.cond(fields["frustrated"] != "", frustration_mark(with_text=True)),
    )
