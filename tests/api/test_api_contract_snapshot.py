"""The API's published contract does not change by accident.

`/api/openapi.json` must be byte-identical to `snapshots/openapi.json`, the copy taken before the
naming-grid refactor (issue 20), which moves code between modules and must change no behaviour.
A deliberate change to the API updates the copy in the same commit, so the diff shows what
clients will see:

    .venv/bin/python -m tests.api.test_api_contract_snapshot
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from ticket_app.api.app import create_api

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"


def published_schema() -> bytes:
    """The bytes `/api/openapi.json` serves, from a fresh API app."""
    with TestClient(create_api()) as client:
        response = client.get("/api/openapi.json")
    response.raise_for_status()
    return response.content


def test_the_openapi_document_is_byte_identical_to_the_snapshot() -> None:
    assert published_schema() == SNAPSHOT.read_bytes(), (
        "/api/openapi.json changed; if the change is deliberate, regenerate the snapshot with "
        "`.venv/bin/python -m tests.api.test_api_contract_snapshot` and commit it with the change"
    )


if __name__ == "__main__":
    SNAPSHOT.write_bytes(published_schema())
