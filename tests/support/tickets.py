"""Tickets for API tests: created through the API, backdated in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

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
