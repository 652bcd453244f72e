"""`signals backfill`: tickets stored without triage signals get them, in audited batches."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.cli import Invoke
from ticket_app.schemas import TicketCreate, TicketFilters
from ticket_app.services.tickets import create_ticket, list_tickets

SIGNALS = ("language", "sentiment", "sentiment_score", "frustrated")
ANGRY = (
    "This is the third time I am writing about the wrong invoice and still no answer. "
    "If nobody fixes it this week I will cancel my subscription."
)
GERMAN = "Könnten Sie mir bitte eine Kopie der Rechnung vom März schicken? Vielen Dank im Voraus."


def _stored_without_signals(db: Engine, title: str, description: str) -> int:
    """A ticket as an older version stored it: no signals (frustrated has its default)."""
    ticket_id = create_ticket(
        TicketCreate(title=title, description=description, category="billing", priority="high"),
        actor=SYSTEM,
    ).id
    with db.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE tickets SET language = NULL, sentiment = NULL, sentiment_score = NULL, "
                "frustrated = FALSE, updated_at = :old WHERE id = :id"
            ),
            {"id": ticket_id, "old": "2026-01-02 03:04:05+00:00"},
        )
    return ticket_id


def _signals(db: Engine) -> dict[int, tuple[object, ...]]:
    with db.connect() as connection:
        rows = connection.execute(
            sa.text(f"SELECT id, {', '.join(SIGNALS)}, updated_at FROM tickets ORDER BY id")
        )
        return {row[0]: tuple(row[1:]) for row in rows}


def test_backfill_reads_the_signals_the_filters_need_and_keeps_updated_at(
    cli: Invoke, db: Engine, audit_events: Callable[[], list[dict[str, object]]]
) -> None:
    angry = _stored_without_signals(db, "Wrong invoice again", ANGRY)
    german = _stored_without_signals(db, "Rechnungskopie", GERMAN)
    before = _signals(db)
    assert list_tickets(TicketFilters(language="de")).items == []

    result = cli("signals", "backfill", "--batch-size", "1")

    assert result.exit_code == 0, result.output
    assert "read the signals of 2 tickets in 2 batches: 1 frustrated" in result.output
    after = _signals(db)
    assert after[angry][:2] == ("en", "negative") and after[angry][3]
    assert after[german][0] == "de" and not after[german][3]
    assert [row[-1] for row in after.values()] == [row[-1] for row in before.values()]
    assert [t.id for t in list_tickets(TicketFilters(language="de")).items] == [german]
    assert [t.id for t in list_tickets(TicketFilters(frustrated=True)).items] == [angry]
    batches = [e for e in audit_events() if e["field"] == "triage_signals"]
    assert [(e["actor_label"], e["kind"], e["ticket_id"]) for e in batches] == [
        ("cli", "changed", None)
    ] * 2
    assert batches[0]["new_value"] == f"read offline for 1 tickets, #{angry} to #{angry}"


def test_backfill_leaves_tickets_that_have_signals_and_a_second_run_finds_nothing(
    cli: Invoke, db: Engine, audit_events: Callable[[], list[dict[str, object]]]
) -> None:
    create_ticket(
        TicketCreate(
            title="Login", description="I cannot log in.", category="account", priority="high"
        ),
        actor=SYSTEM,
    )
    with db.begin() as connection:
        connection.execute(sa.text("UPDATE tickets SET language = 'fr'"))
    before = _signals(db)

    first = cli("signals", "backfill")

    assert first.exit_code == 0, first.output
    assert "every ticket already has its signals" in first.output
    assert _signals(db) == before
    assert not [e for e in audit_events() if e["field"] == "triage_signals"]


def test_backfill_refuses_a_bad_batch_size(cli: Invoke) -> None:
    result = cli("signals", "backfill", "--batch-size", "0")
    assert result.exit_code == 2
    assert "--batch-size" in result.output
