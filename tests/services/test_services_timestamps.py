"""Timestamps read back in UTC on both dialects, whatever time zone the database would use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.tickets import make_ticket
from ticket_app.models import Ticket
from ticket_app.services.database import service_session, use_database
from ticket_app.services.tickets import get_ticket

# 02:30 UTC on 1 March is still 28 February in New York.
LATE_EVENING_IN_NEW_YORK = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


def test_a_tickets_timestamps_read_back_in_utc(client: TestClient, db: Engine) -> None:
    created = make_ticket(client)

    read = get_ticket(created["id"])

    assert read.created_at.utcoffset() == timedelta(0)
    assert read.updated_at is not None and read.updated_at.utcoffset() == timedelta(0)
    assert created["created_at"].endswith("+00:00")
    assert datetime.fromisoformat(created["created_at"]) == read.created_at


def test_a_database_url_asking_for_another_time_zone_still_reads_utc(
    client: TestClient, db: Engine
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has no session time zone")
    ticket_id = make_ticket(client)["id"]
    with db.begin() as connection:
        connection.execute(
            sa.update(Ticket.__table__)
            .where(Ticket.__table__.c.id == ticket_id)
            .values(created_at=LATE_EVENING_IN_NEW_YORK)
        )
    new_york = db.url.update_query_dict({"options": "-c TimeZone=America/New_York"})
    use_database(new_york.render_as_string(hide_password=False))
    try:
        read = get_ticket(ticket_id)
        with service_session() as session:
            zone = session.execute(sa.text("SHOW TimeZone")).scalar()
            day = session.execute(
                sa.select(sa.cast(Ticket.created_at, sa.Date)).where(Ticket.id == ticket_id)
            ).scalar()
    finally:
        use_database(db.url.render_as_string(hide_password=False))

    assert zone == "UTC"
    assert read.created_at == LATE_EVENING_IN_NEW_YORK
    assert read.created_at.utcoffset() == timedelta(0)
    assert day == date(2026, 3, 1)
