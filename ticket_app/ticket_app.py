"""The Reflex application: the staff console plus the REST API on the same server."""

from __future__ import annotations

import reflex as rx

from ticket_app.api.app import create_api


def index() -> rx.Component:
    """Placeholder home page until the console lands."""
    return rx.center(
        rx.vstack(
            rx.heading("Triage Desk"),
            rx.text("The REST API is documented at "),
            rx.link("/api/docs", href="/api/docs"),
        ),
        height="100vh",
    )


app = rx.App(api_transformer=create_api())
app.add_page(index, title="Triage Desk")
