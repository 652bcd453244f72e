"""The page of one ticket: its fields, the timeline, the composer and the conflict warning.

Also the triage reading (AI suggestion, language, tone, frustration), similar open tickets with
"Merge into #N", and the links between a duplicate and the ticket it was merged into.

User text (title, description, comments) is rendered as text, never as HTML or Markdown;
`white-space: pre-wrap` keeps its line breaks.
"""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.common import (
    CATEGORIES,
    CATEGORY_COLORS,
    FIELD_STYLE,
    PRIORITIES,
    PRIORITY_COLORS,
    STATUS_COLORS,
    STATUSES,
    choices,
    error_alert,
    native_select,
    tone_style,
)
from ticket_app.ui.components.keyboard import remember_opener, return_focus
from ticket_app.ui.components.mail import (
    channel_badge,
    delivery_line,
    file_list,
    raw_mail_link,
    requester_panel,
)
from ticket_app.ui.components.triage import frustration_mark
from ticket_app.ui.state import SessionState
from ticket_app.ui.state.ticket_page import (
    FAILED,
    NOT_FOUND,
    READY,
    TicketPageState,
)

State = TicketPageState

# Esc and "Back to list" go back in the browser's history when the page before was the list, so
# it comes back with its filters and scroll position; otherwise the link is followed to the
# list. The Navigation API tells what the previous entry was; without it the link is followed.
# Esc is left alone while typing, in menus and in dialogs (Esc closes those first).
BACK_NAVIGATION_HOOK = """
useEffect(() => {
    const previousIsList = () => {
        const nav = window.navigation;
        if (!nav || !nav.currentEntry || nav.currentEntry.index < 1) return false;
        const previous = nav.entries()[nav.currentEntry.index - 1];
        return Boolean(previous && previous.url) && new URL(previous.url).pathname === '/';
    };
    const onClick = (event) => {
        const link = event.target.closest ? event.target.closest('#back-to-list') : null;
        if (!link || event.button !== 0) return;
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        if (previousIsList()) {
            event.preventDefault();
            event.stopPropagation();
            window.history.back();
        }
    };
    const onKeyDown = (event) => {
        if (event.key !== 'Escape' || event.defaultPrevented) return;
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        const typing = 'input:not([type=radio]):not([type=checkbox]), textarea, '
            + '[contenteditable=""], [contenteditable="true"], [role=menu], [role=listbox]';
        if (event.target.closest && event.target.closest(typing)) return;
        if (document.querySelector('[role=dialog], [role=alertdialog]')) return;
        const link = document.getElementById('back-to-list');
        if (link) link.click();
    };
    document.addEventListener('click', onClick, true);
    document.addEventListener('keydown', onKeyDown);
    return () => {
        document.removeEventListener('click', onClick, true);
        document.removeEventListener('keydown', onKeyDown);
    };
}, []);
"""

PRE_WRAP = {"whiteSpace": "pre-wrap", "overflowWrap": "anywhere"}
SECTION_HEADING = {"size": "3", "as_": "h3", "margin_bottom": "0.5rem"}


def back_link() -> rx.Component:
    """The "Back to list" link: history back when the list came before (see the hook)."""
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=16, aria_hidden=True), "Back to list", spacing="1"),
        href="/",
        id="back-to-list",
        size="2",
        aria_keyshortcuts="Escape",
    )


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


def _text_field(label: str, field: str, *, multiline: bool = False, **props) -> rx.Component:
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


def _save_feedback() -> rx.Component:
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


def _properties() -> rx.Component:
    """The side panel: status, priority, category, assignee, requester, AI suggestion, times."""
    fields = State.fields
    return rx.card(
        rx.vstack(
            rx.heading("Details", **SECTION_HEADING),
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
            _text_field("Requester name", "requester_name", max_length=120),
            _text_field("Requester email", "requester_email", type="email", max_length=254),
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


def _duplicate_links() -> rx.Component:
    """The "Duplicate of #N" link on a merged ticket, "Duplicates: #M, …" on the kept one."""
    duplicate_of = State.fields["duplicate_of"]
    return rx.fragment(
        rx.cond(
            duplicate_of != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("copy", aria_hidden=True)),
                rx.callout.text(
                    "Duplicate of ",
                    rx.link(
                        "#" + duplicate_of,
                        href="/tickets/" + duplicate_of,
                        data_testid="duplicate-of-link",
                        underline="always",
                        weight="medium",
                    ),
                    " (closed when it was merged).",
                ),
                color_scheme="gray",
                data_testid="duplicate-of",
                width="100%",
            ),
        ),
        rx.cond(
            State.duplicates.length() > 0,
            rx.text(
                "Duplicates: ",
                rx.foreach(
                    State.duplicates,
                    lambda ticket_id: rx.link(
                        "#" + ticket_id,
                        href="/tickets/" + ticket_id,
                        data_testid="duplicate-link",
                        underline="always",
                        margin_right="0.5rem",
                    ),
                ),
                size="2",
                data_testid="duplicates",
            ),
        ),
    )


def _similar_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    """A similar ticket: link, status and score, and "Merge into #N" for agents and admins."""
    return rx.el.li(
        rx.vstack(
            rx.link(
                "#" + row["id"] + " " + row["title"],
                href="/tickets/" + row["id"],
                data_testid="similar-link",
                size="2",
                weight="medium",
                style={"overflowWrap": "anywhere"},
            ),
            rx.flex(
                rx.text(row["status_label"], size="1"),
                rx.text("·", size="1", aria_hidden=True),
                rx.text(row["score"] + " similar", size="1", data_testid="similar-score"),
                rx.spacer(),
                rx.cond(
                    SessionState.can_edit & (State.fields["duplicate_of"] == ""),
                    rx.button(
                        "Merge into #" + row["id"],
                        on_click=State.ask_merge(row["id"]),
                        size="1",
                        variant="soft",
                        aria_haspopup="dialog",
                        id="merge-into-" + row["id"],
                        data_testid="merge-button",
                    ),
                ),
                spacing="2",
                align="center",
                width="100%",
                wrap="wrap",
            ),
            spacing="1",
            width="100%",
        ),
        data_testid="similar-ticket",
        data_ticket_id=row["id"],
        style={"marginBottom": "0.75rem"},
    )


def similar_section() -> rx.Component:
    """Up to five similar open tickets with their scores; merge refusals show as an alert."""
    return rx.card(
        rx.vstack(
            rx.heading("Similar open tickets", id="similar-heading", **SECTION_HEADING),
            error_alert(State.merge_error, test_id="merge-error", width="100%"),
            rx.cond(
                State.similar.length() > 0,
                rx.el.ul(
                    rx.foreach(State.similar, _similar_row),
                    aria_labelledby="similar-heading",
                    style={"listStyle": "none", "padding": 0, "margin": 0, "width": "100%"},
                ),
                rx.text("None found.", size="2", data_testid="no-similar"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid="similar-section",
    )


def merge_dialog() -> rx.Component:
    """Confirm merging this ticket into the chosen one, naming both.

    Opened from state (no trigger), by the row's "Merge into #N". Cancel has focus when it opens
    (Radix's alert dialog focuses its `cancel`), so Enter alone never merges, and Tab stays
    inside. When it closes, focus goes back to that "Merge into #N" button; after a merge that
    button is gone, and the ticket's heading (followed by the "Duplicate of" banner) gets it.
    """
    this = "#" + State.fields["id"] + " (" + State.fields["title"] + ")"
    into = "#" + State.merge_into + " (" + State.merge_into_title + ")"
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                "Merge #" + State.fields["id"] + " into #" + State.merge_into + "?"
            ),
            rx.alert_dialog.description(
                "Ticket " + this + " will be closed as a duplicate of " + into + ". Its "
                "requester follows the conversation of #" + State.merge_into + ".",
                size="2",
            ),
            rx.flex(
                # No on_click here: Reflex would wrap the button in a <div>, which Radix would
                # then try to focus. Cancel closes through on_open_change (merge_dialog_changed).
                rx.alert_dialog.cancel(
                    rx.button(
                        "Cancel",
                        variant="soft",
                        color_scheme="gray",
                        disabled=State.merging,
                    ),
                ),
                rx.button(
                    "Merge into #" + State.merge_into,
                    on_click=State.confirm_merge,
                    loading=State.merging,
                    data_testid="confirm-merge",
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            on_open_auto_focus=remember_opener("merge"),
            on_close_auto_focus=return_focus("merge", "ticket-heading"),
        ),
        open=State.merge_into != "",
        on_open_change=State.merge_dialog_changed,
    )


def _comment(row: rx.Var[dict[str, str]]) -> rx.Component:
    """A reply or an internal note: told apart by label, icon and colour."""
    is_reply = row["kind"] == "reply"
    tone = rx.cond(is_reply, "var(--accent-a3)", "var(--amber-a3)")
    edge = rx.cond(is_reply, "var(--accent-8)", "var(--amber-9)")
    return rx.box(
        rx.hstack(
            rx.cond(
                is_reply,
                rx.icon("message-square", size=16, aria_hidden=True),
                rx.icon("lock", size=16, aria_hidden=True),
            ),
            rx.text(
                rx.cond(is_reply, "Public reply", "Internal note"),
                size="1",
                weight="bold",
                data_testid="comment-kind",
            ),
            channel_badge(row),
            rx.text(row["who"], size="1", weight="medium", data_testid="comment-author"),
            rx.text(rx.el.time(row["when"], date_time=row["when_iso"]), size="1"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(row["body"], size="2", style=PRE_WRAP, margin_top="0.25rem"),
        rx.cond(
            row["delivery"] != "",
            delivery_line(row, resending=State.resending, on_resend=State.resend_mail),
        ),
        rx.cond(
            row["file_count"] != "0",
            file_list(
                State.comment_files[row["comment_id"]],
                "Files of this message",
                "comment-files",
            ),
        ),
        rx.cond(row["raw_url"] != "", raw_mail_link(row["raw_url"])),
        background=tone,
        border_left=rx.Var.create("4px solid ") + edge,
        border_radius="var(--radius-2)",
        padding="0.5rem 0.75rem",
    )


def _event(row: rx.Var[dict[str, str]]) -> rx.Component:
    """An audit line: what changed, who, when."""
    return rx.hstack(
        rx.icon("history", size=14, aria_hidden=True, color=rx.color("gray", 11)),
        rx.text(
            rx.el.span(row["what"], style={"fontWeight": "500"}),
            " · " + row["who"] + " · ",
            rx.el.time(row["when"], date_time=row["when_iso"]),
            size="1",
            color_scheme="gray",
        ),
        spacing="2",
        align="center",
        padding_x="0.25rem",
    )


def _timeline_entry(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.cond(row["kind"] == "event", _event(row), _comment(row)),
        data_testid="timeline-entry",
        data_kind=row["kind"],
        style={"marginBottom": "0.5rem"},
    )


def timeline() -> rx.Component:
    """The audit events and the conversation, oldest first."""
    return rx.box(
        rx.heading("Timeline", id="timeline-heading", **SECTION_HEADING),
        rx.el.ol(
            rx.foreach(State.timeline, _timeline_entry),
            aria_labelledby="timeline-heading",
            style={"listStyle": "none", "padding": 0, "margin": 0},
        ),
        width="100%",
    )


def composer() -> rx.Component:
    """Reply to the requester or add an internal note; failed sends keep the text."""
    return rx.form(
        rx.vstack(
            rx.heading("Add to the conversation", **SECTION_HEADING),
            rx.radio_group.root(
                rx.hstack(
                    rx.el.label(
                        rx.hstack(
                            rx.radio_group.item(value="reply", id="composer-reply"),
                            rx.icon("message-square", size=14, aria_hidden=True),
                            rx.text("Reply", size="2"),
                            align="center",
                            spacing="1",
                        )
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.radio_group.item(value="note", id="composer-note"),
                            rx.icon("lock", size=14, aria_hidden=True),
                            rx.text("Internal note", size="2"),
                            align="center",
                            spacing="1",
                        )
                    ),
                    spacing="4",
                ),
                value=rx.cond(State.public_reply, "reply", "note"),
                on_change=State.set_public_reply,
                aria_label="Kind of message",
            ),
            rx.text(
                State.composer_hint,
                size="1",
                id="composer-hint",
                data_testid="composer-hint",
                style={"overflowWrap": "anywhere"},
            ),
            rx.text_area(
                name="body",
                id="composer-body",
                rows="5",
                resize="vertical",
                placeholder=rx.cond(State.public_reply, "Write a reply…", "Write a note…"),
                aria_label=rx.cond(State.public_reply, "Reply text", "Internal note text"),
                aria_describedby="composer-hint composer-error",
                width="100%",
            ),
            rx.cond(
                State.composer_error != "",
                rx.text(
                    State.composer_error,
                    id="composer-error",
                    size="2",
                    color_scheme="red",
                    role="alert",
                    data_testid="composer-error",
                ),
            ),
            rx.button(
                rx.cond(
                    State.public_reply,
                    rx.icon("send", size=14, aria_hidden=True),
                    rx.icon("lock", size=14, aria_hidden=True),
                ),
                State.composer_action,
                type="submit",
                loading=State.sending,
                id="composer-submit",
                color_scheme=rx.cond(State.public_reply, "indigo", "amber"),
                high_contrast=~State.public_reply,
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=State.send_comment,
        reset_on_submit=False,
        padding="0.75rem",
        border_radius="var(--radius-3)",
        background=rx.cond(State.public_reply, "var(--accent-a2)", "var(--amber-a3)"),
        border=rx.cond(
            State.public_reply, "1px solid var(--accent-a6)", "1px dashed var(--amber-9)"
        ),
        width="100%",
    )


# Wide screens: the ticket and its conversation on the left, the details beside them. Phones:
# the details come right after the description, before the (long) conversation.
VIEW_AREAS = rx.breakpoints(initial='"head" "side" "talk"', md='"head side" "talk side"')
VIEW_COLUMNS = rx.breakpoints(initial="minmax(0, 1fr)", md="minmax(0, 2fr) minmax(16rem, 1fr)")


def _ticket_view() -> rx.Component:
    """The loaded ticket: heading, warnings, fields, timeline and composer."""
    fields = State.fields
    head = rx.vstack(
        rx.heading(
            "#" + fields["id"] + " " + fields["title"],
            as_="h2",
            size="6",
            id="ticket-heading",
            tab_index=-1,
            style={"overflowWrap": "anywhere", "outline": "none"},
        ),
        _duplicate_links(),
        conflict_warning(),
        error_alert(State.load_error, announce=False, width="100%"),
        _save_feedback(),
        rx.cond(SessionState.can_edit, _text_field("Title", "title", max_length=200)),
        _text_field("Description", "description", multiline=True),
        rx.cond(
            State.files.length() > 0,
            file_list(
                State.files, "Files from the requester's e-mail", "ticket-files", on_tint=False
            ),
        ),
        spacing="3",
        width="100%",
        grid_area="head",
    )
    talk = rx.vstack(
        timeline(),
        rx.cond(SessionState.can_edit, composer()),
        spacing="4",
        width="100%",
        grid_area="talk",
    )
    return rx.grid(
        head,
        rx.vstack(
            _properties(),
            requester_panel(
                State.fields["requester_id"],
                State.requester_count,
                State.other_tickets,
            ),
            similar_section(),
            spacing="4",
            width="100%",
            grid_area="side",
        ),
        talk,
        grid_template_areas=VIEW_AREAS,
        grid_template_columns=VIEW_COLUMNS,
        grid_template_rows=rx.breakpoints(initial="auto", md="auto 1fr"),
        gap="1.25rem",
        width="100%",
        align_items="start",
    )


def _not_found() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("search-x", size=32, aria_hidden=True, color=rx.color("gray", 11)),
            rx.heading(
                "Ticket #" + State.shown_id + " not found",
                as_="h2",
                size="5",
                data_testid="not-found",
            ),
            rx.text("It may have been deleted or merged, or the link is wrong."),
            rx.link("Go to the ticket list", href="/"),
            align="center",
        ),
        padding="3rem 1rem",
    )


def _failed() -> rx.Component:
    return error_alert(
        State.load_error, rx.button("Try again", on_click=State.retry, size="1", variant="soft")
    )


def ticket_page_content() -> rx.Component:
    """The whole page below the header, whatever state the ticket is in."""
    return rx.vstack(
        rx.window_event_listener(hooks=[BACK_NAVIGATION_HOOK]),
        back_link(),
        merge_dialog(),
        rx.match(
            State.page,
            (READY, _ticket_view()),
            (NOT_FOUND, _not_found()),
            (FAILED, _failed()),
            rx.skeleton(rx.box(height="12rem", width="100%"), loading=True),
        ),
        spacing="3",
        width="100%",
    )
