"""What a ticket stores of its triage: suggestion source, confidences, title and signals.

Kept apart from `services.tickets` so the ticket service only asks for the column values.
`backfill_signals` reads the offline signals of tickets stored before the columns existed
(migration 0008) or imported before the importer filled them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import SUGGESTED_TITLE_MAX_LENGTH, EventKind, Ticket
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import record_event
from ticket_app.services.database import service_session
from ticket_app.triage import TriageSuggestion
from ticket_app.triage.signals import TextSignals, read_signals, read_signals_of_many

BACKFILL_BATCH_SIZE = 1000
# The audit event of one backfill batch names this pseudo-field: the batch changed no ticket
# field a person set, only the signals read from the text.
BACKFILL_EVENT_FIELD = "triage_signals"


def signal_columns(
    title: str, description: str, suggestion: TriageSuggestion | None
) -> dict[str, Any]:
    """Ticket column values for the triage signals of a ticket being created.

    From `suggestion` when there is one; otherwise the offline signals are read from the text
    (language, sentiment, frustration: about a millisecond, no network) and the suggestion
    columns stay empty. Keys are `Ticket` attribute names.
    """
    if suggestion is None:
        return offline_signal_columns(title, description)
    return {
        "suggestion_source": suggestion.source,
        "suggested_category_confidence": suggestion.category_confidence,
        "suggested_priority_confidence": suggestion.priority_confidence,
        "suggested_title": suggestion.suggested_title[:SUGGESTED_TITLE_MAX_LENGTH] or None,
        "language": suggestion.language,
        "sentiment": suggestion.sentiment,
        "sentiment_score": suggestion.sentiment_score,
        "frustrated": suggestion.frustrated,
    }


def offline_signal_columns(title: str, description: str) -> dict[str, Any]:
    """`language`, `sentiment`, `sentiment_score` and `frustrated` read offline from the text.

    `language` is None when the text is too short or ambiguous to tell; the others always have
    a value (see `triage.signals.read_signals`).
    """
    return _offline_columns(read_signals(description, title, with_title=False))


def _offline_columns(signals: TextSignals) -> dict[str, Any]:
    return {
        "language": signals.language,
        "sentiment": signals.sentiment,
        "sentiment_score": signals.sentiment_score,
        "frustrated": signals.frustrated,
    }


def offline_signal_columns_of_many(tickets: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """`offline_signal_columns(title, description)` of each (title, description), in order.

    The same values, with the languages detected in parallel (`read_signals_of_many`): for
    batches such as a bulk import or a backfill.
    """
    return [_offline_columns(signals) for signals in read_signals_of_many(tickets)]


_SIGNAL_COLUMNS = ("language", "sentiment", "sentiment_score", "frustrated")


def _store_signals(session: Session, values: list[dict[str, Any]]) -> None:
    """Write `values` (`ticket_id` plus `_SIGNAL_COLUMNS`) to tickets that still have none."""
    table = Ticket.__table__
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("ticket_id"), table.c.sentiment.is_(None))
        .values({name: sa.bindparam(name) for name in _SIGNAL_COLUMNS})
    )
    session.execute(update, values)


@dataclass(frozen=True)
class BackfillReport:
    """What `backfill_signals` did.

    `filled` tickets in `batches` transactions, of which `without_language` had too little text
    to tell its language and `frustrated` were flagged as frustrated customers.
    """

    filled: int = 0
    batches: int = 0
    without_language: int = 0
    frustrated: int = 0


def backfill_signals(
    *,
    actor: Actor,
    batch_size: int = BACKFILL_BATCH_SIZE,
    on_batch: Callable[[BackfillReport], None] | None = None,
) -> BackfillReport:
    """Read and store the offline signals of every ticket that has none yet.

    A ticket has none when its `sentiment` is NULL (the offline reading always sets it). Tickets
    are taken in id order, `batch_size` at a time; each batch is one transaction with one audit
    event (no ticket id, field `triage_signals`, the batch's id range and count as the new
    value), so an interrupted run keeps its finished batches and a second run continues where
    it stopped. A row that gained signals meanwhile (a concurrent backfill) is left as it is.
    `updated_at` is not touched: no field a person set changed. `on_batch` receives the running
    report after each commit. Needs the import right (`Action.TICKETS_IMPORT`). Raises
    PermissionDeniedError, ValueError for a `batch_size` below 1, DatabaseUnavailableError.
    """
    actor.require(Action.TICKETS_IMPORT)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    table = Ticket.__table__
    report = BackfillReport()
    after_id = 0
    while True:
        with service_session() as session:
            rows = session.execute(
                sa.select(table.c.id, table.c.title, table.c.description)
                .where(table.c.sentiment.is_(None), table.c.id > after_id)
                .order_by(table.c.id)
                .limit(batch_size)
            ).all()
            if not rows:
                return report
            columns = offline_signal_columns_of_many([(row.title, row.description) for row in rows])
            values = [
                {"ticket_id": row.id, **row_columns}
                for row, row_columns in zip(rows, columns, strict=True)
            ]
            _store_signals(session, values)
            record_event(
                session,
                actor,
                EventKind.CHANGED,
                field=BACKFILL_EVENT_FIELD,
                new=f"read offline for {len(rows)} tickets, #{rows[0].id} to #{rows[-1].id}",
            )
        after_id = rows[-1].id
        report = BackfillReport(
            filled=report.filled + len(rows),
            batches=report.batches + 1,
            without_language=report.without_language
            + sum(value["language"] is None for value in values),
            frustrated=report.frustrated + sum(bool(value["frustrated"]) for value in values),
        )
        if on_batch is not None:
            on_batch(report)
