"""Schemathesis fuzzes every operation of the API's own OpenAPI schema (issue 10).

The app's schema is loaded in-process (`schemathesis.openapi.from_asgi`) from a fresh
`create_api()` on the test database (`db`: SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
and every operation gets schemathesis' phases (examples, coverage, fuzzing) with a bounded
number of fuzzed examples (MAX_EXAMPLES), called with an admin's API token. Every check
schemathesis enables by default runs (server errors, status codes, content types, response
schemas and headers, positive data accepted, negative data rejected, missing headers, unsupported
methods with `Allow`, ignored auth, ...); none is disabled.

Two adjustments to generated *valid* requests, because the schema cannot say what the server
knows from earlier requests; invalid requests are sent as generated:

- `cursor` is left out: a cursor is an opaque token this API issued for a page it served, so a
  string that merely fits the schema is rightly a 422 (tests/core and tests/api check cursors).
- `Idempotency-Key`, when generated, is made unique per request: the same key with another body
  is rightly a 422, and generated keys repeat (tests/api/test_api_idempotency.py checks keys).
- `If-Match` is left out: only the ETag the server sent matches, any other is rightly a 412
  (tests/api/test_api_etag.py checks it). So is a bulk change's `confirm_count`: it must equal
  the number of selected tickets (tests/api/test_api_bulk.py).
- An `assignee_id` becomes the admin's id: only an active agent's or admin's id is accepted
  (tests/api/test_api_assignment.py checks others).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case
from sqlalchemy.engine import Engine

from ticket_app.api.app import create_api
from ticket_app.services.identity import users
from ticket_app.settings import get_settings

# Fuzzed examples per operation and dialect (the examples and coverage phases add their own
# cases; about 850 requests a dialect in all), the same ones on every run and machine, so CI
# answers for the code, not for the draw. SCHEMATHESIS_MAX_EXAMPLES=500 runs a deeper search
# with fresh random examples, by hand.
DEEP = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES")
MAX_EXAMPLES = int(DEEP or "15")


# Loaded once, at import: building the app and its schema needs no database. (Schemathesis'
# fixture-based lazy loader is not used: it sets a pytest node attribute that pytest 9.2 no
# longer has.) The requests go to a fresh app per test, see `app`.
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_api())


@pytest.fixture
def app(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """A fresh app on the test database, without per-client rate limits.

    At hundreds of requests a minute from one client the limits would answer most of them 429
    (also the unauthenticated ones schemathesis sends to check that auth is not ignored), which
    tests nothing of the schema; tests/limits covers the limits themselves.
    """
    with monkeypatch.context() as patch:
        for name in ("RATE_LIMIT_WRITES", "RATE_LIMIT_CLASSIFY", "RATE_LIMIT_EXPORTS"):
            patch.setenv(name, "")
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
    # `db` and `admin_token` are per test (one database state per operation), not per example.
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Case, app: FastAPI, admin_token: str) -> None:
    if _is_positive(case):
        _with_known_values(case, users.list_users()[0].id)
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {admin_token}"})
