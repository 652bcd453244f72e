"""Migration 0004 (staff, sessions, tokens, audit trail) goes down and up again on both dialects
without losing a ticket, and the tickets table keeps its CHECK constraints both ways."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tests.auth.support import actor_of, add_token, add_user, bearer
from tests.conftest import ADMIN_EMAIL
from ticket_app.api.app import create_api
from ticket_app.models import Role
from ticket_app.schemas import TicketCreate
from ticket_app.services.imports.write import import_records
from ticket_app.services.migrations import downgrade_database, upgrade_database
from ticket_app.services.tickets import create_ticket

IDENTITY_TABLES = {"staff_users", "staff_sessions", "api_tokens", "ticket_events"}
NEW_COLUMNS = {"created_by", "labels_confirmed_by"}
SNAPSHOT = (
    "SELECT id, title, description, category, priority, status, suggested_category, "
    "external_id FROM tickets ORDER BY id"
)
BAD_PRIORITY = (
    "INSERT INTO tickets (title, description, category, priority) "
    "VALUES ('t', 'd', 'general', 'urgent')"
)


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def columns(engine: Engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("tickets")}


def tickets(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(SNAPSHOT))]


def creators(engine: Engine) -> list[int | None]:
    with engine.connect() as connection:
        query = sa.text("SELECT created_by FROM tickets ORDER BY id")
        return list(connection.execute(query).scalars())


def assert_checks_hold(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(sa.text(BAD_PRIORITY))


def test_downgrade_drops_identity_and_keeps_tickets_then_upgrade_restores(
    db: Engine, database_url: str
) -> None:
    admin = add_user(Role.ADMIN)
    add_token(ADMIN_EMAIL)
    legacy = {"title": "Legacy ticket", "description": "Old", "category": "general"}
    assert import_records([(1, {**legacy, "external_id": "OLD-1"})], classify=False).inserted == 1
    staff_ticket = TicketCreate.model_validate(
        {"title": "Staff", "description": "Refund please", "category": "billing", "priority": "low"}
    )
    create_ticket(staff_ticket, actor=actor_of(ADMIN_EMAIL))
    before = tickets(db)
    assert len(before) == 2
    assert creators(db) == [None, admin.id]
    try:
        downgrade_database(database_url, "0003")
        db.dispose()
        assert not IDENTITY_TABLES & tables(db)
        assert not NEW_COLUMNS & columns(db)
        assert tickets(db) == before
        assert_checks_hold(db)
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert tables(db) >= IDENTITY_TABLES
    assert columns(db) >= NEW_COLUMNS
    assert tickets(db) == before
    assert_checks_hold(db)
    with db.connect() as connection:
        staff = connection.execute(sa.text("SELECT count(*) FROM staff_users")).scalar()
    assert staff == 0  # identity starts afresh: the first admin is set up again
    assert creators(db) == [None, None]  # nobody is credited with tickets after the round trip

    # The app works on the round-tripped schema.
    add_user(Role.ADMIN)
    with TestClient(create_api(), headers=bearer(add_token(ADMIN_EMAIL))) as client:
        listed = client.get("/api/tickets/")
        assert listed.status_code == 200
        assert {t["title"] for t in listed.json()} == {"Legacy ticket", "Staff"}
        patched = client.patch(f"/api/tickets/{before[0][0]}/", json={"status": "closed"})
        assert patched.status_code == 200
        events = client.get(f"/api/tickets/{before[0][0]}/events/").json()
        assert [(e["kind"], e["field"]) for e in events] == [("changed", "status")]
