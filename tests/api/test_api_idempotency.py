"""Creating a ticket at most once (issue 12, item 17): `Idempotency-Key` replays the first answer,
`external_id` is unique with a 409 naming the existing ticket; migration 0006 goes down and up."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import ADMIN_EMAIL, SYSTEM
from ticket_app.api.app import create_api
from ticket_app.models import IdempotencyKey, utc_now
from ticket_app.services import tickets as ticket_service
from ticket_app.services.identity import tokens, users
from ticket_app.services.imports.write import import_records
from ticket_app.services.migrations import downgrade_database, upgrade_database

TICKET = {
    "title": "Checkout fails",
    "description": "Every card payment fails with error 502.",
    "category": "billing",
    "priority": "critical",
}


def create(client: TestClient, key: str | None = None, **fields):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/tickets/", json={**TICKET, **fields}, headers=headers)


def ticket_count(client: TestClient) -> int:
    return int(client.get("/api/tickets/").headers["x-total-count"])


def key_error(response) -> str:
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "Idempotency-Key"
    return error["message"]


def test_same_key_and_body_returns_the_first_answer(client: TestClient) -> None:
    first = create(client, "order-42")
    again = create(client, "order-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert ticket_count(client) == 1


def test_the_replay_is_the_first_answer_even_after_an_edit(client: TestClient) -> None:
    first = create(client, "k-1").json()
    client.patch(f"/api/tickets/{first['id']}/", json={"status": "closed"})
    assert create(client, "k-1").json() == first


def test_same_key_with_another_body_is_a_422_naming_the_header(client: TestClient) -> None:
    create(client, "k-2")
    assert "different request" in key_error(create(client, "k-2", priority="low"))
    assert ticket_count(client) == 1


def test_bodies_that_mean_the_same_request_are_the_same(client: TestClient) -> None:
    """The fingerprint is of the validated request: spacing around the title changes nothing."""
    first = create(client, "k-3")
    assert create(client, "k-3", title=f"  {TICKET['title']}  ").json() == first.json()


def test_without_a_key_every_post_creates(client: TestClient) -> None:
    assert create(client).json()["id"] != create(client).json()["id"]


def test_keys_are_per_user(client: TestClient, db: Engine) -> None:
    users.create_user("agent@example.com", "agent", "correct horse battery staple", actor=SYSTEM)
    agent_secret, _ = tokens.create_token("agent@example.com", "ci", actor=SYSTEM)
    second_secret, _ = tokens.create_token(ADMIN_EMAIL, "second", actor=SYSTEM)
    first = create(client, "shared-key").json()
    with TestClient(create_api(), headers={"Authorization": f"Bearer {agent_secret}"}) as agent:
        assert create(agent, "shared-key").json()["id"] != first["id"]
    with TestClient(create_api(), headers={"Authorization": f"Bearer {second_secret}"}) as same:
        assert create(same, "shared-key").json() == first  # the admin's other token
    assert ticket_count(client) == 2


def test_a_key_counts_for_24_hours(client: TestClient, db: Engine) -> None:
    first = create(client, "daily").json()
    with db.begin() as connection:
        connection.execute(
            sa.update(IdempotencyKey).values(created_at=utc_now() - timedelta(hours=24, seconds=1))
        )
    later = create(client, "daily", priority="low")  # another body is fine once it expired
    assert later.status_code == 201 and later.json()["id"] != first["id"]
    assert create(client, "daily", priority="low").json() == later.json()
    with db.connect() as connection:  # the expired row was purged, the new one kept
        assert connection.execute(sa.select(sa.func.count()).select_from(IdempotencyKey)).one() == (
            1,
        )


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "tab\tkey"])
def test_malformed_keys_are_a_422_naming_the_header(client: TestClient, key: str) -> None:
    assert "visible ASCII" in key_error(create(client, key))
    assert ticket_count(client) == 0


def test_a_refused_body_stores_no_key(client: TestClient) -> None:
    assert create(client, "k-4", title="").status_code == 422
    assert create(client, "k-4").status_code == 201


def test_concurrent_repeats_create_one_ticket(client: TestClient) -> None:
    answers: list = []
    with ExitStack() as stack:
        own_clients = [
            stack.enter_context(TestClient(create_api(), headers=dict(client.headers)))
            for _ in range(6)
        ]
        for own in own_clients:  # each app builds its routes before the burst
            assert ticket_count(own) == 0
        threads = [
            threading.Thread(target=lambda own=own: answers.append(create(own, "burst")))
            for own in own_clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert {response.status_code for response in answers} == {201}
    assert len({response.json()["id"] for response in answers}) == 1
    assert ticket_count(client) == 1


def test_a_key_taken_between_check_and_insert_replays_the_winner(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made deterministic: the pre-check misses the winner's key, the unique index
    refuses ours, and the answer is the winner's, with nothing of ours written."""
    first = create(client, "race").json()
    real_replay = ticket_service._replay
    calls = []

    def blind_first_check(request):
        calls.append(request.key)
        return None if len(calls) == 1 else real_replay(request)

    monkeypatch.setattr(ticket_service, "_replay", blind_first_check)
    again = create(client, "race")
    assert again.status_code == 201 and again.json() == first
    assert len(calls) == 2
    assert ticket_count(client) == 1


def test_external_id_is_stored_and_a_second_create_is_a_409(client: TestClient) -> None:
    first = create(client, external_id="ZD-1001")
    assert first.status_code == 201 and first.json()["external_id"] == "ZD-1001"
    again = create(client, external_id="ZD-1001", title="Other")
    assert again.status_code == 409
    body = again.json()
    ticket_id = first.json()["id"]
    assert body["ticket"] == {"id": ticket_id, "url": f"/api/tickets/{ticket_id}/"}
    assert body["errors"][0]["field"] == "external_id"
    assert f"ticket {ticket_id}" in body["errors"][0]["message"]
    assert again.headers["location"] == f"/api/tickets/{ticket_id}/"
    assert ticket_count(client) == 1


def test_surrounding_whitespace_is_no_new_external_id(client: TestClient) -> None:
    first = create(client, external_id=" ZD-1001\t")
    assert first.status_code == 201 and first.json()["external_id"] == "ZD-1001"
    again = create(client, external_id="  ZD-1001  ", title="Other")
    assert again.status_code == 409 and again.json()["ticket"]["id"] == first.json()["id"]
    assert ticket_count(client) == 1


def test_an_imported_ticket_s_external_id_is_taken_too(client: TestClient) -> None:
    row = {"title": "Imported", "description": "From the old desk", "external_id": "OLD-7"}
    assert import_records([(1, row)], classify=False).inserted == 1
    assert create(client, external_id="OLD-7").status_code == 409


def test_an_external_id_taken_between_check_and_insert_is_a_409(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = create(client, external_id="RACE-1").json()
    real_check = ticket_service._refuse_taken_external_id
    calls = []

    def blind_first_check(external_id):
        calls.append(external_id)
        if len(calls) > 1:
            real_check(external_id)

    monkeypatch.setattr(ticket_service, "_refuse_taken_external_id", blind_first_check)
    again = create(client, external_id="RACE-1")
    assert again.status_code == 409 and again.json()["ticket"]["id"] == first["id"]
    assert ticket_count(client) == 1


@pytest.mark.parametrize("external_id", ["", "   ", "\u200b", "x" * 201, "a\x00b"])
def test_bad_external_ids_are_a_422(client: TestClient, external_id: str) -> None:
    response = create(client, external_id=external_id)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "external_id" and error["type"] == "value_error", error


def test_same_key_and_external_id_replays_rather_than_conflicts(client: TestClient) -> None:
    first = create(client, "with-ext", external_id="ZD-2")
    again = create(client, "with-ext", external_id="ZD-2")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()


def test_migration_0006_goes_down_and_up(client: TestClient, db: Engine, database_url: str) -> None:
    ticket = create(client, "before", external_id="M-1").json()
    try:
        downgrade_database(database_url, "0005")
        db.dispose()
        assert "idempotency_keys" not in sa.inspect(db).get_table_names()
        # Read with SQL: the models describe the newest schema, which 0005 does not have.
        with db.connect() as connection:
            kept = connection.execute(
                sa.text("SELECT title, external_id FROM tickets WHERE id = :id"),
                {"id": ticket["id"]},
            ).one()
        assert tuple(kept) == (ticket["title"], ticket["external_id"])
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert "idempotency_keys" in sa.inspect(db).get_table_names()
    # The ticket is as it was, but for what later migrations read from its text (0008's
    # language and sentiment), which going below them dropped.
    restored = client.get(f"/api/tickets/{ticket['id']}/").json()
    kept_fields = ("id", "title", "description", "category", "priority", "status", "external_id")
    assert {key: restored[key] for key in kept_fields} == {key: ticket[key] for key in kept_fields}
    assert restored["created_at"] == ticket["created_at"]
    assert create(client, "before", external_id="M-2").status_code == 201  # the keys went
    assert create(client, "after", external_id="M-1").status_code == 409
