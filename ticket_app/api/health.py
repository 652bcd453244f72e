"""`/_health` for everyone: only "ok" or "not ok".

Reflex serves `/_health` itself and says which of its dependencies failed (`{"status": false,
"db": false, "redis": true}`), to anyone who asks: a map of the back end for an outsider.
`HealthSummaryMiddleware` lets Reflex run its checks and answers with their verdict alone:
200 `{"status": "ok"}` or 503 `{"status": "not ok"}`. Which check failed is in the server log
(Reflex logs it); load balancers and the image's health check use `/ping`.

`ReadinessMiddleware` answers both with 503 `{"status": "starting"}` while the process is still
loading its models (`services.warmup`), so no traffic reaches a cold worker; once warm, `/ping`
answers "pong" as Reflex's does (the bare API, `create_served_api`, has no Reflex behind it).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticket_app.services import warmup

HEALTH_PATH = "/_health"
PING_PATH = "/ping"


class HealthSummaryMiddleware:
    """Replaces the body of Reflex's `/_health` answer with its verdict (ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass every request on; for `/_health`, send the summary instead of the details."""
        if scope["type"] != "http" or scope["path"] != HEALTH_PATH:
            await self.app(scope, receive, send)
            return
        statuses: list[int] = []

        async def keep_status(message: Message) -> None:
            # The details are dropped: only the status of the answer is kept.
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await self.app(scope, receive, keep_status)
        healthy = statuses == [200]
        verdict = {"status": "ok" if healthy else "not ok"}
        await _send_json(scope, send, 200 if healthy else 503, verdict)


class ReadinessMiddleware:
    """`/ping` and `/_health` say 503 "starting" until the warm-up is done (ASGI middleware).

    Once ready, `/_health` passes on and `/ping` answers "pong" (what Reflex's answers).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the health paths while warming up or, for `/ping`, after; pass the rest on."""
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in (PING_PATH, HEALTH_PATH):
            await self.app(scope, receive, send)
        elif not warmup.is_ready():
            await _send_json(scope, send, 503, {"status": "starting"})
        elif path == PING_PATH and scope["method"] in ("GET", "HEAD"):
            await _send_json(scope, send, 200, "pong")
        else:
            await self.app(scope, receive, send)


async def _send_json(scope: Scope, send: Send, status: int, content: object) -> None:
    """Send `content` as an uncached JSON answer with `status` (no body for HEAD)."""
    body = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send(
        {
            "type": "http.response.body",
            "body": body if scope["method"] != "HEAD" else b"",
        }
    )
