"""Small helpers shared by the tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine, make_url

from ticket_app.models import Ticket


def make_ticket(client: TestClient, **fields: Any) -> dict[str, Any]:
    """Create a ticket through the API (defaults fill the required fields) and return its JSON."""
    payload = {
        "title": "Printer on fire",
        "description": "The office printer is literally on fire.",
        "category": "technical",
        "priority": "high",
        **fields,
    }
    response = client.post("/api/tickets/", json=payload)
    assert response.status_code == 201, response.text
    return response.json()


def set_created_at(engine: Engine, ticket_id: int, created_at: datetime) -> None:
    """Backdate a ticket, as an import of historical tickets would."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(Ticket).where(Ticket.id == ticket_id).values(created_at=created_at)
        )


@contextmanager
def scratch_postgres_database(base_url: str, prefix: str = "triage_test") -> Iterator[str]:
    """Create an empty PostgreSQL database beside `base_url`'s, yield its URL, then drop it.

    The server must let the `base_url` user create databases (CI's and this machine's trust
    auth as postgres does). The drop forces out connections a test may have left open.
    """
    server = make_url(base_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
