"""Migration 0020 (notification e-mail preferences, the notification mail and audit kinds) goes
down and up on both dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tests.support.auth import add_user
from ticket_app.services.migrations import downgrade_database, upgrade_database

PREFERENCE = (
    "INSERT INTO notification_preferences (user_id, kind, email) VALUES (:user, :kind, :email)"
)
MAIL = (
    "INSERT INTO mail_messages (message_id, direction, kind, delivery_status, subject) "
    "VALUES (:id, 'outbound', :kind, 'queued', 's')"
)
EVENT = "INSERT INTO ticket_events (actor_kind, actor_label, kind) VALUES ('system', 't', :kind)"


def test_the_database_keeps_its_rules(db: Engine) -> None:
    user = add_user("agent").id
    with db.begin() as connection:
        connection.execute(sa.text(PREFERENCE), {"user": user, "kind": "replied", "email": True})
        connection.execute(sa.text(MAIL), {"id": "<n1@desk.test>", "kind": "notification"})
        connection.execute(sa.text(EVENT), {"kind": "notification_prefs_changed"})
    bad = [
        (PREFERENCE, {"user": user, "kind": "replied", "email": False}),
        (PREFERENCE, {"user": user, "kind": "gossip", "email": True}),
        (MAIL, {"id": "<n2@desk.test>", "kind": "gossip"}),
        (EVENT, {"kind": "gossip"}),
    ]
    for sql, values in bad:
        with pytest.raises(IntegrityError), db.begin() as connection:
            connection.execute(sa.text(sql), values)
    if db.dialect.name == "sqlite":
        return  # SQLite enforces foreign keys only when asked; the app does not ask
    with db.begin() as connection:
        connection.execute(sa.text("DELETE FROM staff_users WHERE id = :user"), {"user": user})
        count = "SELECT count(*) FROM notification_preferences"
        assert connection.execute(sa.text(count)).scalar() == 0


def test_downgrade_drops_the_table_and_the_kinds_upgrade_restores_them(
    db: Engine, database_url: str
) -> None:
    user = add_user("agent").id
    with db.begin() as connection:
        connection.execute(sa.text(PREFERENCE), {"user": user, "kind": "replied", "email": True})
        connection.execute(sa.text(MAIL), {"id": "<n1@desk.test>", "kind": "notification"})
        connection.execute(sa.text(MAIL), {"id": "<r1@desk.test>", "kind": "reply"})
        connection.execute(sa.text(EVENT), {"kind": "notification_prefs_changed"})
    try:
        downgrade_database(database_url, "0019")
        db.dispose()
        assert "notification_preferences" not in set(sa.inspect(db).get_table_names())
        with db.begin() as connection:
            kinds = connection.execute(sa.text("SELECT kind FROM mail_messages")).scalars().all()
            assert kinds == ["reply"]
            events = "SELECT count(*) FROM ticket_events WHERE kind = 'notification_prefs_changed'"
            assert connection.execute(sa.text(events)).scalar() == 0
        for sql, values in [
            (MAIL, {"id": "<n2@desk.test>", "kind": "notification"}),
            (EVENT, {"kind": "notification_prefs_changed"}),
        ]:
            with pytest.raises(IntegrityError), db.begin() as connection:
                connection.execute(sa.text(sql), values)
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert "notification_preferences" in set(sa.inspect(db).get_table_names())
    with db.begin() as connection:
        connection.execute(sa.text(PREFERENCE), {"user": user, "kind": "assigned", "email": False})
        connection.execute(sa.text(MAIL), {"id": "<n3@desk.test>", "kind": "notification"})
        connection.execute(sa.text(EVENT), {"kind": "notification_prefs_changed"})
