"""Browser-facing hardening for every response the server sends (API, console, event socket).

- Security headers on every HTTP response: a Content-Security-Policy the compiled Reflex console
  works under (checked in Chromium by the browser tests), `frame-ancestors 'none'` and
  `X-Frame-Options: DENY` against framing, `nosniff`, `Referrer-Policy: same-origin`.
- The Reflex event socket (`/_event`) refuses browsers from foreign origins: it carries the
  session cookie, so another site (or another port of this host, which cookies treat as the
  same site) must not be able to open it.
- With `ALLOWED_HOSTS` set, requests for other host names get 400.
- A path with a control character (%00-%1F, %7F) is a 404 before any router sees it: Starlette's
  route patterns end in `$`, which also matches before a final newline, so `/api/tickets/%0A`
  was served as the ticket list, and a newline inside a path matched no route at all, not even
  Reflex's catch-all mount, so the framework answered in plain text without these headers.
- `secure_asgi_app` puts this middleware around the whole served app as well: Reflex wraps the
  API in an outer Starlette app of its own, whose router answers (404s, trailing-slash 307s)
  never reached the middleware of the API app.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticket_app.api.auth import is_trusted_origin
from ticket_app.settings import get_settings

EVENT_PATH = "/_event"
API_PREFIX = "/api"
# Set on the scope by the outermost instance, so an inner one (the API app's) does not redo it.
_SECURED = "ticket_app.secured"
_CONTROL_CHARACTERS = frozenset(map(chr, [*range(0x20), 0x7F]))

# Reflex's compiled app boots from inline scripts (React Router's prerendered pages), runs the
# client actions the server sends (toasts) as script strings it evaluates, and styles its
# components inline (Radix Themes, Emotion): scripts allow 'unsafe-inline' and 'unsafe-eval',
# styles 'unsafe-inline'. Everything else is same-origin only, nothing may frame the console,
# no plugins run and no foreign <base> or form target applies.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _host_name(host: str | None) -> str:
    """The host name of a Host header, without the port (IPv6 brackets kept)."""
    if not host:
        return ""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0].lower()


class SecurityMiddleware:
    """ASGI middleware: host allow-list, event-socket origin check, security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what must be refused, then pass on with the headers added to the answer."""
        if scope["type"] not in ("http", "websocket") or scope.get(_SECURED):
            await self.app(scope, receive, send)
            return
        scope[_SECURED] = True
        headers = Headers(scope=scope)
        host = headers.get("host")
        allowed_hosts = get_settings().allowed_hosts
        if allowed_hosts and _host_name(host) not in {h.lower() for h in allowed_hosts}:
            await self._refuse(scope, send, 400, "host", "This host name is not served here.")
            return
        if _CONTROL_CHARACTERS.intersection(scope["path"]):
            message = "No such path: it contains a control character."
            await self._refuse(scope, send, 404, "path", message)
            return
        if scope["path"].startswith(EVENT_PATH) and not is_trusted_origin(
            headers.get("origin"), scope.get("scheme", "http"), host
        ):
            await self._refuse(scope, send, 403, "origin", "Cross-origin connections are refused.")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in response_headers:
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, code: int, field: str, message: str) -> None:
        """Answer `code` in the API's JSON error shape, with the security headers.

        A websocket is closed instead, with `message` as the reason.
        """
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message})
            return
        kind = "not_found" if code == 404 else field
        body = json.dumps(
            {"detail": message, "errors": [{"field": field, "message": message, "type": kind}]}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def secure_asgi_app(app: ASGIApp) -> ASGIApp:
    """`app` (the whole served ASGI app) inside SecurityMiddleware.

    For the app Reflex builds around the API (see `ticket_app.ticket_app`): its outer router's
    own answers then get the headers too, and control-character paths never reach it. The API
    app's own SecurityMiddleware sees the scope marked and passes requests straight through.
    """
    return SecurityMiddleware(app)
