"""Small shared pieces: labelled fields, value lists and the colors of badges."""

from __future__ import annotations

import reflex as rx
from reflex.components.el.elements.base import BaseHTML

from ticket_app.models import Category, Priority, Status
from ticket_app.ui.logic import STATUS_LABELS

CATEGORIES = [c.value for c in Category]
PRIORITIES = [p.value for p in Priority]
STATUSES = [s.value for s in Status]

PRIORITY_COLORS = {"low": "gray", "medium": "blue", "high": "orange", "critical": "red"}
STATUS_COLORS = {"open": "green", "in_progress": "amber", "resolved": "indigo", "closed": "gray"}
CATEGORY_COLORS = {"billing": "teal", "technical": "violet", "account": "cyan", "general": "gray"}


class DocumentLink(BaseHTML):
    """A plain `<a>` the browser follows itself: downloads and pages outside the console.

    Reflex turns `rx.el.a` into a client-side router link, which cannot reach a server route
    such as the CSV export (it showed the console's 404 page instead).
    """

    tag = "a"

    href: rx.Var[str]
    download: rx.Var[str]
    target: rx.Var[str]
    rel: rx.Var[str]


document_link = DocumentLink.create


def label_of(value: str) -> str:
    """Display label of a category, priority or status value."""
    return STATUS_LABELS.get(value, value.replace("_", " ").capitalize())


def color_of(value: rx.Var[str], colors: dict[str, str]) -> rx.Var:
    """The badge color for a value held in a Var."""
    return rx.match(value, *colors.items(), "gray")


def field_label(text: str, html_for: str) -> rx.Component:
    """A visible <label> tied to the input with id `html_for`."""
    return rx.el.label(
        rx.text(text, size="2", weight="medium"),
        html_for=html_for,
    )


def field_error(message: rx.Var[str], error_id: str) -> rx.Component:
    """A validation message under a field (announced by screen readers)."""
    return rx.cond(
        message != "",
        rx.text(message, id=error_id, size="1", color_scheme="red", role="alert"),
    )


def option_items(values: list[str], *, with_all: str | None = None) -> rx.Component:
    """`rx.select.content` with one item per value, optionally led by an "all" item."""
    items = [rx.select.item(label_of(v), value=v) for v in values]
    if with_all:
        items.insert(0, rx.select.item(with_all, value="all"))
    return rx.select.content(*items)
