"""The Reflex application: the staff console plus the REST API on the same server."""

from __future__ import annotations

import reflex as rx

from ticket_app.api.app import create_api
from ticket_app.ui.pages import console, setup_page, sign_in_page, staff_page, tokens_page
from ticket_app.ui.state import SessionState, TicketListState
from ticket_app.ui.state.access import SetupState, SignInState
from ticket_app.ui.state.admin import StaffState, TokensState

app = rx.App(api_transformer=create_api())
app.add_page(
    console,
    route="/",
    title="Triage Desk",
    description="Support ticket triage console",
    on_load=TicketListState.on_load,
)
app.add_page(
    sign_in_page, route="/login", title="Sign in · Triage Desk", on_load=SignInState.on_load
)
app.add_page(
    setup_page, route="/setup", title="First admin · Triage Desk", on_load=SetupState.on_load
)
app.add_page(
    staff_page,
    route="/staff",
    title="Staff · Triage Desk",
    on_load=[SessionState.check_admin, StaffState.on_load],
)
app.add_page(
    tokens_page,
    route="/tokens",
    title="API tokens · Triage Desk",
    on_load=[SessionState.check_tokens, TokensState.on_load],
)
