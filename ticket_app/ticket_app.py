"""The Reflex application: the staff console plus the REST API on the same server."""

from __future__ import annotations

import reflex as rx

from ticket_app.api.app import create_api
from ticket_app.ui.pages import console
from ticket_app.ui.state import TicketListState

app = rx.App(api_transformer=create_api())
app.add_page(
    console,
    route="/",
    title="Triage Desk",
    description="Support ticket triage console",
    on_load=TicketListState.on_load,
)
