"""No credential reaches a log line, whoever logs it and however (issue 27, item 8).

Each way a credential can ride into a record is provoked through `logging` as libraries do it:
Reflex's event processor logging a whole event (its router data carries the socket's cookie),
a warning with the headers as a dict, JSON, `%`-style arguments, an exception whose message
quotes the event, and a stack. The real server's path is covered in tests/e2e/test_log_secrets.py.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from ticket_app import log_redaction

SESSION = "s3cr3t-Session-Value_0123456789abcdef"
TOKEN = "tdk_AbCdEf0123456789-_xyzXYZ9876543210abcdefghi"
HEADERS = {
    "cookie": f"theme=dark; triage_session={SESSION}",
    "authorization": f"Bearer {TOKEN}",
    "user-agent": "pytest",
}


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    log_redaction.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _assert_clean(text: str) -> None:
    assert SESSION not in text
    assert TOKEN not in text and TOKEN[4:] not in text
    assert "[redacted]" in text


def test_an_event_logged_whole_by_reflex_has_no_cookie(log_text: io.StringIO) -> None:
    event = {"name": "state.gone_handler", "router_data": {"headers": HEADERS}, "payload": {}}
    logging.getLogger("reflex_base.event.processor.event_processor").error(
        f"Error processing event {event}"
    )
    _assert_clean(log_text.getvalue())
    assert "gone_handler" in log_text.getvalue() and "pytest" in log_text.getvalue()


def test_password_link_tokens_in_paths_are_redacted(log_text: io.StringIO) -> None:
    link = "Kq3_-vX0aZ9bYc8dWe7fVg6hUi5jTk4lSm3nRo2pQr1"
    event = {"router_data": {"pathname": f"/invite/{link}", "asPath": f"/reset/{link}?error=x"}}
    logging.getLogger("uvicorn.access").info("GET /invite/%s HTTP/1.1 200 %s", link, event)
    text = log_text.getvalue()
    assert link not in text
    assert "/invite/[redacted]" in text and "/reset/[redacted]?error=x" in text


@pytest.mark.parametrize(
    "render",
    [
        lambda: ("headers %s", (HEADERS,)),
        lambda: ("%s", (json.dumps(HEADERS),)),
        lambda: ("Cookie: theme=dark; triage_session=%s", (SESSION,)),
        lambda: ("Authorization: Bearer %s", (TOKEN,)),
        lambda: ("token %s was used", (TOKEN,)),
        lambda: ("x-api-key=%s", (TOKEN,)),
    ],
    ids=["dict", "json", "cookie-header", "authorization-header", "bare-token", "api-key"],
)
def test_headers_in_any_shape_are_redacted(log_text: io.StringIO, render) -> None:
    message, args = render()
    logging.getLogger("ticket_app.api").warning(message, *args)
    _assert_clean(log_text.getvalue())


def test_exception_text_and_stacks_are_redacted(log_text: io.StringIO) -> None:
    try:
        raise ValueError(f"Failed to deserialize event data: {HEADERS}")
    except ValueError:
        logging.getLogger("reflex.app").exception("event failed")
    logging.getLogger("reflex.app").warning("where triage_session=%s", SESSION, stack_info=True)
    text = log_text.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert TOKEN not in text
    assert SESSION not in text


def test_install_is_idempotent_and_leaves_ordinary_text_alone(log_text: io.StringIO) -> None:
    log_redaction.install()
    logging.getLogger("ticket_app").warning("Ticket %d saved by %s", 17, "ana@example.com")
    assert "Ticket 17 saved by ana@example.com" in log_text.getvalue()
    assert log_redaction.redact("cookies are tasty") == "cookies are tasty"


def test_a_record_without_a_credential_keeps_its_arguments() -> None:
    log_redaction.install()
    record = logging.getLogger("granian.access").makeRecord(
        "granian.access", logging.INFO, __file__, 1, "%s %s %d", ("GET", "/api/tickets/", 200), None
    )
    assert record.args == ("GET", "/api/tickets/", 200)
    assert record.getMessage() == "GET /api/tickets/ 200"
