"""The list's service-level filter (`sla=due_soon|breached`) and the `due` sort, through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support.tickets import make_ticket
from ticket_app.models import utc_now
from ticket_app.services.sla_check import check_due
from ticket_app.settings import get_settings


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [ticket["id"] for ticket in response.json()]


def test_due_sort_puts_the_nearest_target_first_and_tickets_without_one_last(
    client: TestClient,
) -> None:
    low = make_ticket(client, priority="low")["id"]
    critical = make_ticket(client, priority="critical")["id"]
    done = make_ticket(client, priority="critical")["id"]
    assert client.patch(f"/api/tickets/{done}/", json={"status": "closed"}).status_code == 200
    high = make_ticket(client, priority="high")["id"]
    assert _ids(client.get("/api/tickets/?sort=due")) == [critical, high, low, done]
    # Keyset pages stay in that order.
    first = client.get("/api/tickets/?sort=due&limit=2")
    assert _ids(first) == [critical, high]
    url = first.headers["Link"].split(";")[0].strip("<>")
    assert _ids(client.get(url)) == [low, done]


def test_due_soon_keeps_targets_falling_due_within_the_window(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    critical = make_ticket(client, priority="critical")["id"]  # first response in 60 min
    make_ticket(client, priority="low")  # first response in a day
    try:
        monkeypatch.setenv("SLA_DUE_SOON_MINUTES", "30")
        get_settings.cache_clear()
        assert _ids(client.get("/api/tickets/?sla=due_soon")) == []
        monkeypatch.setenv("SLA_DUE_SOON_MINUTES", "90")
        get_settings.cache_clear()
        assert _ids(client.get("/api/tickets/?sla=due_soon")) == [critical]
        assert _ids(client.get("/api/tickets/?sla=due_soon&priority=low")) == []
    finally:
        monkeypatch.delenv("SLA_DUE_SOON_MINUTES")
        get_settings.cache_clear()


def test_breached_keeps_tickets_whose_target_was_broken(client: TestClient) -> None:
    late = make_ticket(client, priority="critical")["id"]
    answered = make_ticket(client, priority="critical")["id"]
    client.post(f"/api/tickets/{answered}/comments/", json={"body": "On it.", "public": True})
    assert _ids(client.get("/api/tickets/?sla=breached")) == []
    check_due(utc_now() + timedelta(hours=3))
    assert _ids(client.get("/api/tickets/?sla=breached")) == [late]
    stats = client.get("/api/tickets/stats/?sla=breached").json()
    assert stats["total_tickets"] == 1


@pytest.mark.parametrize("value", ["soon", "BREACHED"])
def test_an_unknown_sla_value_is_a_422_naming_it(client: TestClient, value: str) -> None:
    response = client.get(f"/api/tickets/?sla={value}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sla"
