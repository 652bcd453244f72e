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

import base64
import hashlib
import json
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticket_app.api.auth import is_trusted_origin
from ticket_app.settings import get_settings

EVENT_PATH = "/_event"
API_PREFIX = "/api"
# FastAPI's interactive docs boot from an inline script of their own (see `_docs_sender`).
DOCS_PAGES = frozenset({"/api/docs", "/api/redoc", "/api/docs/oauth2-redirect"})
# Set on the scope by the outermost instance, so an inner one (the API app's) does not redo it.
_SECURED = "ticket_app.secured"
_CONTROL_CHARACTERS = frozenset(map(chr, [*range(0x20), 0x7F]))


# Reflex's compiled pages boot from inline scripts (theme, scroll restoration, React Router's
# prerendered context and streaming runtime, the route module imports). Those are fixed at build
# time, so instead of 'unsafe-inline' each is allowed by its SHA-256 (`inline_script_hashes`,
# read from the build when the served app starts). 'unsafe-eval' stays: Reflex runs the client
# actions the server sends (every toast, `call_script`, focus) by `eval`-ing a script string
# (`.web/utils/state.js`, `_call_script` / `_call_function`), which no hash or nonce can allow.
# Styles keep 'unsafe-inline': Emotion writes <style> elements at run time and Radix Themes sets
# style attributes. Everything else is same-origin only, nothing may frame the console, no
# plugins run and no foreign <base> or form target applies.
def content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The Content-Security-Policy header value; `script_hashes` are `'sha256-…'` sources."""
    scripts = " ".join(["'self'", *sorted(set(script_hashes)), "'unsafe-eval'"])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
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


def security_headers(script_hashes: Iterable[str] = ()) -> dict[str, str]:
    """Every security header by name, the CSP allowing the inline scripts `script_hashes`."""
    return {
        "Content-Security-Policy": content_security_policy(script_hashes),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }


SECURITY_HEADERS: dict[str, str] = security_headers()


class _InlineScripts(HTMLParser):
    """Collects the text of every <script> element without a `src` attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def html_script_hashes(html: str) -> set[str]:
    """CSP sources (`'sha256-<base64>'`) for the inline scripts of one HTML page."""
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return {
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode('utf-8')).digest()).decode()}'"
        for script in parser.scripts
    }


def inline_script_hashes(directory: Path) -> list[str]:
    """CSP sources (`'sha256-<base64>'`) for the inline scripts of the pages under `directory`.

    Every `*.html` below `directory` (the compiled console) is read; the answer is sorted,
    without repeats, and [] when the directory or its pages are missing.
    """
    hashes: set[str] = set()
    for page in sorted(directory.rglob("*.html")) if directory.is_dir() else []:
        hashes |= html_script_hashes(page.read_text(encoding="utf-8"))
    return sorted(hashes)


def _add_missing(start: Message, headers: dict[str, str]) -> None:
    """Add to a response's start message each of `headers` it does not set itself."""
    response_headers = MutableHeaders(scope=start)
    for name, value in headers.items():
        if name not in response_headers:
            response_headers[name] = value


def _host_name(host: str | None) -> str:
    """The host name of a Host header, without the port (IPv6 brackets kept)."""
    if not host:
        return ""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0].lower()


class SecurityMiddleware:
    """ASGI middleware: host allow-list, event-socket origin check, security headers."""

    def __init__(self, app: ASGIApp, script_hashes: Iterable[str] = ()) -> None:
        self.app = app
        self.script_hashes = tuple(script_hashes)
        self.headers = security_headers(self.script_hashes)

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
                _add_missing(message, self.headers)
            await send(message)

        if scope["path"] in DOCS_PAGES:
            await self.app(scope, receive, self._docs_sender(send))
            return
        await self.app(scope, receive, send_with_headers)

    def _docs_sender(self, send: Send) -> Send:
        """A `send` that holds a docs page back until it is whole, then allows its inline scripts.

        The page is built by FastAPI from the app's settings alone (no request data), so its
        scripts are ours; they are hashed per response because FastAPI renders the page.
        """
        start: Message = {}
        chunks: list[bytes] = []

        async def send_docs_page(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            page_hashes = html_script_hashes(body.decode("utf-8", errors="replace"))
            _add_missing(start, security_headers([*self.script_hashes, *page_hashes]))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        return send_docs_page

    async def _refuse(self, scope: Scope, send: Send, code: int, field: str, message: str) -> None:
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
                    *((k.lower().encode(), v.encode()) for k, v in self.headers.items()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def secure_asgi_app(app: ASGIApp, static_dir: Path | None = None) -> ASGIApp:
    """`app` (the whole served ASGI app) inside SecurityMiddleware.

    For the app Reflex builds around the API (see `ticket_app.ticket_app`): its outer router's
    own answers then get the headers too, and control-character paths never reach it. The API
    app's own SecurityMiddleware sees the scope marked and passes requests straight through.
    `static_dir` is the compiled console (Reflex's `.web/build/client`): the CSP allows its
    inline scripts by hash, read once here.
    """
    hashes = inline_script_hashes(static_dir) if static_dir is not None else []
    return SecurityMiddleware(app, script_hashes=hashes)
