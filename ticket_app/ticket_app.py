"""The Reflex application: the staff console plus the REST API on the same server."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from reflex import constants
from reflex.config import get_config
from reflex.utils import prerequisites
from starlette.types import ASGIApp

from ticket_app import log_redaction
from ticket_app.api.app import create_api, start_served_warm_up
from ticket_app.api.asset_cache import ImmutableAssetsMiddleware, assets_prefix
from ticket_app.api.security import secure_asgi_app
from ticket_app.services.errors import ServiceError
from ticket_app.services.identity import setup
from ticket_app.settings import get_settings
from ticket_app.ui.components.toaster import PageToaster
from ticket_app.ui.pages import (
    account_page,
    canned_responses_page,
    console,
    dashboard_page,
    mailboxes_page,
    new_ticket_page,
    notifications_page,
    password_link_page,
    quarantine_page,
    requester_page,
    service_levels_page,
    setup_page,
    sign_in_page,
    staff_page,
    ticket_page,
    tokens_page,
)
from ticket_app.ui.state import StatsState, TicketFormState, TicketListState
from ticket_app.ui.state.access import SetupState, SignInState
from ticket_app.ui.state.account import AccountState, PasswordLinkState
from ticket_app.ui.state.admin import StaffState, TokensState
from ticket_app.ui.state.canned import CannedComposerState, CannedResponsesState
from ticket_app.ui.state.followers import FollowState
from ticket_app.ui.state.mail import MailboxesState, QuarantineState, RequesterState
from ticket_app.ui.state.notifications import NotificationPreferencesState, NotificationsState
from ticket_app.ui.state.sla import ServiceLevelsState
from ticket_app.ui.state.sla_report import SlaReportState
from ticket_app.ui.state.ticket_page import TicketPageState

logger = logging.getLogger("ticket_app")
log_redaction.install()


async def announce_first_admin_setup() -> None:
    """Log the first-admin setup token at start while no admin exists (as Jupyter does).

    `python -m ticket_app serve` prints the token itself and hands it over as SETUP_TOKEN; this
    covers a server started any other way (`reflex run`), whose token is made in-process.
    """
    if get_settings().setup_token is not None and get_settings().setup_token.get_secret_value():
        return
    try:
        admin_exists = await asyncio.to_thread(setup.has_admin)
    except ServiceError:
        return
    if not admin_exists:
        logger.warning(
            "No admin yet: open /setup and enter the setup token: %s", setup.setup_token()
        )


# The theme (indigo accent) is the Radix plugin's, in rxconfig.py.
# Toasts without Sonner's rich colours: its success green on pale green measured 4.25:1 (axe);
# the plain toast keeps the page's text colours, and each kind still has its icon.
class TriageDeskApp(rx.App):
    """The Reflex app, served inside the security middleware as a whole.

    Reflex mounts our API inside an outer Starlette app whose router answers some requests
    itself (a 404 or a trailing-slash 307 for a path with a newline); wrapping the ASGI app
    Reflex builds gives those the security headers too, and the CSP the hashes of the compiled
    pages' inline scripts. `reflex run` serves `app()`.
    """

    def __call__(self) -> ASGIApp:
        """The ASGI app Reflex builds, wrapped by `secure_asgi_app`.

        The compiled console (where Reflex's frontend mount serves it from) is built by now:
        its inline scripts are allowed by hash, and its content-hashed build files are cached
        by browsers for good (`ImmutableAssetsMiddleware`).
        """
        asgi_app = super().__call__()
        static_dir = prerequisites.get_web_dir() / constants.Dirs.STATIC
        frontend_path = get_config().frontend_path
        cached = ImmutableAssetsMiddleware(asgi_app, assets_prefix(frontend_path))
        return secure_asgi_app(cached, static_dir / frontend_path.strip("/"))


rest_api = create_api()
app = TriageDeskApp(
    api_transformer=rest_api,
    toaster=PageToaster.create(rich_colors=False),
)


def warm_up_this_worker() -> None:
    """Start loading the models and the API's routes in the background (`start_served_warm_up`).

    A plain function: Reflex calls it as the worker starts, before it serves, so the warm-up
    runs by the first `/ping`, which says "starting" until it is done. (Reflex does not run the
    lifespan of the API it mounts, where `create_served_api` starts the same warm-up.)
    """
    start_served_warm_up(rest_api)


app.register_lifespan_task(announce_first_admin_setup)
app.register_lifespan_task(warm_up_this_worker)
app.add_page(
    console,
    route="/",
    title="Triage Desk",
    description="Support ticket triage console",
    on_load=TicketListState.on_load,
)
app.add_page(
    new_ticket_page,
    route="/tickets/new",
    title="New ticket · Triage Desk",
    on_load=TicketFormState.on_load,
)
app.add_page(
    dashboard_page,
    route="/dashboard",
    title="Dashboard · Triage Desk",
    on_load=[StatsState.on_load, SlaReportState.on_load],
)
app.add_page(
    sign_in_page, route="/login", title="Sign in · Triage Desk", on_load=SignInState.on_load
)
app.add_page(
    setup_page, route="/setup", title="First admin · Triage Desk", on_load=SetupState.on_load
)
app.add_page(
    password_link_page,
    route="/invite/[link_token]",
    title="Invitation · Triage Desk",
    on_load=PasswordLinkState.on_load,
)
app.add_page(
    password_link_page,
    route="/reset/[link_token]",
    title="Reset your password · Triage Desk",
    on_load=PasswordLinkState.on_load,
)
app.add_page(
    account_page,
    route="/account",
    title="My account · Triage Desk",
    on_load=AccountState.on_load,
)
app.add_page(
    staff_page,
    route="/staff",
    title="Staff · Triage Desk",
    on_load=StaffState.on_load,
)
app.add_page(
    tokens_page,
    route="/tokens",
    title="API tokens · Triage Desk",
    on_load=TokensState.on_load,
)
app.add_page(
    ticket_page,
    route="/tickets/[ticket_id]",
    title="Ticket · Triage Desk",
    on_load=[TicketPageState.on_load, FollowState.load, CannedComposerState.forget],
)
app.add_page(
    mailboxes_page,
    route="/mailboxes",
    title="Mailboxes · Triage Desk",
    on_load=MailboxesState.on_load,
)
app.add_page(
    quarantine_page,
    route="/quarantine",
    title="Quarantine · Triage Desk",
    on_load=QuarantineState.on_load,
)
app.add_page(
    notifications_page,
    route="/notifications",
    title="Notifications · Triage Desk",
    on_load=[NotificationsState.on_load, NotificationPreferencesState.load],
)
app.add_page(
    canned_responses_page,
    route="/canned-responses",
    title="Canned responses · Triage Desk",
    on_load=CannedResponsesState.on_load,
)
app.add_page(
    service_levels_page,
    route="/service-levels",
    title="Service levels · Triage Desk",
    on_load=ServiceLevelsState.on_load,
)
app.add_page(
    requester_page,
    route="/requesters/[requester_id]",
    title="Requester · Triage Desk",
    on_load=RequesterState.on_load,
)
