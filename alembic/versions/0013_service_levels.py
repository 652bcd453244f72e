"""Service levels: business calendars, SLA policies, and each ticket's due and breach instants.

- `sla_calendars`: when a team works (an IANA time zone, weekly opening hours as JSON, holidays
  by country and subdivision, the admin's own closed dates). Seeded with `24/7` (open always,
  UTC), which the default policies use.
- `sla_policies`: targets in business minutes per priority (optionally per category). One
  default policy per priority is seeded:

  | priority | first response | next response | resolution |
  |----------|----------------|---------------|------------|
  | critical | 60 (1 h)       | 120 (2 h)     | 480 (8 h)  |
  | high     | 240 (4 h)      | 480 (8 h)     | 1440 (1 d) |
  | medium   | 480 (8 h)      | 960 (16 h)    | 2880 (2 d) |
  | low      | 1440 (1 d)     | 2880 (2 d)    | 5760 (4 d) |

  Why these: a critical ticket (an outage) needs a human answer within the hour and a fix
  within a working day; each lower priority doubles to quadruples the time. The next response
  is twice the first (the customer already knows someone is on it), and resolution four times
  the next response for critical/high, leaving room to investigate. They are the usual shape
  of help-desk defaults (Zendesk's and Freshdesk's samples are within a factor of two); a team
  changes them in the console or through `PUT /api/sla/policies/{id}/`.
- `tickets` gains `sla_policy_id`, the three due instants and three breach instants, the
  nearest due (`sla_due_at`), the earliest breach of a clock still running or paused
  (`sla_breached_at`), `sla_paused`, and `sla_next_check_at` (when the background check must
  look again), with partial indexes for "due soon", "breached" and the check.
- The audit trail gains the kinds `sla_breached`, `sla_warning`, `sla_policy_changed` and
  `sla_calendar_changed` (PostgreSQL swaps the CHECK constraint; SQLite rebuilds
  `ticket_events`, as in 0011). On SQLite, `sla_policy_id` carries no foreign key (SQLite can
  neither add one to an existing table nor drop a column that has one), as `requester_id` in 0011.

Backfill: every ticket's state is computed from its history (status, priority and category
changes in `ticket_events`, replies in `ticket_comments` but auto-replies) by the pure clock
(`ticket_app.sla.clock`), in batches of 2,000 tickets by id: three reads and one executemany
per batch, O(n) in tickets plus events plus comments. Breaches already past are recorded as
`sla_breached` events at the instant they happened (so the first check does not announce
them as news), warnings already past as `sla_warning` events. Measured on PostgreSQL 15 in
the development container (2 cores shared with other work, load average about 8) with
`tests/benchmarks/bench_sla.py --tickets 200000` (tickets from the last 14 days, 10% with a
public staff reply): 200,000 tickets in 222 s, about 900 tickets/s, so 1,000,000 take about
19 minutes. Each row's UPDATE writes every index of `tickets` (the new columns are indexed),
which is where the background check's profile spends most of its time too. The migration
runs in one transaction and its ALTER TABLE holds the exclusive lock on `tickets` until it
commits: at a million tickets, upgrade in a quiet window.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from alembic import op
from ticket_app.sla.calendar import BusinessCalendar
from ticket_app.sla.clock import ClockState, SlaTargets, compute_sla_state
from ticket_app.sla.history import CLOCK_FIELDS, CommentFact, FieldChange, build_history

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ACTOR_KINDS = "'user', 'token', 'intake', 'import', 'system', 'mail'"
OLD_EVENT_KINDS = (
    "'created', 'changed', 'imported', 'exported', 'user_created', 'user_changed', "
    "'token_created', 'token_revoked', 'commented', 'merged', 'export_interrupted', "
    "'mail_sent', 'mail_failed', 'mail_resent', 'mail_bounced', "
    "'mail_quarantined', 'mail_released', 'mail_discarded', 'mailbox_created', "
    "'mailbox_changed', 'mailbox_removed'"
)
NEW_EVENT_KINDS = (
    f"{OLD_EVENT_KINDS}, 'sla_breached', 'sla_warning', 'sla_policy_changed', "
    "'sla_calendar_changed'"
)
PRIORITIES = "'low', 'medium', 'high', 'critical'"
CATEGORIES = "'billing', 'technical', 'account', 'general'"
MAX_TARGET_MINUTES = 525_600
DEFAULT_TARGETS = {
    "critical": (60, 120, 480),
    "high": (240, 480, 1440),
    "medium": (480, 960, 2880),
    "low": (1440, 2880, 5760),
}
DEFAULT_CALENDAR = "24/7"
BATCH_SIZE = 2000
WARNING_RATIO = 0.8
TIMESTAMP_COLUMNS = (
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "first_response_breached_at",
    "next_response_breached_at",
    "resolution_breached_at",
    "sla_due_at",
    "sla_breached_at",
    "sla_next_check_at",
)
DUE_CHECK = (
    "sla_due_at IS NULL OR sla_due_at = first_response_due_at "
    "OR sla_due_at = next_response_due_at OR sla_due_at = resolution_due_at"
)
POLICY_DUES_CHECK = (
    "sla_policy_id IS NOT NULL OR (first_response_due_at IS NULL "
    "AND next_response_due_at IS NULL AND resolution_due_at IS NULL)"
)
PARTIAL_INDEXES = {
    "ix_tickets_sla_due_at_id": ("sla_due_at", "id"),
    "ix_tickets_sla_breached_at_id": ("sla_breached_at", "id"),
    "ix_tickets_sla_next_check_at": ("sla_next_check_at",),
}


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def _rebuild_sqlite_events(kinds: str) -> None:
    """Copy `ticket_events` into a table whose kind CHECK allows `kinds` (SQLite only)."""
    op.execute(
        f"""
        CREATE TABLE ticket_events_rebuilt (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            ticket_id INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
            actor_kind VARCHAR(20) NOT NULL,
            actor_user_id INTEGER REFERENCES staff_users (id),
            actor_token_id INTEGER REFERENCES api_tokens (id),
            actor_label VARCHAR(254) NOT NULL,
            created_at DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL,
            kind VARCHAR(30) NOT NULL,
            field VARCHAR(40),
            old_value TEXT,
            new_value TEXT,
            CONSTRAINT ck_ticket_events_actor_kind CHECK (actor_kind IN ({ACTOR_KINDS})),
            CONSTRAINT ck_ticket_events_kind CHECK (kind IN ({kinds}))
        )
        """
    )
    op.execute(
        "INSERT INTO ticket_events_rebuilt (id, ticket_id, actor_kind, actor_user_id, "
        "actor_token_id, actor_label, created_at, kind, field, old_value, new_value) "
        "SELECT id, ticket_id, actor_kind, actor_user_id, actor_token_id, actor_label, "
        "created_at, kind, field, old_value, new_value FROM ticket_events"
    )
    op.execute("DROP TABLE ticket_events")
    op.execute("ALTER TABLE ticket_events_rebuilt RENAME TO ticket_events")
    op.create_index("ix_ticket_events_ticket_id_id", "ticket_events", ["ticket_id", "id"])


def _allow_kinds(dialect: str, kinds: str) -> None:
    if dialect == "sqlite":
        _rebuild_sqlite_events(kinds)
        return
    op.execute("ALTER TABLE ticket_events DROP CONSTRAINT ck_ticket_events_kind")
    op.execute(
        f"ALTER TABLE ticket_events ADD CONSTRAINT ck_ticket_events_kind CHECK (kind IN ({kinds}))"
    )


def _timestamps(dialect: str) -> list[sa.Column]:
    return [
        sa.Column(
            name, sa.DateTime(timezone=True), nullable=False, server_default=_now_default(dialect)
        )
        for name in ("created_at", "updated_at")
    ]


def _target_check(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"{column} IS NULL OR ({column} > 0 AND {column} <= {MAX_TARGET_MINUTES})",
        name=f"ck_sla_policies_{column}",
    )


def _create_tables(dialect: str) -> None:
    op.create_table(
        "sla_calendars",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("weekly_hours", sa.Text(), nullable=False),
        sa.Column("holiday_country", sa.String(8), nullable=True),
        sa.Column("holiday_subdivision", sa.String(16), nullable=True),
        sa.Column("closed_dates", sa.Text(), nullable=False, server_default="[]"),
        *_timestamps(dialect),
        sa.CheckConstraint("length(trim(name)) > 0", name="ck_sla_calendars_name_not_blank"),
        sa.CheckConstraint(
            "length(trim(time_zone)) > 0", name="ck_sla_calendars_time_zone_not_blank"
        ),
        sa.CheckConstraint(
            "holiday_subdivision IS NULL OR holiday_country IS NOT NULL",
            name="ck_sla_calendars_subdivision_needs_country",
        ),
    )
    op.create_index("ux_sla_calendars_name", "sla_calendars", ["name"], unique=True)
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("category", sa.String(20), nullable=True),
        sa.Column("calendar_id", sa.Integer(), sa.ForeignKey("sla_calendars.id"), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_timestamps(dialect),
        sa.CheckConstraint("length(trim(name)) > 0", name="ck_sla_policies_name_not_blank"),
        sa.CheckConstraint(f"priority IN ({PRIORITIES})", name="ck_sla_policies_priority"),
        sa.CheckConstraint(
            f"category IS NULL OR category IN ({CATEGORIES})", name="ck_sla_policies_category"
        ),
        _target_check("first_response_minutes"),
        _target_check("next_response_minutes"),
        _target_check("resolution_minutes"),
    )
    op.create_index("ux_sla_policies_name", "sla_policies", ["name"], unique=True)
    op.create_index(
        "ux_sla_policies_priority_default",
        "sla_policies",
        ["priority"],
        unique=True,
        sqlite_where=sa.text("category IS NULL"),
        postgresql_where=sa.text("category IS NULL"),
    )
    op.create_index(
        "ux_sla_policies_priority_category",
        "sla_policies",
        ["priority", "category"],
        unique=True,
        sqlite_where=sa.text("category IS NOT NULL"),
        postgresql_where=sa.text("category IS NOT NULL"),
    )
    op.create_index("ix_sla_policies_calendar_id", "sla_policies", ["calendar_id"])


def _seed() -> None:
    always = BusinessCalendar().to_dict()
    bind = op.get_bind()
    calendar_id = bind.execute(
        sa.text(
            "INSERT INTO sla_calendars (name, time_zone, weekly_hours, closed_dates) "
            "VALUES (:name, :zone, :hours, '[]') RETURNING id"
        ),
        {
            "name": DEFAULT_CALENDAR,
            "zone": always["time_zone"],
            "hours": json.dumps(always["weekly_hours"], sort_keys=True),
        },
    ).scalar_one()
    for priority, (first, following, resolution) in DEFAULT_TARGETS.items():
        bind.execute(
            sa.text(
                "INSERT INTO sla_policies (name, priority, calendar_id, first_response_minutes, "
                "next_response_minutes, resolution_minutes) "
                "VALUES (:name, :priority, :calendar, :first, :following, :resolution)"
            ),
            {
                "name": f"{priority.capitalize()} (default)",
                "priority": priority,
                "calendar": calendar_id,
                "first": first,
                "following": following,
                "resolution": resolution,
            },
        )


def _add_ticket_columns(dialect: str) -> None:
    references = " REFERENCES sla_policies(id)" if dialect == "postgresql" else ""
    timestamp = "TIMESTAMP WITH TIME ZONE" if dialect == "postgresql" else "DATETIME"
    op.execute(f"ALTER TABLE tickets ADD COLUMN sla_policy_id INTEGER{references}")
    for column in TIMESTAMP_COLUMNS:
        constraint = ""
        if dialect == "sqlite" and column == "sla_due_at":
            constraint = f" CONSTRAINT ck_tickets_sla_due_at CHECK ({DUE_CHECK})"
        elif dialect == "sqlite" and column == "resolution_due_at":
            constraint = f" CONSTRAINT ck_tickets_sla_policy_dues CHECK ({POLICY_DUES_CHECK})"
        op.execute(f"ALTER TABLE tickets ADD COLUMN {column} {timestamp}{constraint}")
    op.execute("ALTER TABLE tickets ADD COLUMN sla_paused BOOLEAN DEFAULT false NOT NULL")
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE tickets ADD CONSTRAINT ck_tickets_sla_due_at CHECK ({DUE_CHECK})")
        op.execute(
            "ALTER TABLE tickets ADD CONSTRAINT ck_tickets_sla_policy_dues "
            f"CHECK ({POLICY_DUES_CHECK})"
        )


def _create_ticket_indexes() -> None:
    for name, columns in PARTIAL_INDEXES.items():
        where = sa.text(f"{columns[0]} IS NOT NULL")
        op.create_index(name, "tickets", list(columns), sqlite_where=where, postgresql_where=where)
    op.create_index("ix_tickets_sla_policy_id", "tickets", ["sla_policy_id"])


class _Book:
    """The seeded policies and their calendars, as the backfill reads them."""

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


def _stored(value: datetime | None, dialect: str) -> Any:
    """An aware instant as each dialect stores it (SQLite: UTC text, as `UTCDateTime` writes)."""
    if value is None or dialect == "postgresql":
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


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


def _backfill(dialect: str) -> None:
    bind = op.get_bind()
    book = _Book(bind)
    now = datetime.now(UTC)
    update = sa.text(
        "UPDATE tickets SET sla_policy_id = :policy, sla_paused = :paused, "
        + ", ".join(f"{column} = :{column}" for column in TIMESTAMP_COLUMNS)
        + " WHERE id = :id"
    )
    insert_event = sa.text(
        "INSERT INTO ticket_events (ticket_id, actor_kind, actor_label, created_at, kind, field, "
        "old_value, new_value) VALUES (:ticket, 'system', 'sla', :at, :kind, :field, :old, :new)"
    )
    last_id = 0
    while True:
        tickets = bind.execute(
            sa.text(
                "SELECT id, created_at, status, priority, category, assignee_id FROM tickets "
                "WHERE id > :last ORDER BY id LIMIT :size"
            ),
            {"last": last_id, "size": BATCH_SIZE},
        ).all()
        if not tickets:
            return
        ids = [row.id for row in tickets]
        changes, comments = _histories(bind, ids)
        updates, events = [], []
        for row in tickets:
            values, recorded = _ticket_values(row, changes, comments, book, now, dialect)
            updates.append(values)
            events.extend(recorded)
        bind.execute(update, updates)
        if events:
            bind.execute(insert_event, events)
        last_id = ids[-1]


def _ticket_values(
    row: Any, changes: dict, comments: dict, book: _Book, now: datetime, dialect: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One ticket's new column values and the breach and warning events already due."""
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
    # The status `pending` is 0012's: before it, no history names it, so any known status is
    # one the clock knows.
    state = compute_sla_state(history, calendar, now, warning_fraction=WARNING_RATIO)
    clocks = (state.first_response, state.next_response, state.resolution)
    events = [
        {
            "ticket": row.id,
            "at": _stored(breach.at, dialect),
            "kind": "sla_breached",
            "field": breach.target.value,
            "old": breach.at.isoformat(),
            "new": f"{breach.target_minutes:g}",
        }
        for breach in state.breaches
    ]
    upcoming = []
    for clock in clocks:
        running = clock.state is ClockState.RUNNING and clock.breached_at is None
        if not running or clock.warning_at is None:
            continue
        if clock.warning_at <= now:
            events.append(
                {
                    "ticket": row.id,
                    "at": _stored(now, dialect),
                    "kind": "sla_warning",
                    "field": clock.target.value,
                    "old": clock.started_at.isoformat() if clock.started_at else None,
                    "new": None if row.assignee_id is None else str(row.assignee_id),
                }
            )
        else:
            upcoming.append(clock.warning_at)
        if clock.due_at is not None and clock.due_at > now:
            upcoming.append(clock.due_at)
    late = [
        clock.breached_at
        for clock in clocks
        if clock.breached_at is not None and clock.state in (ClockState.RUNNING, ClockState.PAUSED)
    ]
    values = {
        "id": row.id,
        "policy": policy.id if policy is not None and policy.enabled else None,
        "paused": state.paused,
        "sla_due_at": state.nearest_due_at,
        "sla_breached_at": min(late, default=None),
        "sla_next_check_at": min(upcoming, default=None),
    }
    for clock in clocks:
        values[f"{clock.target.value}_due_at"] = clock.due_at
        values[f"{clock.target.value}_breached_at"] = clock.breached_at
    for column in TIMESTAMP_COLUMNS:
        values[column] = _stored(values[column], dialect)
    return values, events


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _allow_kinds(dialect, NEW_EVENT_KINDS)
    _create_tables(dialect)
    _seed()
    _add_ticket_columns(dialect)
    _backfill(dialect)
    _create_ticket_indexes()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in (*PARTIAL_INDEXES, "ix_tickets_sla_policy_id"):
        op.drop_index(name, table_name="tickets")
    if dialect == "postgresql":
        for name in ("ck_tickets_sla_due_at", "ck_tickets_sla_policy_dues"):
            op.execute(f"ALTER TABLE tickets DROP CONSTRAINT {name}")
    # SQLite drops a column only when no other column's CHECK names it: the columns carrying
    # the checks go first.
    for column in ("sla_due_at", "resolution_due_at", "sla_paused", "sla_policy_id"):
        op.execute(f"ALTER TABLE tickets DROP COLUMN {column}")
    for column in TIMESTAMP_COLUMNS:
        if column not in ("sla_due_at", "resolution_due_at"):
            op.execute(f"ALTER TABLE tickets DROP COLUMN {column}")
    op.drop_table("sla_policies")
    op.drop_table("sla_calendars")
    op.execute(f"DELETE FROM ticket_events WHERE kind NOT IN ({OLD_EVENT_KINDS})")
    _allow_kinds(dialect, OLD_EVENT_KINDS)
