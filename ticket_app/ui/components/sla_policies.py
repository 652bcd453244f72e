"""The /service-levels page: SLA policies and business calendars; admins edit them.

Targets are shown in words and typed in business minutes; a calendar's hours are typed one
line per weekday (`09:00-12:00, 13:00-17:00`). Names are user text, shown as text only.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    FIELD_STYLE,
    PRIORITY_COLORS,
    error_alert,
    field_label,
    section_heading,
    table_headers,
    tone_style,
)
from ticket_app.ui.logic.sla_policies import TARGETS, WEEKDAYS
from ticket_app.ui.state.sla import (
    CALENDAR_FORM_HEADING_ID,
    HEADING_ID,
    NEW,
    POLICY_FORM_HEADING_ID,
    ServiceLevelsState,
)

State = ServiceLevelsState
WRAP = {"overflowWrap": "anywhere"}


def _error(errors: rx.Var[dict[str, str]], field: str, prefix: str) -> rx.Component:
    return rx.cond(
        errors.contains(field),
        rx.text(
            errors[field], id=f"{prefix}-{field}-error", size="1", color_scheme="red", role="alert"
        ),
    )


def _input(
    prefix: str,
    field: str,
    label: str,
    values: rx.Var[dict[str, str]],
    errors: rx.Var[dict[str, str]],
    **props,
) -> rx.Component:
    """A labelled, uncontrolled input starting at `values[field]`; its error shows under it."""
    field_id = f"{prefix}-{field.replace('_', '-')}"
    return rx.vstack(
        field_label(label, field_id),
        rx.input(
            id=field_id,
            name=field,
            default_value=values[field],
            aria_invalid=rx.cond(errors.contains(field), "true", "false"),
            aria_describedby=f"{prefix}-{field}-error",
            width="100%",
            **props,
        ),
        _error(errors, field, prefix),
        spacing="1",
        width="100%",
    )


def _form_buttons(saving: rx.Var[bool], on_cancel, save_id: str) -> rx.Component:
    return rx.hstack(
        rx.button("Save", type="submit", loading=saving, id=save_id),
        rx.button(
            "Cancel",
            type="button",
            variant="soft",
            color_scheme="gray",
            on_click=on_cancel,
            disabled=saving,
        ),
        spacing="2",
    )


def _policy_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.text(row["name"], weight="medium", style=WRAP),
            rx.cond(row["enabled"] == "no", rx.text("Disabled: sets no targets", size="1")),
        ),
        rx.table.cell(
            rx.badge(row["priority"], style=tone_style(row["priority"].lower(), PRIORITY_COLORS))
        ),
        rx.table.cell(row["category"]),
        *(
            rx.table.cell(row[field + "_text"], data_testid=f"policy-{field}")
            for field, _ in TARGETS
        ),
        rx.table.cell(rx.text(row["calendar"], style=WRAP)),
        rx.cond(
            State.may_edit,
            rx.table.cell(
                rx.button(
                    "Edit",
                    size="1",
                    variant="soft",
                    on_click=State.edit_policy(row["id"]),
                    aria_label="Edit policy " + row["name"],
                    id="edit-policy-" + row["id"],
                )
            ),
        ),
        data_testid="policy-row",
    )


def _policy_form() -> rx.Component:
    values, errors = State.policy_values, State.policy_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(
                    State.policy_heading,
                    size="4",
                    as_="h2",
                    id=POLICY_FORM_HEADING_ID,
                    tab_index=-1,
                    style={"outline": "none"},
                ),
                rx.text(
                    "Targets are business minutes of the calendar (60 is 1 hour, 480 is 8 "
                    "hours); leave one empty for no such target.",
                    size="2",
                    id="policy-form-help",
                ),
                _error(errors, "form", "policy"),
                rx.grid(
                    _input("policy", "name", "Name", values, errors, required=True, max_length=100),
                    rx.vstack(
                        field_label("Calendar", "policy-calendar-id"),
                        rx.el.select(
                            rx.foreach(
                                State.calendars,
                                lambda calendar: rx.el.option(
                                    calendar["name"], value=calendar["id"]
                                ),
                            ),
                            id="policy-calendar-id",
                            name="calendar_id",
                            default_value=values["calendar_id"],
                            style=FIELD_STYLE,
                        ),
                        _error(errors, "calendar_id", "policy"),
                        spacing="1",
                        width="100%",
                    ),
                    *(
                        _input(
                            "policy",
                            field,
                            f"{label} (minutes)",
                            values,
                            errors,
                            type="number",
                            min=1,
                            max=525600,
                            step=1,
                        )
                        for field, label in TARGETS
                    ),
                    columns=rx.breakpoints(initial="1", sm="2", md="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.el.label(
                    rx.hstack(
                        rx.el.input(
                            type="checkbox",
                            id="policy-enabled",
                            name="enabled",
                            default_checked=values["enabled"] == "yes",
                            style={"width": "1rem", "height": "1rem"},
                        ),
                        rx.text("Enabled (a disabled policy sets no targets)", size="2"),
                        spacing="2",
                        align="center",
                    ),
                    html_for="policy-enabled",
                ),
                _form_buttons(State.policy_saving, State.cancel_policy, "policy-save"),
                spacing="3",
                width="100%",
            ),
            key=State.policy_id,
            id="policy-form",
            on_submit=State.save_policy,
            reset_on_submit=False,
            aria_labelledby=POLICY_FORM_HEADING_ID,
            aria_describedby="policy-form-help",
        ),
        width="100%",
    )


def _calendar_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row["name"], weight="medium", style=WRAP)),
        rx.table.cell(row["time_zone"]),
        rx.table.cell(rx.text(row["hours"], size="2", style=WRAP)),
        rx.table.cell(rx.text(row["holidays"], size="2", style=WRAP)),
        rx.cond(
            State.may_edit,
            rx.table.cell(
                rx.button(
                    "Edit",
                    size="1",
                    variant="soft",
                    on_click=State.edit_calendar(row["id"]),
                    aria_label="Edit calendar " + row["name"],
                    id="edit-calendar-" + row["id"],
                )
            ),
        ),
        data_testid="calendar-row",
    )


def _calendar_form() -> rx.Component:
    values, errors = State.calendar_values, State.calendar_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(
                    State.calendar_heading,
                    size="4",
                    as_="h2",
                    id=CALENDAR_FORM_HEADING_ID,
                    tab_index=-1,
                    style={"outline": "none"},
                ),
                _error(errors, "form", "calendar"),
                rx.grid(
                    _input(
                        "calendar", "name", "Name", values, errors, required=True, max_length=100
                    ),
                    _input(
                        "calendar",
                        "time_zone",
                        "Time zone (IANA, e.g. Europe/Berlin)",
                        values,
                        errors,
                        required=True,
                        max_length=64,
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.el.fieldset(
                    rx.el.legend(rx.text("Opening hours (local time)", size="3", weight="bold")),
                    rx.text(
                        "One line per day, such as 09:00-12:00, 13:00-17:00 for a lunch break; "
                        "closed or empty for a closed day; 24:00 ends a day.",
                        size="1",
                    ),
                    rx.grid(
                        *(
                            _input("calendar", day, day.capitalize(), values, errors)
                            for day in WEEKDAYS
                        ),
                        columns=rx.breakpoints(initial="1", sm="2", md="4"),
                        spacing="3",
                        width="100%",
                    ),
                    style={
                        "border": "1px solid var(--gray-a6)",
                        "borderRadius": "var(--radius-3)",
                        "padding": "0.75rem",
                        "margin": 0,
                        "minWidth": 0,
                        "width": "100%",
                    },
                ),
                rx.grid(
                    _input(
                        "calendar",
                        "holiday_country",
                        "Public holidays of (country code, e.g. DE)",
                        values,
                        errors,
                        max_length=8,
                    ),
                    _input(
                        "calendar",
                        "holiday_subdivision",
                        "Region (e.g. BY)",
                        values,
                        errors,
                        max_length=16,
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.vstack(
                    field_label("Other closed days (one date per line)", "calendar-closed-dates"),
                    rx.text_area(
                        id="calendar-closed-dates",
                        name="closed_dates",
                        default_value=values["closed_dates"],
                        rows="3",
                        placeholder="2026-12-24",
                        aria_invalid=rx.cond(errors.contains("closed_dates"), "true", "false"),
                        aria_describedby="calendar-closed_dates-error",
                        width="100%",
                    ),
                    _error(errors, "closed_dates", "calendar"),
                    spacing="1",
                    width="100%",
                ),
                _form_buttons(State.calendar_saving, State.cancel_calendar, "calendar-save"),
                spacing="3",
                width="100%",
            ),
            key=State.calendar_id,
            id="calendar-form",
            on_submit=State.save_calendar,
            reset_on_submit=False,
            aria_labelledby=CALENDAR_FORM_HEADING_ID,
        ),
        width="100%",
    )


def _scrolling_table(*children: rx.Component, labelled_by: str) -> rx.Component:
    """A table that scrolls inside its own region on a narrow screen, not the whole page."""
    return rx.box(
        rx.table.root(*children, width="100%", aria_labelledby=labelled_by),
        style={"overflowX": "auto", "width": "100%"},
        tab_index=0,
        role="region",
        aria_labelledby=labelled_by,
    )


def service_levels_page_content() -> rx.Component:
    """Policies (targets per priority and category) and the calendars that count their time."""
    return rx.vstack(
        section_heading("Service levels", HEADING_ID),
        rx.text(
            "Each ticket follows the policy for its priority and category, else its "
            "priority's default. Targets count business time of the policy's calendar; a "
            "change is applied to open tickets in the background, within a minute for tens of "
            "thousands, keeping the time they have already spent.",
            size="2",
        ),
        error_alert(State.load_error, width="100%"),
        rx.cond(
            State.recheck_status != "",
            rx.callout(
                State.recheck_status,
                icon="refresh-cw",
                color_scheme="blue",
                high_contrast=True,
                size="1",
                width="100%",
                role="status",
                data_testid="recheck-status",
            ),
        ),
        rx.heading("Policies", size="3", as_="h3", id="policies-heading"),
        _scrolling_table(
            rx.table.header(
                rx.table.row(
                    *(
                        rx.table.column_header_cell(name)
                        for name in ("Policy", "Priority", "Category")
                    ),
                    *(rx.table.column_header_cell(label) for _, label in TARGETS),
                    rx.table.column_header_cell("Calendar"),
                    rx.cond(State.may_edit, rx.table.column_header_cell("Actions")),
                )
            ),
            rx.table.body(rx.foreach(State.policies, _policy_row)),
            labelled_by="policies-heading",
        ),
        rx.cond(State.policy_id != "", _policy_form()),
        rx.hstack(
            rx.heading("Business calendars", size="3", as_="h3", id="calendars-heading"),
            rx.cond(
                State.may_edit,
                rx.button(
                    rx.icon("plus", size=14, aria_hidden=True),
                    "New calendar",
                    size="1",
                    variant="soft",
                    on_click=State.edit_calendar(NEW),
                    id="new-calendar",
                ),
            ),
            justify="between",
            align="center",
            width="100%",
        ),
        _scrolling_table(
            rx.cond(
                State.may_edit,
                table_headers("Calendar", "Time zone", "Opening hours", "Closed on", ""),
                table_headers("Calendar", "Time zone", "Opening hours", "Closed on"),
            ),
            rx.table.body(rx.foreach(State.calendars, _calendar_row)),
            labelled_by="calendars-heading",
        ),
        rx.cond(State.calendar_id != "", _calendar_form()),
        spacing="4",
        width="100%",
    )
