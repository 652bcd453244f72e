"""Reflex configuration; the database URL comes from the application settings."""

import reflex as rx

from ticket_app.settings import get_settings

config = rx.Config(
    app_name="ticket_app",
    db_url=get_settings().database_url,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
