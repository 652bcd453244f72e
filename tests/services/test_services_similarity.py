"""Similar tickets are picked from the full-text index before ranking, and the set ranked is
capped whatever the text (issue 26), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ticket_app.services import similarity

# The most common words of the generated benchmark tickets, as a ticket of its own.
COMMON = "Password login error account email invoice refund payment order sync export report"
WEBHOOK = (
    "Since your maintenance last night the order webhook stopped delivering events, so our "
    "Shopify orders no longer sync to the warehouse system."
)
WEBHOOK_AGAIN = (
    "Order webhook events are not delivered any more after the maintenance window; orders "
    "from Shopify do not sync to our warehouse."
)


def add_tickets(db: Engine, descriptions: list[str], status: str = "open") -> list[int]:
    """Insert tickets straight into the table (the search triggers index them); their ids."""
    rows = [
        {"title": text[:60], "description": text, "category": "general", "priority": "low",
         "status": status}
        for text in descriptions
    ]  # fmt: skip
    table = sa.table("tickets", *(sa.column(name) for name in rows[0]))
    with db.begin() as connection:
        ids = connection.execute(table.insert().returning(sa.column("id")), rows).scalars().all()
        if db.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE tickets"))
    return list(ids)


@pytest.fixture
def fresh_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's term statistics read on every lookup, not kept from an earlier test."""
    monkeypatch.setattr(similarity, "STATS_SECONDS", -1.0)


@pytest.mark.usefixtures("fresh_statistics")
def test_the_candidates_of_a_text_of_common_words_are_capped(db: Engine) -> None:
    # Every ticket contains every word of the text: without a cap all of them would be ranked.
    tickets = 3 * similarity.RANKED_CANDIDATES
    add_tickets(db, [f"{COMMON} case {n}" for n in range(tickets)])
    candidates = similarity.candidates_for_text(COMMON, "Password login error")
    assert 0 < len(candidates) <= similarity.RANKED_CANDIDATES
    assert len(set(candidates)) == len(candidates)


@pytest.mark.usefixtures("fresh_statistics")
def test_a_text_with_no_rare_word_is_compared_with_the_newest_open_tickets(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Here every word is "common": in more tickets than a term may be looked up for.
    monkeypatch.setattr(similarity, "MAX_TERM_TICKETS", 10)
    ids = add_tickets(db, [f"{COMMON} case {n}" for n in range(2 * similarity.RANKED_CANDIDATES)])
    add_tickets(db, [COMMON], status="closed")
    candidates = similarity.candidates_for_text(COMMON)
    assert candidates == sorted(ids, reverse=True)[: similarity.RANKED_CANDIDATES]


@pytest.mark.usefixtures("fresh_statistics")
def test_a_duplicate_is_found_among_many_tickets_of_common_words(db: Engine) -> None:
    add_tickets(db, [f"{COMMON} case {n}" for n in range(3 * similarity.RANKED_CANDIDATES)])
    (original,) = add_tickets(db, [WEBHOOK])
    add_tickets(db, [f"{COMMON} case {n}" for n in range(similarity.RANKED_CANDIDATES)])
    assert original in similarity.candidates_for_text(WEBHOOK_AGAIN)
    found = similarity.similar_to_text(WEBHOOK_AGAIN, "Order webhook not delivered")
    assert found[0].id == original


@pytest.mark.usefixtures("fresh_statistics")
def test_closed_and_merged_tickets_are_not_candidates(db: Engine) -> None:
    (kept,) = add_tickets(db, [WEBHOOK])
    add_tickets(db, [WEBHOOK], status="closed")
    (merged,) = add_tickets(db, [WEBHOOK])
    with db.begin() as connection:
        connection.execute(
            sa.text("UPDATE tickets SET duplicate_of_id = :kept WHERE id = :merged"),
            {"kept": kept, "merged": merged},
        )
    assert similarity.candidates_for_text(WEBHOOK_AGAIN) == [kept]
