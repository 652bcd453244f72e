"""Migration 0024 (the resolved-events index, the view audit kinds) goes down and up on both
dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ticket_app.services.migrations import downgrade_database, upgrade_database

EVENT = "INSERT INTO ticket_events (actor_kind, actor_label, kind) VALUES ('system', 't', :kind)"


def _indexes(db: Engine) -> set[str]:
    return {index["name"] for index in sa.inspect(db).get_indexes("ticket_events")}


def test_downgrade_drops_the_index_and_the_kinds_upgrade_restores_them(
    db: Engine, database_url: str
) -> None:
    with db.begin() as connection:
        connection.execute(sa.text(EVENT), {"kind": "view_deleted"})
        connection.execute(sa.text(EVENT), {"kind": "exported"})
    assert "ix_ticket_events_resolved_at" in _indexes(db)
    try:
        downgrade_database(database_url, "0022")
        db.dispose()
        assert "ix_ticket_events_resolved_at" not in _indexes(db)
        with db.begin() as connection:
            kinds = connection.execute(sa.text("SELECT kind FROM ticket_events")).scalars().all()
            assert kinds == ["exported"]
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(sa.text(EVENT), {"kind": "view_restored"})
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert "ix_ticket_events_resolved_at" in _indexes(db)
    with db.begin() as connection:
        connection.execute(sa.text(EVENT), {"kind": "view_restored"})
    with pytest.raises(IntegrityError), db.begin() as connection:
        connection.execute(sa.text(EVENT), {"kind": "gossip"})
