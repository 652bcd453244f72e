"""Long-lived browser caching of the compiled console's build files.

Vite names every file under the build's `assets/` folder after a hash of its content, so a
file at one URL never changes: a new build writes new names. Without a `Cache-Control` header a
browser guessed a freshness from `Last-Modified` (a tenth of the file's age) and asked again, an
`If-None-Match` round trip per file (about 55 for the list page), once that guess ran out and on
every reload. `immutable` with a year's `max-age` (RFC 8246) lets it reuse them without asking.
The HTML pages, which name the current files, keep no such header, so a new build is picked up
on the next navigation.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
"""The `Cache-Control` value of a content-hashed build file."""


def assets_prefix(frontend_path: str) -> str:
    """The URL path prefix of the build files, for Reflex's `frontend_path` ("" or "/app")."""
    base = frontend_path.strip("/")
    return f"/{base}/assets/" if base else "/assets/"


class ImmutableAssetsMiddleware:
    """ASGI middleware: `Cache-Control: IMMUTABLE` on successful GETs of the build files.

    Only a 200 answer under `prefix` gets it, and only when the answer sets no `Cache-Control`
    of its own; a 404 for a file a newer build removed stays uncached.
    """

    def __init__(self, app: ASGIApp, prefix: str = "/assets/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; mark the answer cacheable when it is a build file."""
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def send_cacheable(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = IMMUTABLE
            await send(message)

        await self.app(scope, receive, send_cacheable)
