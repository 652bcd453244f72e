"""The search indexes' pending lists merged in the background (`services.gin_pending`)."""

from __future__ import annotations

import logging
import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from ticket_app.schemas import TicketCreate, TicketFilters
from ticket_app.services import gin_pending, tickets
from ticket_app.services.database import use_database

SEARCH_INDEXES = {
    "ix_tickets_title_trgm",
    "ix_tickets_description_trgm",
    "ix_tickets_search_document",
}


def _create(count: int, word: str) -> list[int]:
    return [
        tickets.create_ticket(
            TicketCreate(
                title=f"Invoice {word} number {n}",
                description=f"The {word} invoice {n} was charged twice this month.",
                category="billing",
                priority="medium",
            ),
            actor=SYSTEM,
        ).id
        for n in range(count)
    ]


def _searched(word: str) -> set[int]:
    return {ticket.id for ticket in tickets.list_tickets(TicketFilters(search=word)).items}


def test_merges_every_pending_list_once_and_searches_still_find_every_ticket(db: Engine) -> None:
    created = _create(12, "quokkabilling")
    substring = "okkabill"

    merged = gin_pending.clean_pending_lists()

    if db.dialect.name != "postgresql":
        assert merged == {}
    else:
        # The similarity index is built without a pending list and is not touched.
        assert set(merged) == SEARCH_INDEXES
        assert sum(merged.values()) > 0
        assert gin_pending.clean_pending_lists() == dict.fromkeys(SEARCH_INDEXES, 0)
    assert _searched("quokkabilling") == set(created)
    assert _searched(substring) == set(created)


def test_a_second_merger_at_the_same_moment_returns_at_once(db: Engine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has no pending lists")
    _create(3, "wombatrefund")
    with db.connect() as other:
        other.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": gin_pending._CLEAN_LOCK}
        )
        assert gin_pending.clean_pending_lists() == {}
        other.rollback()
    assert sum(gin_pending.clean_pending_lists().values()) > 0


def test_the_every_minute_job_logs_what_it_merged(
    db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    _create(3, "numbatcharge")
    with caplog.at_level(logging.INFO, logger=gin_pending.__name__):
        gin_pending.clean_job.call_local()
        gin_pending.clean_job.call_local()
    merged = [record for record in caplog.records if "pending lists merged" in record.message]
    assert len(merged) == (1 if db.dialect.name == "postgresql" else 0)


def test_a_user_who_does_not_own_the_indexes_merges_nothing_and_does_not_fail(
    db: Engine, database_url: str
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has no pending lists")
    _create(3, "dingoinvoice")
    role = f"triage_not_owner_{secrets.token_hex(4)}"
    with db.begin() as connection:
        connection.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
    reader_url = sa.make_url(database_url).set(username=role, password=None)
    try:
        use_database(reader_url.render_as_string(hide_password=False))
        assert gin_pending.clean_pending_lists() == {}
    finally:
        use_database(database_url)
        with db.begin() as connection:
            connection.execute(sa.text(f"DROP ROLE {role}"))
    assert sum(gin_pending.clean_pending_lists().values()) > 0
