"""A code's rare part looked up in the trigram indexes, the whole code checked (PostgreSQL), and
the sample of trigram shares that chooses the part (`services.search_trigrams`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.database import statements_sent
from ticket_app.schemas import TicketCreate, TicketFilters
from ticket_app.search.trigrams import index_substring
from ticket_app.services import search_trigrams, tickets

CODE = "errq5821"


@pytest.fixture
def no_sample() -> Iterator[None]:
    search_trigrams.forget_sample()
    yield
    search_trigrams.forget_sample()


def _add(title: str, description: str) -> int:
    data = TicketCreate(title=title, description=description, category="technical")
    return tickets.create_ticket(data, actor=SYSTEM).id


def _corpus(db: Engine) -> tuple[int, int]:
    """30 tickets saying "error", one with CODE, one with CODE's rare part only; analyzed."""
    for n in range(30):
        _add(f"Export error {n}", f"The export fails with an error after {n} rows.")
    wanted = _add(f"Printer {CODE.upper()} again", "It stops at page two.")
    decoy = _add("Scanner code", f"It shows x{CODE[1:]} on its screen.")
    with db.begin() as connection:
        connection.exec_driver_sql("ANALYZE tickets")
    return wanted, decoy


def _search(term: str) -> list[int]:
    return [item.id for item in tickets.list_tickets(TicketFilters(search=term)).items]


def test_a_code_matches_the_same_tickets_through_its_rare_part(db: Engine, no_sample: None) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("pg_trgm")
    wanted, decoy = _corpus(db)
    assert _search(CODE) == [wanted]

    sample = search_trigrams.refresh_sample()
    assert sample is not None and search_trigrams.current_sample() is sample
    assert sample.shares["err"] > 0.9 and sample.floor == pytest.approx(1 / 32)
    assert index_substring(CODE, sample.shares, sample.floor) == CODE[1:]
    assert _search(CODE) == [wanted]  # the decoy holds the part, not the code
    assert _search(CODE[1:]) == [decoy, wanted]


def test_the_indexes_are_asked_for_the_rare_part_only(db: Engine, no_sample: None) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans")
    _corpus(db)
    search_trigrams.refresh_sample()
    with statements_sent(db, containing="ILIKE") as statements:
        _search(CODE)
    statement, params = statements[0]
    with db.connect() as connection:
        # As for a rare code at a million tickets: the trigram indexes' bitmaps, not a walk
        # of the newest tickets, which the planner prefers for 32.
        for method in ("seqscan", "indexscan"):
            connection.exec_driver_sql(f"SET LOCAL enable_{method} = off")
        plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}", params).scalars().all())
    conditions = [line for line in plan.splitlines() if "Index Cond" in line and "~~*" in line]
    assert conditions and all(f"'%{CODE[1:]}%'" in line for line in conditions)
    assert f"'%{CODE}%'" in plan  # checked on the rows, outside the index


def test_a_sample_reads_every_ticket_of_a_small_desk_and_keeps_repeated_trigrams(
    db: Engine, no_sample: None
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("pg_trgm")
    _corpus(db)
    with db.connect() as connection:
        sample = search_trigrams.take_sample(connection)
    assert sample is not None
    assert sample.shares["err"] == pytest.approx(31 / 32)
    assert sample.shares["rro"] == pytest.approx(30 / 32)
    assert "rrq" in sample.shares and "ttt" not in sample.shares  # seen twice; never
    assert all(len(gram) == 3 and gram.isalnum() for gram in sample.shares)


def test_without_a_sample_or_on_sqlite_whole_terms_are_looked_up(
    db: Engine, no_sample: None
) -> None:
    wanted, _ = _corpus(db) if db.dialect.name == "postgresql" else (_add(CODE, "x"), 0)
    before = {thread.name for thread in threading.enumerate()}
    if db.dialect.name == "sqlite":
        search_trigrams.keep_fresh()  # nothing to sample: SQLite's search scans the table
        assert "trigram-sample" not in {thread.name for thread in threading.enumerate()} - before
    assert search_trigrams.current_sample() is None
    assert _search(CODE) == [wanted]
