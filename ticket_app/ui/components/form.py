"""The new-ticket form with AI pre-fill of category, priority and an empty title.

While the description is typed it also lists similar open tickets, so a known incident is
spotted before it is filed again.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    CATEGORIES,
    PRIORITIES,
    STATUS_COLORS,
    choices,
    document_link,
    error_alert,
    field_error,
    field_label,
    native_select,
    screen_reader_text,
)
from ticket_app.ui.state import TicketFormState

_BADGE_WRAP = {"white_space": "normal", "align_self": "start", "max_width": "100%"}
# Focusing a title that holds the AI's suggestion selects it, so typing replaces it whole.
SELECT_SUGGESTED_TITLE = (
    "const el = document.getElementById('ticket-title');"
    "if (el && el.dataset.aiSuggestion === 'true') el.select();"
)
SIMILAR_LINK = {
    "color": "var(--accent-11)",
    "fontWeight": "500",
    "textDecoration": "underline",
    "overflowWrap": "anywhere",
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "2px"},
}


def _ai_hint(
    from_ai: rx.Var[bool],
    badge: rx.Var[str],
    touched: rx.Var[bool],
    overridden: rx.Var[bool],
    suggested: rx.Var[str],
    test_id: str,
) -> rx.Component:
    """Badge saying the value is an AI suggestion, or that the user overrode it."""
    return rx.cond(
        from_ai,
        rx.badge(badge, color_scheme="violet", variant="soft", data_testid=test_id, **_BADGE_WRAP),
        rx.cond(
            touched & overridden,
            rx.badge(
                "Overridden · AI suggested " + suggested,
                color_scheme="orange",
                variant="soft",
                data_testid=test_id,
                **_BADGE_WRAP,
            ),
        ),
    )


def _select_field(
    label: str,
    field_id: str,
    name: str,
    values: list[str],
    value: rx.Var[str],
    on_change: rx.EventHandler,
    hint: rx.Component,
) -> rx.Component:
    """A labelled select with its AI hint below."""
    return rx.vstack(
        field_label(label, field_id),
        native_select(
            choices(values, first=("", "Auto (AI decides)")),
            value=value,
            on_change=on_change,
            id=field_id,
            name=name,  # the form data's key (Reflex 0.11 drops `id` keys)
        ),
        hint,
        spacing="1",
        width="100%",
        align="stretch",
    )


def _similar_item(row: rx.Var[dict[str, str]]) -> rx.Component:
    """One similar ticket: its title linking to its page in a new tab, status and score."""
    return rx.el.li(
        rx.flex(
            rx.text("#" + row["id"], size="2", color_scheme="gray"),
            document_link(
                row["title"],
                screen_reader_text(" (opens in a new tab)"),
                href="/tickets/" + row["id"],
                target="_blank",
                rel="noopener noreferrer",
                data_testid="similar-link",
                style=SIMILAR_LINK,
            ),
            rx.badge(
                row["status_label"],
                color_scheme=rx.match(row["status"], *STATUS_COLORS.items(), "gray"),
                variant="soft",
            ),
            rx.text(row["score"] + " similar", size="1", data_testid="similar-score"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        data_testid="similar-ticket",
        data_ticket_id=row["id"],
        # A wrapped item (narrow screens) must not read as part of the one above.
        style={
            "padding": "0.375rem 0",
            "&:not(:first-of-type)": {"borderTop": "1px solid var(--amber-a6)"},
        },
    )


def similar_tickets() -> rx.Component:
    """Open tickets like the one being typed ("Possibly the same as: …"); nothing when none.

    The live region is always in the page, so screen readers announce the list when it fills.
    """
    state = TicketFormState
    return rx.box(
        rx.cond(
            state.similar.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("copy", aria_hidden=True)),
                rx.box(
                    rx.callout.text("Possibly the same as:", weight="medium", id="similar-heading"),
                    rx.el.ul(
                        rx.foreach(state.similar, _similar_item),
                        aria_labelledby="similar-heading",
                        style={"listStyle": "none", "padding": 0, "margin": "0.25rem 0 0"},
                    ),
                ),
                color_scheme="amber",
                variant="surface",
                width="100%",
            ),
        ),
        aria_live="polite",
        data_testid="similar-tickets",
        width="100%",
    )


def _requester_field(
    label: str, field: str, value: rx.Var[str], on_change: rx.EventHandler, **props
) -> rx.Component:
    """One optional requester field (name or e-mail) with its validation message."""
    field_id = "ticket-" + field.replace("_", "-")
    error = TicketFormState.errors.get(field, "").to(str)
    return rx.vstack(
        field_label(label, field_id),
        rx.input(
            id=field_id,
            name=field,
            value=value,
            on_change=on_change,
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=field_id + "-error",
            width="100%",
            **props,
        ),
        field_error(error, field_id + "-error"),
        spacing="1",
        width="100%",
        align="stretch",
    )


def _requester_fields() -> rx.Component:
    """Who asked: name and e-mail address, both optional (side by side on wide screens)."""
    state = TicketFormState
    return rx.grid(
        _requester_field(
            "Requester name",
            "requester_name",
            state.requester_name,
            state.set_requester_name,
            max_length=100,
            auto_complete="off",
        ),
        _requester_field(
            "Requester e-mail",
            "requester_email",
            state.requester_email,
            state.set_requester_email,
            type="email",
            max_length=254,
            auto_complete="off",
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="3",
        width="100%",
    )


def ticket_form() -> rx.Component:
    """The submit form: title with live count, debounced description, AI-filled selects."""
    state = TicketFormState
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New ticket", size="4", as_="h2"),
                rx.vstack(
                    rx.hstack(
                        field_label("Title", "ticket-title"),
                        rx.spacer(),
                        rx.cond(
                            state.title_from_ai,
                            rx.badge(
                                "AI suggestion · typing replaces it",
                                id="ticket-title-ai",
                                color_scheme="violet",
                                variant="soft",
                                data_testid="title-hint",
                            ),
                        ),
                        rx.text(
                            state.title_count,
                            size="1",
                            color_scheme=rx.cond(state.title_too_long, "red", "gray"),
                            data_testid="title-count",
                            aria_live="polite",
                        ),
                        width="100%",
                    ),
                    rx.input(
                        id="ticket-title",
                        name="title",
                        value=state.title,
                        on_change=state.set_title,
                        on_focus=rx.call_script(SELECT_SUGGESTED_TITLE),
                        placeholder="Short summary, or let the AI suggest one",
                        aria_required="true",
                        aria_invalid=rx.cond(state.title_error != "", "true", "false"),
                        aria_describedby="ticket-title-error ticket-title-ai",
                        data_ai_suggestion=rx.cond(state.title_from_ai, "true", "false"),
                        width="100%",
                    ),
                    field_error(state.title_error, "ticket-title-error"),
                    spacing="1",
                    width="100%",
                    align="stretch",
                ),
                rx.vstack(
                    rx.hstack(
                        field_label("Description", "ticket-description"),
                        rx.spacer(),
                        rx.cond(
                            state.classifying,
                            rx.hstack(
                                rx.spinner(size="1"),
                                rx.text("AI is reading…", size="1"),
                                spacing="1",
                                align="center",
                                data_testid="classifying",
                                role="status",
                            ),
                        ),
                        rx.cond(
                            state.description_near_limit,
                            rx.text(
                                state.description_count,
                                size="1",
                                color_scheme=rx.cond(state.description_too_long, "red", "gray"),
                                data_testid="description-count",
                                aria_live="polite",
                            ),
                        ),
                        width="100%",
                        align="center",
                    ),
                    rx.debounce_input(
                        rx.text_area(
                            id="ticket-description",
                            name="description",
                            value=state.description,
                            on_change=state.set_description,
                            placeholder="What happened? The AI suggests a category and priority.",
                            rows="5",
                            aria_required="true",
                            aria_describedby="ticket-description-error",
                            width="100%",
                        ),
                        debounce_timeout=600,
                        force_notify_on_blur=True,
                    ),
                    field_error(state.description_error, "ticket-description-error"),
                    similar_tickets(),
                    rx.cond(
                        state.classify_note != "",
                        rx.text(
                            state.classify_note,
                            size="1",
                            color_scheme="gray",
                            data_testid="classify-note",
                        ),
                    ),
                    spacing="1",
                    width="100%",
                    align="stretch",
                ),
                _requester_fields(),
                rx.grid(
                    _select_field(
                        "Category",
                        "ticket-category",
                        "category",
                        CATEGORIES,
                        state.category,
                        state.set_category,
                        _ai_hint(
                            state.category_from_ai,
                            state.category_badge,
                            state.category_touched,
                            state.category_overridden,
                            state.suggested_category,
                            "category-hint",
                        ),
                    ),
                    _select_field(
                        "Priority",
                        "ticket-priority",
                        "priority",
                        PRIORITIES,
                        state.priority,
                        state.set_priority,
                        _ai_hint(
                            state.priority_from_ai,
                            state.priority_badge,
                            state.priority_touched,
                            state.priority_overridden,
                            state.suggested_priority,
                            "priority-hint",
                        ),
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.cond(
                    state.suggestion_reason != "",
                    rx.text(
                        "Why: " + state.suggestion_reason,
                        size="1",
                        color_scheme="gray",
                        trim="both",
                    ),
                ),
                error_alert(state.form_error, test_id="form-error", width="100%"),
                rx.button(
                    "Submit ticket",
                    type="submit",
                    loading=state.submitting,
                    id="submit-ticket",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                align="stretch",
            ),
            on_submit=state.submit,
            reset_on_submit=False,
            aria_label="New ticket",
            # The server checks the e-mail address and says why, under the field.
            no_validate=True,
        ),
        width="100%",
    )
