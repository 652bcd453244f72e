"""The ticket's fields on its page: edited in place, the details panel and its triage reading.

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
    native_select,
    tone_style,
)
from ticket_app.ui.components.sla import sla_mark
from ticket_app.ui.components.ticket_tags import tags_field
from ticket_app.ui.components.triage import frustration_mark
from ticket_app.ui.state import SessionState
from ticket_app.ui.state.ticket_page import TicketPageState

State = TicketPageState

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


def text_field(label: str, field: str, *, multiline: bool = False, **props) -> rx.Component:
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
    editor = (
        rx.text_area(rows="8", resize="vertical", **common) if multiline else rx.input(**common)
    )
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


def _time(label: str, exact: rx.Var, iso: rx.Var, test_id: str) -> rx.Component:
    return rx.text(
        label + " ",
        rx.el.time(exact, date_time=iso),
        size="1",
        color_scheme="gray",
        data_testid=test_id,
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
            text_field("Requester name", "requester_name", max_length=120),
            text_field("Requester email", "requester_email", type="email", max_length=254),
            _triage_reading(),
            _time("Created", fields["created_exact"], fields["created_iso"], "created-at"),
            _time("Updated", fields["updated_exact"], fields["updated_iso"], "updated-at"),
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
