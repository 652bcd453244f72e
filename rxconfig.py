"""Reflex configuration; the database URL and the CORS allow-list come from the app settings.

CORS is off unless `CORS_ALLOWED_ORIGINS` lists origins (Reflex's default would allow any
origin with credentials). A configured list also applies to the event socket, so it gets the
console's own public origin (`PUBLIC_BASE_URL`) as well; without a list, the socket's origin
check is `ticket_app.api.security`'s same-origin rule.

With the UI state in Redis (several workers or instances), `KeepTabStateOnFailover` lets a tab
whose instance went away keep its state on the one it reconnects to (`ticket_app.ui.failover`).
"""

import reflex as rx

from ticket_app.settings import get_settings


class KeepTabStateOnFailover(rx.plugins.Plugin):
    """Installs `ticket_app.ui.failover` in each backend worker as its app is set up."""

    def post_compile(self, **context):
        """Reflex calls this in every worker before it serves; `context["app"]` is the app."""
        from ticket_app.ui.failover import install  # imports Reflex's internals: not at load

        install(context["app"])


settings = get_settings()
cors_origins = list(settings.cors_allowed_origins)
if cors_origins and settings.public_base_url:
    cors_origins.append(settings.public_base_url.rstrip("/"))

config = rx.Config(
    app_name="ticket_app",
    db_url=settings.database_url,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    cors_allowed_origins=cors_origins,
    # Indigo: white text on its solid step (buttons) reaches 4.5:1 in both themes; Radix's
    # default blue measured 3.26:1. (Here rather than App(theme=...), deprecated in Reflex 0.9.)
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo")),
        KeepTabStateOnFailover(),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
