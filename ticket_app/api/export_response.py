"""The HTTP side of a CSV export: a streamed response that ends its export whatever happens.

The export itself (spooled snapshot, per-user slots, audit) is `services.export_stream`'s; this
response sends its bytes, gives up on a client that accepts nothing for
`EXPORT_SEND_TIMEOUT_SECONDS`, and tells the export how the download ended.
"""

from __future__ import annotations

import logging

import anyio
from fastapi.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticket_app.services.export_stream import RunningExport, other_request
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)


class ExportStalledError(Exception):
    """The client accepted no data for EXPORT_SEND_TIMEOUT_SECONDS; the download is aborted."""


class ExportResponse(StreamingResponse):
    """`StreamingResponse` of a RunningExport: the CSV as an attachment named tickets.csv.

    Each body message must be accepted by the client within EXPORT_SEND_TIMEOUT_SECONDS, else
    ExportStalledError aborts the response (the server drops the connection without the
    final chunk, so the client cannot take the part for the whole). The export's `finish` runs
    once the response ends, sent or not.
    """

    def __init__(self, export: RunningExport) -> None:
        super().__init__(
            export.body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="tickets.csv"'},
        )
        self._export = export

    async def stream_response(self, send: Send) -> None:
        """Send the export, each message under the send timeout; then finish the export."""
        timeout = get_settings().export_send_timeout_seconds

        async def send_in_time(message: Message) -> None:
            with anyio.move_on_after(timeout) as waited:
                await send(message)
            if waited.cancelled_caught:
                logger.warning("export aborted: the client accepted nothing for %s s", timeout)
                raise ExportStalledError(f"no data accepted for {timeout} s")

        sent = False
        try:
            await super().stream_response(send_in_time)
            sent = True
        finally:
            await self.body_iterator.aclose()  # type: ignore[attr-defined]
            await self._export.finish(sent=sent)


class YieldToRequestsMiddleware:
    """Marks every HTTP request but an export as in flight, so export readers yield to it.

    See `services.export_stream.other_request`: a reader rests in proportion to its work only
    while such a request runs, and reads at full speed otherwise.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, counted unless it is an export."""
        if scope["type"] != "http" or scope["path"].rstrip("/") == EXPORT_PATH:
            await self.app(scope, receive, send)
            return
        with other_request():
            await self.app(scope, receive, send)


EXPORT_PATH = "/api/tickets/export"
