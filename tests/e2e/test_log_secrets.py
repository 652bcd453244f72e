"""A console event the server cannot process is logged without the tab's session cookie.

Reflex logs the whole event, with the socket's headers, when a handler is unknown (a tab left
open across a deploy sends one). The test sends such an event over a real event socket that
carries a live session cookie and greps the server's log (issue 27, item 8).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from websockets.sync.client import connect

from tests.e2e.conftest import ADMIN_EMAIL, AppServer, session_cookie

pytestmark = pytest.mark.browser


def _log(app: AppServer) -> str:
    return (app.db_path.parent / "reflex.log").read_text(errors="replace")


def test_an_unknown_handler_is_logged_without_the_session_cookie(app_server: AppServer) -> None:
    cookie = session_cookie(app_server, ADMIN_EMAIL)["value"]
    marker = f"gone_handler_{uuid.uuid4().hex[:8]}"
    url = (
        app_server.base_url.replace("http://", "ws://")
        + f"/_event/?EIO=4&transport=websocket&token={uuid.uuid4()}"
    )
    with connect(
        url,
        origin=app_server.base_url,
        additional_headers={"Cookie": f"triage_session={cookie}"},
    ) as socket:
        assert socket.recv(timeout=10).startswith("0")
        socket.send("40/_event,")
        assert socket.recv(timeout=10).startswith("40/_event")
        event = {
            "name": f"reflex___state____state.{marker}",
            "payload": {},
            "router_data": {"pathname": "/", "query": {}, "asPath": "/"},
        }
        socket.send("42/_event," + json.dumps(["event", event]))
        deadline = time.monotonic() + 15
        while marker not in _log(app_server) and time.monotonic() < deadline:
            time.sleep(0.2)
    log = _log(app_server)
    assert marker in log, "the server did not log the unknown event; nothing was checked"
    assert cookie not in log
