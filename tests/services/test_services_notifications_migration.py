"""Migration 0014 (notifications) goes down and up again on both dialects, its checks hold."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tests.support.auth import add_ticket, add_user
from ticket_app.services.migrations import downgrade_database, upgrade_database

ROW = (
    "INSERT INTO notifications (user_id, kind, ticket_id, actor, created_at, read_at) "
    "VALUES (:user, :kind, :ticket, 'ann', '2026-12-06 10:00:00', :read)"
)


def test_the_database_refuses_unknown_kinds_and_reads_before_creation(db: Engine) -> None:
    user, ticket = add_user("agent").id, add_ticket()
    with db.begin() as connection:
        connection.execute(
            sa.text(ROW), {"user": user, "kind": "assigned", "ticket": ticket, "read": None}
        )
    bad = [
        {"user": user, "kind": "gossip", "ticket": ticket, "read": None},
        {"user": user, "kind": "replied", "ticket": ticket, "read": "2026-12-05 10:00:00"},
    ]
    for values in bad:
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(sa.text(ROW), values)


def test_downgrade_drops_the_table_and_upgrade_restores_it(db: Engine, database_url: str) -> None:
    try:
        downgrade_database(database_url, "0013")
        db.dispose()
        assert "notifications" not in sa.inspect(db).get_table_names()
    finally:
        upgrade_database(database_url)
        db.dispose()
    indexes = {index["name"] for index in sa.inspect(db).get_indexes("notifications")}
    assert {"ix_notifications_user_id_id", "ix_notifications_user_id_read_at"} <= indexes
