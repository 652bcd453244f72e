"""`/_health` tells anyone only "ok" or "not ok": Reflex's own check runs behind our app (as
`rx.App(api_transformer=...)` mounts it) but which dependency failed is not shown. Both health
checks say "starting" until the server's warm-up has loaded the models."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import reflex.model
from fastapi.testclient import TestClient
from reflex.app import health
from reflex.utils import prerequisites
from starlette.applications import Starlette
from starlette.routing import Route

from ticket_app.api.app import create_api, create_served_api
from ticket_app.services import warmup


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


@pytest.fixture
def slow_warm_up(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """This process's warm-up replaced by one step that waits until the event is set."""
    release = threading.Event()
    process = warmup.WarmUp(steps=(("a slow model", lambda: release.wait(30)),))
    monkeypatch.setattr(warmup, "process_warm_up", process)
    yield release
    release.set()


def test_ping_says_starting_until_the_warm_up_is_done(slow_warm_up: threading.Event) -> None:
    with TestClient(create_served_api()) as client:  # its start starts the warm-up
        starting = client.get("/ping")
        assert starting.status_code == 503
        assert starting.json() == {"status": "starting"}
        assert client.get("/_health").status_code == 503

        slow_warm_up.set()
        assert warmup.process_warm_up.wait(10)
        ready = client.get("/ping")
        assert ready.status_code == 200
        assert ready.json() == "pong"


def test_a_failing_model_does_not_keep_the_server_starting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded = []

    def broken() -> None:
        raise RuntimeError("model file missing")

    steps = (("broken", broken), ("next", lambda: loaded.append("next")))
    monkeypatch.setattr(warmup, "process_warm_up", warmup.WarmUp(steps=steps))
    with TestClient(create_served_api()) as client:
        assert warmup.process_warm_up.wait(10)
        assert client.get("/ping").status_code == 200
    assert loaded == ["next"]  # the step after the failing one still ran
