"""The audit trail: every path that changes tickets or credentials leaves events naming the actor,
in the same transaction as the change (a refused write leaves none), readable page by page
through GET /api/tickets/{id}/events/."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth.support import (
    Clients,
    actor_of,
    add_ticket,
    add_token,
    add_user,
    bearer,
    sign_in,
)
from tests.conftest import ADMIN_EMAIL, SYSTEM
from ticket_app.models import (
    ActorKind,
    Category,
    EventKind,
    Priority,
    Role,
    Status,
    TicketEvent,
)
from ticket_app.schemas import TicketCreate, TicketFilters, TicketUpdate
from ticket_app.services.audit import MAX_VALUE_CHARS
from ticket_app.services.errors import ConstraintViolationError, PermissionDeniedError
from ticket_app.services.identity import tokens, users
from ticket_app.services.imports.write import import_records
from ticket_app.services.tickets import (
    create_ticket,
    get_ticket,
    list_ticket_events,
    list_tickets,
    record_export,
    update_ticket,
)

TICKET = {
    "title": "Refund",
    "description": "Please refund my last invoice.",
    "category": "billing",
    "priority": "medium",
}
UNCHANGED = ("title", "category")  # sent in a PATCH with their current values
ADMIN_TOKEN_LABEL = f"{ADMIN_EMAIL} (token tests)"  # the `client` fixture's token


def events(client: TestClient, ticket_id: int) -> list[dict]:
    response = client.get(f"/api/tickets/{ticket_id}/events/?limit=200")
    assert response.status_code == 200, response.text
    return response.json()


def all_events(engine: Engine) -> list[TicketEvent]:
    with Session(engine) as session:
        return list(session.exec(select(TicketEvent).order_by(TicketEvent.id)).all())


def test_api_create_is_recorded_with_the_token_and_its_owner(client: TestClient) -> None:
    ticket = client.post("/api/tickets/", json=TICKET).json()
    admin = users.list_users()[0]
    [created] = events(client, ticket["id"])
    assert created["kind"] == "created"
    assert created["actor_kind"] == "token"
    assert created["actor"] == ADMIN_TOKEN_LABEL
    assert created["actor_user_id"] == admin.id
    assert created["ticket_id"] == ticket["id"]
    assert created["new_value"] == "Refund"
    assert ticket["created_by"] == admin.id


def test_patch_records_one_event_per_changed_field(client: TestClient) -> None:
    ticket = client.post("/api/tickets/", json=TICKET).json()
    response = client.patch(
        f"/api/tickets/{ticket['id']}/",
        json={
            "priority": "high",
            "status": "in_progress",
            "category": "billing",
            "title": "Refund",
        },
    )
    assert response.status_code == 200
    changes = [
        (e["field"], e["old_value"], e["new_value"], e["actor"])
        for e in events(client, ticket["id"])
        if e["kind"] == "changed"
    ]
    assert sorted(changes) == [
        ("priority", "medium", "high", ADMIN_TOKEN_LABEL),
        ("status", "open", "in_progress", ADMIN_TOKEN_LABEL),
    ]


def test_a_patch_that_changes_nothing_records_nothing(client: TestClient) -> None:
    ticket = client.post("/api/tickets/", json=TICKET).json()
    before = events(client, ticket["id"])
    for body in ({}, {"priority": "medium"}, {k: TICKET[k] for k in ("title", "category")}):
        response = client.patch(f"/api/tickets/{ticket['id']}/", json=body)
        assert response.status_code == 200
        assert response.json()["updated_at"] == ticket["updated_at"]
    assert events(client, ticket["id"]) == before


def test_session_changes_are_recorded_with_the_users_email(clients: Clients) -> None:
    agent = add_user(Role.AGENT)
    client = clients()
    sign_in(client, agent.email)
    ticket_id = add_ticket()
    client.patch(f"/api/tickets/{ticket_id}/", json={"priority": "low"})
    change = events(client, ticket_id)[-1]
    assert (change["actor_kind"], change["actor"], change["actor_user_id"]) == (
        "user",
        "agent@example.com",
        agent.id,
    )
    created = events(client, ticket_id)[0]
    assert (created["actor_kind"], created["actor"]) == ("system", "tests")


def test_long_values_are_clipped_in_the_event(client: TestClient) -> None:
    ticket = client.post("/api/tickets/", json=TICKET).json()
    long_text = "word " * 2000
    client.patch(f"/api/tickets/{ticket['id']}/", json={"description": long_text})
    change = events(client, ticket["id"])[-1]
    assert change["old_value"] == TICKET["description"]
    assert len(change["new_value"]) == MAX_VALUE_CHARS
    assert change["new_value"].endswith("…")
    assert get_ticket(ticket["id"]).description == long_text  # the ticket keeps it all


def test_events_are_paginated_through_the_link_header(client: TestClient) -> None:
    ticket = client.post("/api/tickets/", json=TICKET).json()
    for n in range(7):
        client.patch(f"/api/tickets/{ticket['id']}/", json={"title": f"Refund {n}"})
    pages, url = [], f"/api/tickets/{ticket['id']}/events/?limit=3"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(response.json())
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else None
    assert [len(page) for page in pages] == [3, 3, 2]
    flat = [event for page in pages for event in page]
    assert flat == events(client, ticket["id"])
    assert [e["id"] for e in flat] == sorted({e["id"] for e in flat})
    assert [e["new_value"] for e in flat[1:]] == [f"Refund {n}" for n in range(7)]


def test_event_listing_refuses_foreign_cursors_and_unknown_tickets(client: TestClient) -> None:
    ticket = client.post("/api/tickets/", json=TICKET).json()
    bad = client.get(f"/api/tickets/{ticket['id']}/events/?cursor=not-ours")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"
    assert client.get("/api/tickets/999999/events/").status_code == 404


def test_import_records_an_imported_event_per_new_ticket(client: TestClient, db: Engine) -> None:
    rows = [
        {"title": f"Imported {n}", "description": "From the old system", "category": "billing"}
        for n in range(3)
    ]
    report = import_records(enumerate(rows, start=1), classify=False)
    assert report.inserted == 3, report.errors
    for ticket in list_tickets().items:
        [imported] = events(client, ticket.id)
        assert (imported["kind"], imported["actor_kind"], imported["actor"]) == (
            "imported",
            "import",
            "import",
        )
        assert ticket.created_by is None


def test_import_by_a_named_actor_is_recorded_as_that_actor(admin_token: str) -> None:
    rows = [{"title": "Imported", "description": "From the old system", "category": "billing"}]
    report = import_records(enumerate(rows, start=1), classify=False, actor=actor_of(ADMIN_EMAIL))
    assert report.inserted == 1
    [ticket] = list_tickets().items
    [imported] = list_ticket_events(ticket.id).items
    assert (imported.kind, imported.actor_kind, imported.actor) == (
        EventKind.IMPORTED,
        ActorKind.USER,
        ADMIN_EMAIL,
    )


def test_import_refused_to_an_actor_without_the_permission_writes_nothing(db: Engine) -> None:
    add_user(Role.AGENT)
    before = all_events(db)
    rows = [{"title": "Imported", "description": "From the old system", "category": "billing"}]
    with pytest.raises(PermissionDeniedError):
        import_records(
            enumerate(rows, start=1), classify=False, actor=actor_of("agent@example.com")
        )
    assert list_tickets().total == 0
    assert all_events(db) == before


def test_export_writes_an_exported_event_with_its_filters(client: TestClient, db: Engine) -> None:
    add_ticket()
    response = client.get("/api/tickets/export/?category=technical")
    assert response.status_code == 200
    exported = [e for e in all_events(db) if e.kind == EventKind.EXPORTED]
    assert len(exported) == 1
    assert exported[0].ticket_id is None
    assert exported[0].actor_label == ADMIN_TOKEN_LABEL
    assert exported[0].field == "filters"
    assert '"category":"technical"' in exported[0].new_value


def test_a_refused_export_writes_no_event(clients: Clients, db: Engine) -> None:
    add_user(Role.VIEWER)
    client = clients(headers=bearer(add_token("viewer@example.com")))
    assert client.get("/api/tickets/export/").status_code == 403
    with pytest.raises(PermissionDeniedError):
        record_export(TicketFilters(), actor=actor_of("viewer@example.com"))
    assert [e for e in all_events(db) if e.kind == EventKind.EXPORTED] == []


def test_a_write_the_database_refuses_leaves_no_event(db: Engine) -> None:
    blank_title = TicketCreate.model_construct(
        title="   ",
        description="d",
        category=Category.GENERAL,
        priority=Priority.LOW,
        status=Status.OPEN,
    )
    with pytest.raises(ConstraintViolationError):
        create_ticket(blank_title, actor=SYSTEM)
    assert list_tickets().total == 0
    assert all_events(db) == []

    ticket_id = add_ticket()
    before = all_events(db)
    with pytest.raises(ConstraintViolationError):
        update_ticket(
            ticket_id,
            TicketUpdate.model_construct(title="   ", priority=Priority.LOW),
            actor=SYSTEM,
        )
    assert get_ticket(ticket_id).title == "Printer on fire"
    assert get_ticket(ticket_id).priority == "high"
    assert all_events(db) == before


def test_a_refused_api_write_leaves_no_event(clients: Clients, db: Engine) -> None:
    add_user(Role.VIEWER)
    ticket_id = add_ticket()
    before = all_events(db)
    viewer = clients()
    sign_in(viewer, "viewer@example.com")
    assert viewer.patch(f"/api/tickets/{ticket_id}/", json={"priority": "low"}).status_code == 403
    assert viewer.post("/api/tickets/", json=TICKET).status_code == 403
    assert all_events(db) == before


def test_staff_and_token_changes_are_recorded_without_secrets(db: Engine) -> None:
    users.create_user(ADMIN_EMAIL, "admin", "correct horse battery staple", actor=SYSTEM)
    agent = add_user(Role.AGENT)
    users.set_role(agent.email, Role.VIEWER, actor=SYSTEM)
    users.set_active(agent.email, False, actor=SYSTEM)
    secret, token = tokens.create_token(ADMIN_EMAIL, "ci", actor=SYSTEM)
    tokens.revoke_token(token.id, actor=SYSTEM)
    recorded = [(e.kind, e.field, e.ticket_id, e.actor_kind) for e in all_events(db)]
    assert recorded == [
        (EventKind.USER_CREATED, "role", None, ActorKind.SYSTEM),
        (EventKind.USER_CREATED, "role", None, ActorKind.SYSTEM),
        (EventKind.USER_CHANGED, "role", None, ActorKind.SYSTEM),
        (EventKind.USER_CHANGED, "active", None, ActorKind.SYSTEM),
        (EventKind.TOKEN_CREATED, "token", None, ActorKind.SYSTEM),
        (EventKind.TOKEN_REVOKED, "token", None, ActorKind.SYSTEM),
    ]
    values = " ".join(f"{e.old_value} {e.new_value}" for e in all_events(db))
    assert token.prefix in values
    assert secret not in values
    with db.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM ticket_events")).scalar() == 6
