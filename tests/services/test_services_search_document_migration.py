"""Migration 0032: a ticket's search document is the same whichever way the trigger computes it.

The trigger now computes an inserted ticket's document as a simple expression; an edited
ticket's document still includes its conversation. Checked through the API on both sides of
the migration (PostgreSQL; SQLite's FTS5 documents are not touched by it).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.tickets import make_ticket
from ticket_app.services.migrations import downgrade_database, upgrade_database


def _write_and_edit(client: TestClient, title: str) -> tuple[int, int]:
    """A ticket left as created, and one edited after a reply; their ids."""
    created = make_ticket(client, title=title, description="Die Rechnung ist doppelt gebucht")
    edited = make_ticket(client, title=title, description="The invoice was charged twice")
    reply = client.post(
        f"/api/tickets/{edited['id']}/comments/",
        json={"body": "Refunded the duplicate payment", "public": True},
    )
    assert reply.status_code == 201, reply.text
    patched = client.patch(f"/api/tickets/{edited['id']}/", json={"title": f"{title}, refunded"})
    assert patched.status_code == 200, patched.text
    return created["id"], edited["id"]


def _documents(db: Engine, *ticket_ids: int) -> list[tuple[Any, Any]]:
    """(stored document, document computed afresh from the ticket and its comments) per id."""
    with db.connect() as connection:
        return [
            tuple(
                connection.execute(
                    sa.text(
                        "SELECT search_document::text, td_ticket_search_document(id)::text "
                        "FROM tickets WHERE id = :id"
                    ),
                    {"id": ticket_id},
                ).one()
            )
            for ticket_id in ticket_ids
        ]


def test_documents_are_the_same_before_and_after_the_migration(
    client: TestClient, db: Engine, database_url: str
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    try:
        downgrade_database(database_url, "0031")
        db.dispose()
        before = _documents(db, *_write_and_edit(client, "Double charge"))
    finally:
        upgrade_database(database_url)
        db.dispose()
    after = _documents(db, *_write_and_edit(client, "Double charge"))

    assert after == before
    for stored, computed in after:
        assert stored == computed
    assert "'refund'" in after[1][0] and "'duplic'" in after[1][0]

    found = client.get("/api/tickets/", params={"search": "duplicate refunded"}).json()
    assert {ticket["title"] for ticket in found} == {"Double charge, refunded"}
