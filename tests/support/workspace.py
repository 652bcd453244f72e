"""Helpers for the agent-workspace API tests: staff with tokens, tickets at chosen times."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.support.auth import add_token, add_user, bearer, sign_in
from tests.support.tickets import make_ticket
from ticket_app.api.app import create_api
from ticket_app.models import Role, Ticket

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@contextmanager
def staff_clients(
    *roles: Role, scopes: str | None = None
) -> Iterator[list[tuple[int, TestClient]]]:
    """For each role, a new staff user (`<role>N@example.com`) and a client with their token.

    Yields (user id, client) pairs; `scopes` as for `add_token` (default: read and write).
    """
    with ExitStack() as stack:
        pairs = []
        for number, role in enumerate(roles):
            user = add_user(role, email=f"{role.value}{number}@example.com")
            headers = bearer(add_token(user.email, scopes=scopes))
            pairs.append((user.id, stack.enter_context(TestClient(create_api(), headers=headers))))
        yield pairs


@contextmanager
def signed_in(email: str) -> Iterator[TestClient]:
    """A client signed in as `email` (a session: what the console holds)."""
    with TestClient(create_api()) as client:
        sign_in(client, email)
        yield client


def ticket_at(client: TestClient, db: Engine, minutes: int, **fields: Any) -> dict[str, Any]:
    """A ticket created through the API, then moved to START + `minutes` (created and updated)."""
    ticket = make_ticket(client, **fields)
    moment = START + timedelta(minutes=minutes)
    with db.begin() as connection:
        connection.execute(
            sa.update(Ticket)
            .where(Ticket.id == ticket["id"])
            .values(created_at=moment, updated_at=moment)
        )
    return {**ticket, "created_at": moment, "updated_at": moment}


def set_updated_at(db: Engine, ticket_id: int, moment: datetime) -> None:
    """Move a ticket's last change to `moment`."""
    with db.begin() as connection:
        connection.execute(
            sa.update(Ticket).where(Ticket.id == ticket_id).values(updated_at=moment)
        )


def all_pages(client: TestClient, url: str, **params: Any) -> tuple[list[int], list[int]]:
    """Follow `Link: rel=next` from `url`; returns (ids in order, X-Total-Count of each page)."""
    ids: list[int] = []
    totals: list[int] = []
    response = client.get(url, params=params or None)
    while True:
        assert response.status_code == 200, response.text
        ids.extend(item["id"] for item in response.json())
        totals.append(int(response.headers["X-Total-Count"]))
        link = response.headers.get("Link")
        if link is None:
            return ids, totals
        response = client.get(link.split(">", 1)[0].lstrip("<"))


def error_fields(response: Any) -> list[str]:
    """The `field` of each error in an error answer."""
    return [error["field"] for error in response.json()["errors"]]
