"""`/_health` for everyone: only "ok" or "not ok".

Reflex serves `/_health` itself and says which of its dependencies failed (`{"status": false,
"db": false, "redis": true}`), to anyone who asks: a map of the back end for an outsider.
`HealthSummaryMiddleware` lets Reflex run its checks and answers with their verdict alone:
200 `{"status": "ok"}` or 503 `{"status": "not ok"}`. Which check failed is in the server log
(Reflex logs it); load balancers and the image's health check use `/ping`, which is unchanged.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEALTH_PATH = "/_health"


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
        body = json.dumps({"status": "ok" if healthy else "not ok"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200 if healthy else 503,
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
