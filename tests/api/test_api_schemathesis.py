"""Schemathesis fuzzes every operation of the API's own OpenAPI schema (issue 10).

The app's schema is loaded in-process (`schemathesis.openapi.from_asgi`) from a fresh
`create_api()` on the test database (`db`: SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
and every operation gets schemathesis' phases (examples, coverage, fuzzing) with a bounded
number of fuzzed examples (MAX_EXAMPLES), called with an admin's API token (for raw mail, one
with the `mail:inbound` scope; for mailboxes and the quarantine, which no token may manage, the
admin's session cookie; raw mail bodies are generated as RFC 5322 messages). Every check
schemathesis enables by default runs (server errors, status codes, content types, response
schemas and headers, positive data accepted, negative data rejected, missing headers, unsupported
methods with `Allow`, ignored auth, ...); none is disabled.

Two adjustments to generated *valid* requests, because the schema cannot say what the server
knows from earlier requests; invalid requests are sent as generated:

- `cursor` is left out: a cursor is an opaque token this API issued for a page it served, so a
  string that merely fits the schema is rightly a 422 (tests/api/test_api_tickets_list.py and
  test_api_tickets_sort.py check cursors).
- `Idempotency-Key`, when generated, is made unique per request: the same key with another body
  is rightly a 422, and generated keys repeat (tests/api/test_api_tickets_idempotency.py checks
  keys).
- `If-Match` is left out: only the ETag the server sent matches, any other is rightly a 412
  (tests/api/test_api_tickets_etag.py checks it). So is a bulk change's `confirm_count`: it must
  equal the number of selected tickets (tests/api/test_api_bulk.py).
- An `assignee_id` becomes the admin's id: only an active agent's or admin's id is accepted
  (tests/api/test_api_tickets_assignment.py checks others).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.generation.case import Case
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM, TEST_PASSWORD
from ticket_app.api.app import create_api
from ticket_app.services import mailboxes
from ticket_app.services.identity import sessions, tokens, users
from ticket_app.settings import get_settings

# Fuzzed examples per operation and dialect (the examples and coverage phases add their own
# cases; about 850 requests a dialect in all), the same ones on every run and machine, so CI
# answers for the code, not for the draw. SCHEMATHESIS_MAX_EXAMPLES=500 runs a deeper search
# with fresh random examples, by hand.
DEEP = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES")
MAX_EXAMPLES = int(DEEP or "15")
# The app answers in this process, beside the other tests' servers and browsers on a 2-core CI
# host: schemathesis' 10 s default failed one request in about 1,700 twice there (each passes
# alone in milliseconds). What is checked here is conformance; latency is benchmarked elsewhere.
REQUEST_TIMEOUT_SECONDS = 60


# Loaded once, at import: building the app and its schema needs no database. (Schemathesis'
# fixture-based lazy loader is not used: it sets a pytest node attribute that pytest 9.2 no
# longer has.) The requests go to a fresh app per test, see `app`.
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_api())


@st.composite
def raw_mails(draw: st.DrawFn) -> bytes:
    """An RFC 5322 message for `POST /api/inbound/email/` (`message/rfc822`)."""
    message = EmailMessage()
    message["From"] = draw(st.sampled_from(["jane@customer.example", "Bob <bob@else.example>"]))
    message["To"] = "support@desk.example"
    message["Subject"] = draw(st.text(st.characters(codec="utf-8", exclude_categories=["C"])))
    message.set_content(draw(st.text(st.characters(codec="utf-8", exclude_characters="\r"))))
    return message.as_bytes()


schemathesis.openapi.media_type("message/rfc822", raw_mails())


@pytest.fixture
def app(db: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FastAPI]:
    """A fresh app on the test database, without per-client rate limits; files go to
    `tmp_path`, and a MAIL_SECRET_KEY lets mailboxes be stored.

    At hundreds of requests a minute from one client the limits would answer most of them 429
    (also the unauthenticated ones schemathesis sends to check that auth is not ignored), which
    tests nothing of the schema; tests/limits covers the limits themselves.
    """
    with monkeypatch.context() as patch:
        for name in ("RATE_LIMIT_WRITES", "RATE_LIMIT_CLASSIFY", "RATE_LIMIT_EXPORTS"):
            patch.setenv(name, "")
        patch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
        patch.setenv("MAIL_SECRET_KEY", mailboxes.generate_key())
        get_settings.cache_clear()
        yield create_api()  # its middleware reads the settings on its first request
    get_settings.cache_clear()


def _is_positive(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def _with_known_values(case: Case, admin_id: int) -> None:
    """Give a valid request the values only the server's state makes valid (see above)."""
    if case.query:
        case.query.pop("cursor", None)
    if case.headers:
        case.headers.pop("If-Match", None)
        if "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = str(uuid.uuid4())
    if isinstance(case.body, dict):
        case.body.pop("confirm_count", None)
        for fields in (case.body, case.body.get("changes")):
            if isinstance(fields, dict) and fields.get("assignee_id") is not None:
                fields["assignee_id"] = admin_id


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=DEEP is None,
    # `db` and the credentials are per test (one database state per operation), not per example.
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(
    case: Case, app: FastAPI, credentials: Callable[[str], dict[str, Any]]
) -> None:
    if _is_positive(case):
        _with_known_values(case, users.list_users()[0].id)
    case.call_and_validate(
        app=app, timeout=REQUEST_TIMEOUT_SECONDS, **credentials(case.operation.path)
    )


@pytest.fixture
def credentials(admin_token: str) -> Callable[[str], dict[str, Any]]:
    """The credentials for an operation's path (made once per test, not per example).

    The admin's token; for raw mail one with the `mail:inbound` scope; for mailboxes and the
    quarantine, which no token may manage, the admin's console session cookie.
    """

    @cache
    def for_path(path: str) -> dict[str, Any]:
        if path.startswith(("/api/mailboxes/", "/api/mail/")):
            signed_in = sessions.sign_in(ADMIN_EMAIL, TEST_PASSWORD)
            return {"cookies": {sessions.SESSION_COOKIE: signed_in.token}}
        secret = admin_token
        if path == "/api/inbound/email/":
            secret, _ = tokens.create_token(ADMIN_EMAIL, "mta", scopes="mail:inbound", actor=SYSTEM)
        return {"headers": {"Authorization": f"Bearer {secret}"}}

    return for_path
