"""Requesters found or created by a create, on both databases: one record per address in any
case, its name filled in once, in one statement."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ticket_app.models import Requester
from ticket_app.services.database import service_session
from ticket_app.services.requesters import upsert_requester


def stored_requesters() -> list[tuple[int, str, str | None]]:
    with service_session() as session:
        rows = session.execute(
            sa.select(Requester.id, Requester.email, Requester.name).order_by(Requester.id)
        )
        return [tuple(row) for row in rows]


def upsert(email: str, name: str | None) -> int:
    with service_session() as session:
        return upsert_requester(session, email, name)


def test_an_address_in_any_case_is_one_requester(db: Engine) -> None:
    first = upsert(" Ada@Example.org ", "Ada Lovelace")
    again = upsert("ada@example.ORG", "Someone Else")
    other = upsert("grace@example.org", None)

    assert again == first
    assert other != first
    assert stored_requesters() == [
        (first, "ada@example.org", "Ada Lovelace"),
        (other, "grace@example.org", None),
    ]


def test_a_known_requester_without_a_name_gets_the_first_one_given(db: Engine) -> None:
    requester_id = upsert("grace@example.org", None)

    assert upsert("Grace@example.org", "   ") == requester_id
    assert upsert("grace@example.org", "Grace Hopper") == requester_id
    assert upsert("grace@example.org", "G. Hopper") == requester_id
    assert stored_requesters() == [(requester_id, "grace@example.org", "Grace Hopper")]


def test_new_and_known_requesters_cost_one_statement_each(db: Engine) -> None:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with service_session() as session:
        session.execute(sa.select(1))  # the transaction's own statements come before
        sa.event.listen(db, "before_cursor_execute", record)
        try:
            upsert_requester(session, "ada@example.org", None)
            upsert_requester(session, "ada@example.org", "Ada")
        finally:
            sa.event.remove(db, "before_cursor_execute", record)

    assert len(statements) == 2
