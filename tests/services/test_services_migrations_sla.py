"""Migration 0013 (service levels) goes down and up again on both dialects, and its backfill
gives existing tickets the due times and breaches their history says."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.auth import add_user
from ticket_app.models import Role, UTCDateTime, utc_now
from ticket_app.services.migrations import downgrade_database, upgrade_database

TICKETS = sa.table(
    "tickets",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("description", sa.String),
    sa.column("category", sa.String),
    sa.column("priority", sa.String),
    sa.column("status", sa.String),
    sa.column("created_at", UTCDateTime()),
)
COMMENTS = sa.table(
    "ticket_comments",
    sa.column("ticket_id", sa.Integer),
    sa.column("author_user_id", sa.Integer),
    sa.column("author_label", sa.String),
    sa.column("body", sa.String),
    sa.column("public", sa.Boolean),
    sa.column("created_at", UTCDateTime()),
)
EVENTS = sa.table(
    "ticket_events",
    sa.column("ticket_id", sa.Integer),
    sa.column("actor_kind", sa.String),
    sa.column("actor_label", sa.String),
    sa.column("kind", sa.String),
    sa.column("field", sa.String),
    sa.column("old_value", sa.String),
    sa.column("new_value", sa.String),
    sa.column("created_at", UTCDateTime()),
)
SLA_COLUMNS = {"sla_policy_id", "sla_due_at", "sla_breached_at", "sla_next_check_at"}
HOUR = timedelta(hours=1)


def columns(engine: Engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("tickets")}


def ticket(connection: sa.Connection, priority: str, created, status: str = "open") -> int:
    values = {"title": "t", "description": "d", "category": "general", "priority": priority}
    return connection.execute(
        TICKETS.insert().values(**values, status=status, created_at=created).returning(TICKETS.c.id)
    ).scalar_one()


def test_backfill_computes_due_times_from_history_and_downgrade_removes_them(
    db: Engine, database_url: str
) -> None:
    agent = add_user(Role.AGENT)
    now = utc_now()
    try:
        downgrade_database(database_url, "0012")
        db.dispose()
        assert not SLA_COLUMNS & columns(db)
        with db.begin() as connection:
            answered = ticket(connection, "high", now - 3 * HOUR)
            connection.execute(
                COMMENTS.insert().values(
                    ticket_id=answered, author_user_id=agent.id, author_label=agent.email,
                    body="On it", public=True, created_at=now - 2 * HOUR,
                )
            )  # fmt: skip
            late = ticket(connection, "critical", now - 2 * HOUR)
            relabelled = ticket(connection, "medium", now - 5 * HOUR)
            connection.execute(
                EVENTS.insert().values(
                    ticket_id=relabelled, actor_kind="system", actor_label="t", kind="changed",
                    field="priority", old_value="low", new_value="medium",
                    created_at=now - 4 * HOUR,
                )
            )  # fmt: skip
            closed = ticket(connection, "low", now - 100 * HOUR, status="closed")
        upgrade_database(database_url)
        db.dispose()
        with db.connect() as connection:
            rows = {
                row.id: row
                for row in connection.execute(
                    sa.select(
                        TICKETS.c.id,
                        sa.column("first_response_due_at", UTCDateTime()),
                        sa.column("resolution_due_at", UTCDateTime()),
                        sa.column("sla_breached_at", UTCDateTime()),
                        sa.column("sla_policy_id", sa.Integer),
                    ).select_from(TICKETS)
                )
            }
            breaches = connection.execute(
                sa.select(EVENTS.c.ticket_id, EVENTS.c.field, EVENTS.c.new_value).where(
                    EVENTS.c.kind == "sla_breached"
                )
            ).all()
        assert rows[answered].first_response_due_at is None
        assert rows[answered].resolution_due_at == (now - 3 * HOUR) + 1440 * timedelta(minutes=1)
        assert rows[late].sla_breached_at == (now - 2 * HOUR) + HOUR
        # Relabelled low -> medium: medium's targets over the whole history.
        assert rows[relabelled].first_response_due_at == (now - 5 * HOUR) + 8 * HOUR
        assert rows[closed].sla_policy_id is not None and rows[closed].resolution_due_at is None
        # Closed from the start (no recorded change): its clocks never ran.
        assert [tuple(row) for row in breaches] == [(late, "first_response", "60")]
        downgrade_database(database_url, "0012")
        db.dispose()
        assert not SLA_COLUMNS & columns(db)
        assert not sa.inspect(db).has_table("sla_policies")
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert columns(db) >= SLA_COLUMNS
    indexes = {index["name"] for index in sa.inspect(db).get_indexes("tickets")}
    assert {"ix_tickets_sla_due_at_id", "ix_tickets_sla_breached_at_id"} <= indexes
