"""The bulk bar after the database fails part-way: it says what was applied, Undo restores that
part, and Apply again finishes the change (issue 27, item 7: batches commit on their own)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.services.test_services_bulk_concurrency import database_fails_at_ticket_update
from tests.ui.test_states import _session_cookie
from tests.ui.test_var_marker import _sent_text, _tab
from ticket_app.schemas import TicketCreate
from ticket_app.services.tickets import create_ticket, get_ticket
from ticket_app.settings import get_settings
from ticket_app.ui.state.bulk import BulkState


def _statuses(ids: list[int]) -> list[str]:
    return [get_ticket(ticket_id).status.value for ticket_id in ids]


def _run(outcome: Any) -> str:
    return _sent_text(asyncio.run(outcome) or [])


@pytest.fixture
def batches_of_two(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """BULK_BATCH_SIZE=2 for this test; yields the database engine."""
    monkeypatch.setenv("BULK_BATCH_SIZE", "2")
    get_settings.cache_clear()
    yield db
    monkeypatch.delenv("BULK_BATCH_SIZE")
    get_settings.cache_clear()


def test_a_partly_applied_bulk_change_can_be_undone_or_finished(batches_of_two: Engine) -> None:
    ids = [
        create_ticket(TicketCreate(title=f"T{n}", description="d"), actor=SYSTEM).id
        for n in range(5)
    ]
    bar = _tab(BulkState, _session_cookie("agent"))
    bar.selected, bar.status = [str(i) for i in ids], "closed"
    with database_fails_at_ticket_update(batches_of_two, 2):
        said = _run(bar.apply())
    assert "Only part was applied: 2 tickets changed, 3 not yet" in said
    assert _statuses(ids) == ["closed", "closed", "open", "open", "open"]
    assert bar.status == "closed" and "before the database failed" in bar.undo_note

    assert "Undone: 2 tickets restored" in _run(bar.undo())
    assert _statuses(ids) == ["open"] * 5

    bar.selected, bar.status = [str(i) for i in ids], "closed"
    with database_fails_at_ticket_update(batches_of_two, 2):
        _run(bar.apply())
    assert "3 tickets changed" in _run(bar.apply())
    assert _statuses(ids) == ["closed"] * 5
