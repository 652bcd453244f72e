"""The SLA report's measures on each ticket, backfilled from every ticket's history.

`tickets` gains `first_response_business_minutes` and `resolution_business_minutes` (float,
NULL until the first public staff reply, resp. while the ticket is not resolved or closed)
and `next_responses_met` / `next_responses_breached` (next-response cycles, 0 by default):
`ticket_app.sla.measures` defines them and `services.sla` keeps them current. The dashboard's
report (`services.sla_report`) aggregates them instead of running every ticket's clock.

Backfill: as 0013's, every ticket's clock is computed from its history (status, priority and
category changes, comments but auto-replies) by the pure clock, in batches of 2,000 tickets by
id: three reads per batch and one executemany UPDATE of the tickets with a value to store
(those with a reply, resolved or closed). No index is added: the report filters with the
list's clauses and sorts only the matching values.

Downgrade drops the four columns (no index or CHECK names them, so SQLite drops them in place).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from alembic import op
from ticket_app.sla.calendar import BusinessCalendar
from ticket_app.sla.clock import SlaTargets, compute_sla_state
from ticket_app.sla.history import CLOCK_FIELDS, CommentFact, FieldChange, build_history
from ticket_app.sla.measures import report_measures

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BATCH_SIZE = 2000
MINUTE_COLUMNS = ("first_response_business_minutes", "resolution_business_minutes")
COUNT_COLUMNS = ("next_responses_met", "next_responses_breached")


class _Book:
    """The stored policies and their calendars, as the backfill reads them."""

    def __init__(self, bind: sa.Connection) -> None:
        calendars = {
            row.id: BusinessCalendar.from_dict(
                {
                    "time_zone": row.time_zone,
                    "weekly_hours": json.loads(row.weekly_hours),
                    "holiday_country": row.holiday_country,
                    "holiday_subdivision": row.holiday_subdivision,
                    "closed_dates": json.loads(row.closed_dates),
                }
            )
            for row in bind.execute(sa.text("SELECT * FROM sla_calendars"))
        }
        self.policies: dict[tuple[str, str | None], Any] = {}
        self.calendars: dict[int, BusinessCalendar] = {}
        for row in bind.execute(sa.text("SELECT * FROM sla_policies")):
            self.policies[(row.priority, row.category)] = row
            self.calendars[row.id] = calendars[row.calendar_id]

    def policy(self, priority: str, category: str) -> Any:
        return self.policies.get((priority, category)) or self.policies.get((priority, None))

    def targets(self, priority: str, category: str) -> SlaTargets:
        row = self.policy(priority, category)
        if row is None or not row.enabled:
            return SlaTargets()
        return SlaTargets(
            row.first_response_minutes, row.next_response_minutes, row.resolution_minutes
        )


def _aware(value: Any) -> datetime:
    """A timestamp as read by either driver, as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _histories(bind: sa.Connection, ids: list[int]) -> tuple[dict, dict]:
    changes: dict[int, list[FieldChange]] = defaultdict(list)
    comments: dict[int, list[CommentFact]] = defaultdict(list)
    events = bind.execute(
        sa.text(
            "SELECT ticket_id, field, old_value, new_value, created_at FROM ticket_events "
            "WHERE kind = 'changed' AND field IN :fields AND ticket_id IN :ids ORDER BY id"
        ).bindparams(sa.bindparam("fields", expanding=True), sa.bindparam("ids", expanding=True)),
        {"fields": list(CLOCK_FIELDS), "ids": ids},
    )
    for ticket_id, field, old, new, at in events:
        changes[ticket_id].append(FieldChange(_aware(at), field, old, new))
    rows = bind.execute(
        sa.text(
            "SELECT c.ticket_id, c.public, c.author_user_id, c.created_at "
            "FROM ticket_comments c LEFT JOIN mail_messages m ON m.comment_id = c.id "
            "WHERE c.ticket_id IN :ids AND (m.kind IS NULL OR m.kind <> 'automatic')"
        ).bindparams(sa.bindparam("ids", expanding=True)),
        {"ids": ids},
    )
    for ticket_id, public, author, at in rows:
        comments[ticket_id].append(CommentFact(_aware(at), bool(public), author is not None))
    return changes, comments


def _measures(row: Any, changes: dict, comments: dict, book: _Book, now: datetime) -> dict:
    policy = book.policy(row.priority, row.category)
    calendar = book.calendars[policy.id] if policy is not None else BusinessCalendar()
    history = build_history(
        created_at=_aware(row.created_at),
        status=row.status,
        priority=row.priority,
        category=row.category,
        changes=changes.get(row.id, ()),
        comments=comments.get(row.id, ()),
        targets_for=book.targets,
    )
    state = compute_sla_state(history, calendar, now)
    return asdict(report_measures(state, row.status))


def _backfill() -> None:
    bind = op.get_bind()
    book = _Book(bind)
    now = datetime.now(UTC)
    update = sa.text(
        "UPDATE tickets SET "
        + ", ".join(f"{column} = :{column}" for column in (*MINUTE_COLUMNS, *COUNT_COLUMNS))
        + " WHERE id = :id"
    )
    last_id = 0
    while True:
        tickets = bind.execute(
            sa.text(
                "SELECT id, created_at, status, priority, category FROM tickets "
                "WHERE id > :last ORDER BY id LIMIT :size"
            ),
            {"last": last_id, "size": BATCH_SIZE},
        ).all()
        if not tickets:
            return
        ids = [row.id for row in tickets]
        changes, comments = _histories(bind, ids)
        updates = []
        for row in tickets:
            values = _measures(row, changes, comments, book, now)
            if any(values[column] is not None for column in MINUTE_COLUMNS) or any(
                values[column] for column in COUNT_COLUMNS
            ):
                updates.append({"id": row.id, **values})
        if updates:
            bind.execute(update, updates)
        last_id = ids[-1]


def upgrade() -> None:
    for column in MINUTE_COLUMNS:
        op.add_column("tickets", sa.Column(column, sa.Float(), nullable=True))
    for column in COUNT_COLUMNS:
        op.add_column(
            "tickets",
            sa.Column(column, sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
    _backfill()


def downgrade() -> None:
    for column in (*MINUTE_COLUMNS, *COUNT_COLUMNS):
        op.drop_column("tickets", column)
