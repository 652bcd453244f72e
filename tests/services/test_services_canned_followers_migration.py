"""Migration 0017 (canned responses, followers, new kinds) goes down and up on both dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tests.support.auth import add_ticket, add_user
from ticket_app.services.migrations import downgrade_database, upgrade_database

NOTIFICATION = (
    "INSERT INTO notifications (user_id, kind, ticket_id, actor, created_at) "
    "VALUES (:user, :kind, :ticket, 'ann', '2026-12-06 10:00:00')"
)
EVENT = "INSERT INTO ticket_events (actor_kind, actor_label, kind) VALUES ('system', 't', :kind)"
FOLLOWER = "INSERT INTO ticket_followers (ticket_id, user_id) VALUES (:ticket, :user)"
CANNED = "INSERT INTO canned_responses (owner_id, title, body) VALUES (:user, :title, 'x')"


def test_the_database_keeps_its_rules(db: Engine) -> None:
    user, ticket = add_user("agent").id, add_ticket()
    with db.begin() as connection:
        connection.execute(sa.text(FOLLOWER), {"ticket": ticket, "user": user})
        connection.execute(sa.text(CANNED), {"user": user, "title": "Hello"})
        connection.execute(
            sa.text(NOTIFICATION), {"user": user, "kind": "mentioned", "ticket": ticket}
        )
        connection.execute(sa.text(EVENT), {"kind": "follower_added"})
    bad = [
        (FOLLOWER, {"ticket": ticket, "user": user}),
        (CANNED, {"user": user, "title": "  "}),
        (NOTIFICATION, {"user": user, "kind": "gossip", "ticket": ticket}),
        (EVENT, {"kind": "gossip"}),
    ]
    for sql, values in bad:
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(sa.text(sql), values)
    if db.dialect.name == "sqlite":
        return  # SQLite enforces foreign keys only when asked; the app does not ask
    with db.begin() as connection:
        connection.execute(sa.text("DELETE FROM tickets"))
        assert connection.execute(sa.text("SELECT count(*) FROM ticket_followers")).scalar() == 0


def test_downgrade_drops_the_tables_and_the_kinds_upgrade_restores_them(
    db: Engine, database_url: str
) -> None:
    user, ticket = add_user("agent").id, add_ticket()
    with db.begin() as connection:
        connection.execute(
            sa.text(NOTIFICATION), {"user": user, "kind": "mentioned", "ticket": ticket}
        )
        connection.execute(
            sa.text(NOTIFICATION), {"user": user, "kind": "replied", "ticket": ticket}
        )
        connection.execute(sa.text(EVENT), {"kind": "canned_response_created"})
    try:
        downgrade_database(database_url, "0016")
        db.dispose()
        tables = set(sa.inspect(db).get_table_names())
        assert not {"canned_responses", "ticket_followers"} & tables
        with db.begin() as connection:
            kinds = connection.execute(sa.text("SELECT kind FROM notifications")).scalars().all()
            assert kinds == ["replied"]
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(sa.text(EVENT), {"kind": "follower_added"})
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert {"canned_responses", "ticket_followers"} <= set(sa.inspect(db).get_table_names())
    with db.begin() as connection:
        connection.execute(sa.text(EVENT), {"kind": "follower_removed"})
        connection.execute(
            sa.text(NOTIFICATION), {"user": user, "kind": "mentioned", "ticket": ticket}
        )
