"""`/_health` tells anyone only "ok" or "not ok": Reflex's own check runs behind our app (as
`rx.App(api_transformer=...)` mounts it) but which dependency failed is not shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import reflex.model
from fastapi.testclient import TestClient
from reflex.app import health
from reflex.utils import prerequisites
from starlette.applications import Starlette
from starlette.routing import Route

from ticket_app.api.app import create_api


@pytest.fixture
def served() -> Iterator[TestClient]:
    """Our app with Reflex's real `/_health` handler mounted behind it, as when served."""
    api = create_api()
    api.mount("", Starlette(routes=[Route("/_health", health, methods=["GET"])]))
    with TestClient(api) as client:
        yield client


@pytest.fixture
def database_up(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """Reflex's checks as the served app runs them (a database, no Redis); the database's
    answer is `database_up["db"]`."""
    state = {"db": True}
    monkeypatch.setattr(prerequisites, "check_db_used", lambda: True)
    monkeypatch.setattr(prerequisites, "check_redis_used", lambda: False)
    monkeypatch.setattr(reflex.model, "get_db_status", lambda: {"db": state["db"]})
    yield state


def test_health_says_ok_and_nothing_more(served: TestClient, database_up: dict) -> None:
    response = served.get("/_health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"  # still wrapped by ours


def test_health_says_not_ok_without_naming_the_database(
    served: TestClient, database_up: dict
) -> None:
    database_up["db"] = False
    response = served.get("/_health")
    assert response.status_code == 503
    assert response.json() == {"status": "not ok"}
    assert "db" not in response.text


def test_head_gets_the_status_alone(served: TestClient, database_up: dict) -> None:
    database_up["db"] = False
    response = served.head("/_health")
    assert response.status_code == 503
    assert response.content == b""
