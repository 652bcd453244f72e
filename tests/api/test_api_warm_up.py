"""The server's warm-up (`services.warmup.warm_up`, `api.app.warm_up_api`) prepares the first
request's work without leaving a trace: no ticket, no audit event, no credential marked used."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from ticket_app.api.app import create_api, warm_up_api
from ticket_app.models import ApiToken, StaffSession, Ticket, TicketEvent
from ticket_app.services import warmup


def _table_counts(db: Engine) -> dict[str, int]:
    with db.connect() as connection:
        return {
            model.__tablename__: connection.execute(
                sa.select(sa.func.count()).select_from(model)
            ).scalar_one()
            for model in (Ticket, TicketEvent, StaffSession)
        }


def _tokens_last_used(db: Engine) -> list[object]:
    with db.connect() as connection:
        return list(connection.execute(sa.select(ApiToken.id, ApiToken.last_used_at)).all())


def test_every_step_runs_and_nothing_stays_written(
    db: Engine, admin_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    before, tokens_before = _table_counts(db), _tokens_last_used(db)
    with caplog.at_level(logging.ERROR, logger=warmup.logger.name):
        costs = warmup.warm_up()
    assert [cost.name for cost in costs] == [name for name, _ in warmup.STEPS]
    assert "credential lookups" in [cost.name for cost in costs]
    assert not [record for record in caplog.records if "failed" in record.getMessage()]
    assert _table_counts(db) == before
    assert _tokens_last_used(db) == tokens_before


def test_the_api_answers_as_before_after_its_warm_up(db: Engine, admin_token: str) -> None:
    api = create_api()
    warm_up_api(api)
    with TestClient(api, headers={"Authorization": f"Bearer {admin_token}"}) as client:
        created = client.post("/api/tickets/", json={"title": "After", "description": "warm"})
        assert created.status_code == 201
        refused = client.post("/api/tickets/", json={"title": "", "description": "x"})
        assert refused.status_code == 422
        assert "title" in refused.text
        assert client.get("/api/tickets/").json()[0]["title"] == "After"
