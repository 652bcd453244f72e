"""One row of the ticket list, as a React component that renders again only when its inputs do.

The list's rows live in `TicketListState`, whose every change (a page loaded, the "Load more"
button's spinner, the count, the keyboard's current row) re-renders whatever reads that state.
A row has eight value pills with their menus, so rendering every shown row again on each such
change made "Load more" slower the more rows were shown (its sixth press rendered 325 rows; see
docs/performance.md, "Load more"). The row is therefore a memoised component (`rx.memo`): it
reads no state, only its props (the row, whether it is current or selected, the viewer's
rights, the density, its search marks and the staff list), and the props of rows that did not
change keep their identity (Reflex keeps equal values of a delta as they were), so React skips
those rows.
"""

from __future__ import annotations

import reflex as rx
from reflex.experimental.client_state import ClientStateVar
from reflex_base.vars.base import Var

from ticket_app.ui.components.bulk import row_checkbox
from ticket_app.ui.components.common import (
    CATEGORIES,
    CATEGORY_COLORS,
    PRIORITIES,
    PRIORITY_COLORS,
    STATUS_COLORS,
    STATUSES,
    local_time,
    screen_reader_text,
    tone_style,
)
from ticket_app.ui.components.sla import sla_mark
from ticket_app.ui.components.triage import frustration_mark, language_mark
from ticket_app.ui.logic.tickets import label_of_value
from ticket_app.ui.state import SessionState, TicketListState
from ticket_app.ui.state.bulk import BulkState

TITLE_LINK = {
    "color": "var(--accent-11)",
    "fontWeight": "500",
    "overflowWrap": "anywhere",
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "2px"},
}
# Columns shown from the tablet breakpoint (768 px) up; on a phone their content moves into the
# title cell, so the table fits 390 px without scrolling sideways.
WIDE_ONLY = rx.breakpoints(initial="none", sm="table-cell")
# Number, requester and category columns, from 1280 px. Below, they go on a line under the
# title (`TABLET_ONLY`; on a phone, `PHONE_ONLY` and the compact details), so the list fits
# from 768 px up, the navigation beside it from 1024 px, and nothing is left out.
DESKTOP_ONLY = rx.breakpoints(initial="none", lg="table-cell")
PHONE_ONLY = rx.breakpoints(initial="flex", sm="none")
TABLET_ONLY = rx.breakpoints(initial="none", sm="flex", lg="none")
PILL_TEXT = {
    "display": "inline-flex",
    "alignItems": "center",
    "padding": "0 var(--space-2)",
    "whiteSpace": "nowrap",
    "lineHeight": "var(--space-5)",
}
PILL_BUTTON = {
    **PILL_TEXT,
    "gap": "0.3rem",
    "cursor": "pointer",
    "fontFamily": "inherit",
    "&:hover": {"filter": "brightness(0.95)"},
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outlineOffset": "2px"},
    # The menu's chevron, drawn by CSS: a page of rows has up to 225 pills, and an icon
    # component each (an SVG built by lucide on every render) cost more than the rest of a pill.
    "&::after": {
        "content": "''",
        "flexShrink": "0",
        "width": "0.3rem",
        "height": "0.3rem",
        "marginRight": "0.1rem",
        "borderRight": "1.5px solid currentColor",
        "borderBottom": "1.5px solid currentColor",
        "transform": "translateY(-20%) rotate(45deg)",
    },
}
# 7.5rem fits "Unassigned" and most names; a longer name ends in an ellipsis (in full in the
# pill's title and accessible name), so the list's every column fits 1280 px (issue 25).
ASSIGNEE_PILL = {
    "color": "var(--gray-12)",
    "background": "transparent",
    "border": "1px solid var(--gray-a7)",
    "borderRadius": "9999px",
    "maxWidth": "7.5rem",
    "fontSize": "var(--font-size-1)",
}
# The label in its own box: a flex container's text cannot end in an ellipsis, its child can.
PILL_LABEL = {"overflow": "hidden", "textOverflow": "ellipsis", "minWidth": "0"}

Row = rx.Var[dict[str, str]]


def _value_label(value: rx.Var[str], values: list[str]) -> rx.Var[str]:
    """The label of a category, priority or status value, worked out in the browser."""
    return rx.match(value, *((v, label_of_value(v)) for v in values), value).to(str)


def _menu_item(label: rx.Var[str] | str, on_select, test_id: str) -> rx.Component:
    return rx.dropdown_menu.item(label, on_select=on_select, data_testid=test_id)


# Opens a not-yet-armed pill's menu from the keyboard's arrows, as an armed pill's trigger does
# (`setArmed` is `menu_pill`'s client-side state setter).
_ARROW_KEYS_OPEN = Var(
    _js_expr="((event) => { if (event.key === 'ArrowDown' || event.key === 'ArrowUp') "
    "{ event.preventDefault(); setArmed(true); } })"
)


@rx.memo
def menu_pill(
    children: rx.Var[rx.Component],
    label: rx.Var[str],
    accessible_name: rx.Var[str],
    hover_title: rx.Var[str],
    test_id: rx.Var[str],
    color: rx.Var[str],
    background: rx.Var[str],
    border: rx.Var[str],
    max_width: rx.Var[str],
    height: rx.Var[str],
    font_weight: rx.Var[str],
) -> rx.Component:
    """A pill button that opens a menu of `children` (its items) on click, Enter, Space or arrows.

    The menu is mounted on first use: until then the pill is a plain button, and its first
    activation swaps in the menu's trigger, already open. A list page shows up to nine such
    pills a row, and mounting every menu up front (context providers, a popper, document
    listeners each) was half the time a page of rows took to draw (docs/performance.md,
    "Console first rows"). Once armed, the menu stays mounted, so focus returns to its trigger
    when it closes.
    """
    armed = ClientStateVar.create("armed", default=False, global_ref=False)
    shown = rx.el.span(label, style=PILL_LABEL)
    style = {
        **PILL_BUTTON,
        "color": color,
        "background": background,
        "border": border,
        "borderRadius": "9999px",
        "maxWidth": max_width,
        "height": height,
        "fontSize": "var(--font-size-1)",
        "fontWeight": font_weight,
    }

    def button(**events) -> rx.Component:
        return rx.el.button(
            shown,
            type="button",
            aria_label=accessible_name,
            title=hover_title,
            data_testid=test_id,
            style=style,
            **events,
        )

    return rx.cond(
        armed.value,
        rx.dropdown_menu.root(
            rx.dropdown_menu.trigger(button()),
            rx.dropdown_menu.content(children, size="1"),
            default_open=True,
            # Not modal: a modal menu hides the rest of the page from assistive technology.
            modal=False,
        ),
        # Said as the armed trigger says it, so a screen reader hears a menu button either way.
        button(
            on_click=armed.set_value(True),
            aria_haspopup="menu",
            aria_expanded="false",
            custom_attrs={"onKeyDown": _ARROW_KEYS_OPEN},
        ),
    )


def _value_pill(
    row: Row,
    can_edit: rx.Var[bool],
    field: str,
    label: rx.Var[str],
    tone: dict,
    items: rx.Component,
    test_id_suffix: str = "",
    hover_title: rx.Var[str] | None = None,
) -> rx.Component:
    """A row's value as a pill: for viewers plain text, for editors a `menu_pill`.

    `tone` is the pill's look (`tone_style` or ASSIGNEE_PILL: color, background, border and
    optionally maxWidth, height and fontWeight). A label wider
    than its maxWidth ends in an ellipsis; `hover_title` (the whole label) then shows it on
    hover.
    """
    name = field.removesuffix("_id").capitalize()
    test_id = field.removesuffix("_id")
    return rx.cond(
        can_edit,
        menu_pill(
            items,
            label=label,
            accessible_name=f"{name} of ticket " + row["id"] + ": " + label + ". Change",
            hover_title=hover_title if hover_title is not None else "",
            test_id=f"{test_id}-pill{test_id_suffix}",
            color=tone["color"],
            background=tone["background"],
            border=tone["border"],
            max_width=tone.get("maxWidth", "none"),
            height=tone.get("height", "auto"),
            font_weight=tone.get("fontWeight", "normal"),
        ),
        rx.el.span(
            rx.el.span(label, style=PILL_LABEL),
            title=hover_title,
            data_testid=f"{test_id}-value{test_id_suffix}",
            style={**PILL_TEXT, **tone},
        ),
    )


def _enum_pill(
    row: Row,
    can_edit: rx.Var[bool],
    field: str,
    values: list[str],
    colors: dict[str, str],
    test_id_suffix: str = "",
) -> rx.Component:
    """Status, priority or category as a coloured pill that opens a menu of the values."""
    return _value_pill(
        row,
        can_edit,
        field,
        _value_label(row[field], values),
        tone_style(row[field], colors),
        rx.fragment(
            *(
                _menu_item(
                    label_of_value(value),
                    TicketListState.update_field(row["id"], field, value),
                    f"{field}-choice",
                )
                for value in values
            )
        ),
        test_id_suffix,
    )


def _assignee_pill(
    row: Row,
    can_edit: rx.Var[bool],
    staff: rx.Var[list[dict[str, str]]],
    test_id_suffix: str = "",
) -> rx.Component:
    """Who owns the ticket, as a pill whose menu assigns it (or unassigns it)."""
    label = rx.cond(row["assignee_id"] != "", row["assignee_name"], "Unassigned").to(str)
    return _value_pill(
        row,
        can_edit,
        "assignee_id",
        label,
        ASSIGNEE_PILL,
        rx.fragment(
            _menu_item(
                "Unassigned",
                TicketListState.update_field(row["id"], "assignee_id", ""),
                "assignee-choice",
            ),
            rx.foreach(
                staff,
                lambda user: _menu_item(
                    user["name"],
                    TicketListState.update_field(row["id"], "assignee_id", user["id"]),
                    "assignee-choice",
                ),
            ),
        ),
        test_id_suffix,
        hover_title=label,
    )


def _time(row: Row, name: str, prefix: str = "") -> rx.Component:
    """A relative time ("5 min ago"); the viewer's local time and UTC on hover."""
    return local_time(
        row[f"{name}_iso"], text=prefix + row[f"{name}_relative"], title_on_hover=True
    )


def _compact_details(
    row: Row, can_edit: rx.Var[bool], staff: rx.Var[list[dict[str, str]]]
) -> rx.Component:
    """Status, priority, category, assignee and last update under the title, for phones."""
    return rx.flex(
        _enum_pill(row, can_edit, "status", STATUSES, STATUS_COLORS, "-compact"),
        _enum_pill(row, can_edit, "priority", PRIORITIES, PRIORITY_COLORS, "-compact"),
        _enum_pill(row, can_edit, "category", CATEGORIES, CATEGORY_COLORS, "-compact"),
        _assignee_pill(row, can_edit, staff, "-compact"),
        rx.text(_time(row, "updated", "updated "), size="1"),
        display=PHONE_ONLY,
        wrap="wrap",
        spacing="2",
        align="center",
        margin_top="0.4rem",
    )


def _tablet_details(row: Row, can_edit: rx.Var[bool]) -> rx.Component:
    """Number, requester and category under the title, from 768 to 1279 px wide.

    Their columns show from 1280 px only: below, with them, the list scrolled sideways.
    """
    return rx.flex(
        rx.text(
            "#" + row["id"],
            rx.cond(row["requester"] != "", " \u00b7 " + row["requester"], ""),
            size="1",
            # A long e-mail address must wrap, not widen the table.
            overflow_wrap="anywhere",
            min_width="0",
        ),
        _enum_pill(row, can_edit, "category", CATEGORIES, CATEGORY_COLORS, "-tablet"),
        display=TABLET_ONLY,
        wrap="wrap",
        spacing="2",
        align="center",
        margin_top="0.15rem",
    )


def _marked(pieces: rx.Var[list[list[str]]]) -> rx.Component:
    """Text pieces with the searched words in `<mark>` (each piece rendered as text)."""
    return rx.foreach(
        pieces,
        lambda piece: rx.cond(piece[1] != "", rx.el.mark(piece[0]), rx.el.span(piece[0])),
    )


@rx.memo
def ticket_row(
    row: rx.Var[dict[str, str]],
    current: rx.Var[bool],
    selected: rx.Var[bool],
    can_edit: rx.Var[bool],
    compact: rx.Var[bool],
    marked: rx.Var[bool],
    marks: rx.Var[dict[str, list[list[str]]]],
    staff: rx.Var[list[dict[str, str]]],
) -> rx.Component:
    """One row; its title is a real link to the ticket's page.

    With `marked`, `marks` holds the title's and snippet's pieces with the searched words
    marked (`{"title": [[text, mark], ...], "snippet": ...}`, see `search_marks`); `staff` is
    the assignee menu's `{"id", "name"}` list.
    """
    return rx.table.row(
        rx.cond(can_edit, rx.table.cell(row_checkbox(row, selected, can_edit), width="2.5rem")),
        rx.table.cell(
            "#" + row["id"],
            white_space="nowrap",
            color="var(--gray-11)",
            display=DESKTOP_ONLY,
            data_testid="ticket-number",
        ),
        rx.table.cell(
            rx.link(
                rx.cond(marked, _marked(marks["title"]), row["title"]),
                href="/tickets/" + row["id"],
                id="ticket-link-" + row["id"],
                data_ticket_id=row["id"],
                data_testid="ticket-link",
                style=TITLE_LINK,
            ),
            rx.cond(
                (row["frustrated"] != "") | (row["language"] != ""),
                rx.el.span(
                    rx.cond(row["frustrated"] != "", frustration_mark()),
                    language_mark(row["language"]),
                    style={"display": "inline-flex", "gap": "0.35rem", "marginLeft": "0.4rem"},
                ),
            ),
            rx.text(
                rx.cond(marked, _marked(marks["snippet"]), row["preview"]),
                size="1",
                display=rx.cond(compact, "none", rx.breakpoints(initial="none", md="block")),
                margin_top="0.15rem",
                # A long URL or token in a description must wrap, not widen every row.
                overflow_wrap="anywhere",
                data_testid="row-preview",
            ),
            rx.cond(row["sla_text"] != "", sla_mark(row["sla_text"], row["sla_tone"])),
            rx.cond(
                row["tags"] != "",
                rx.text(
                    rx.icon("tag", size=12, aria_hidden=True),
                    screen_reader_text("Tags: "),
                    row["tags"],
                    size="1",
                    margin_top="0.15rem",
                    style={"display": "flex", "alignItems": "center", "gap": "0.3rem"},
                    data_testid="row-tags",
                ),
            ),
            rx.cond(
                row["requester"] != "",
                rx.text(
                    "#" + row["id"] + " \u00b7 " + row["requester"],
                    size="1",
                    display=PHONE_ONLY,
                    margin_top="0.15rem",
                    # A long e-mail address must wrap, not widen the phone's table.
                    overflow_wrap="anywhere",
                ),
            ),
            _tablet_details(row, can_edit),
            _compact_details(row, can_edit, staff),
            # The title wraps and takes what the other columns leave. Its floor is low enough
            # that from 1280 px, with the requester and category columns, every column fits
            # the list's 950 px with room for a classic scroll bar (issue 25); below, without
            # the number, requester and category columns, every column fits 630 px, and the
            # list is at least 694 px wide (at 1024 px, the navigation beside it).
            min_width="10rem",
        ),
        rx.table.cell(
            row["requester"],
            display=DESKTOP_ONLY,
            overflow_wrap="anywhere",
            data_testid="row-requester",
        ),
        rx.table.cell(
            _enum_pill(row, can_edit, "status", STATUSES, STATUS_COLORS), display=WIDE_ONLY
        ),
        rx.table.cell(
            _enum_pill(row, can_edit, "priority", PRIORITIES, PRIORITY_COLORS), display=WIDE_ONLY
        ),
        rx.table.cell(
            _enum_pill(row, can_edit, "category", CATEGORIES, CATEGORY_COLORS),
            display=DESKTOP_ONLY,
        ),
        rx.table.cell(_assignee_pill(row, can_edit, staff), display=WIDE_ONLY),
        rx.table.cell(
            _time(row, "updated"),
            white_space="nowrap",
            display=WIDE_ONLY,
            data_testid="row-updated",
        ),
        data_testid="ticket-row",
        data_ticket_id=row["id"],
        data_current=rx.cond(current, "true", "false"),
        style={
            "background": rx.cond(current, "var(--accent-a3)", "transparent"),
            "&:focus-within": {"background": "var(--accent-a3)"},
        },
    )


def ticket_rows(rows: rx.Var[list[dict[str, str]]]) -> rx.Component:
    """The rows of one page var of the list, each a `ticket_row` fed from the states."""
    state = TicketListState
    return rx.foreach(
        rows,
        lambda row: ticket_row(
            row=row,
            current=row["id"] == state.current_id,
            selected=BulkState.selected.contains(row["id"]),
            can_edit=SessionState.can_edit,
            compact=state.compact,
            marked=state.marks.contains(row["id"]),
            # Undefined when not marked: a literal {} would be a new object on every render.
            marks=state.marks[row["id"]],
            staff=state.staff,
        ),
    )
