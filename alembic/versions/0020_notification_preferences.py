"""Notification e-mail preferences, notification mail, and their audit kind.

- `notification_preferences`: whether a staff member is also e-mailed about one kind of
  notification, unique per (user, kind); rows go with their user. No row: the kind's default.
- `ck_mail_messages_kind` learns `notification` (the e-mail copy of a notification, queued on
  the outbound mail queue, belonging to no ticket's conversation); `ck_ticket_events_kind`
  learns `notification_prefs_changed`.

The two CHECKs are extended from what the database holds now (their kinds are read from the
stored definition, these added, or removed on downgrade), as 0017 does, so this revision does
not depend on which other revision added kinds before it. PostgreSQL swaps each constraint;
SQLite edits the table's stored `CREATE TABLE` text in place (`PRAGMA writable_schema`): valid
because every stored row satisfies the wider CHECK, and on downgrade the rows of the removed
kinds are deleted first. No table is copied.

Downgrade loses the preferences, the notification mail rows (their `.eml` files stay on disk)
and the audit events of the new kind.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

NOTIFICATION_KINDS = ("assigned", "replied", "sla_warning", "sla_breached", "mentioned")
# (table, constraint, the kinds this revision adds)
KIND_CHECKS = (
    ("mail_messages", "ck_mail_messages_kind", ("notification",)),
    ("ticket_events", "ck_ticket_events_kind", ("notification_prefs_changed",)),
)


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def _sqlite_check(table: str, constraint: str) -> tuple[str, str]:
    """`table`'s stored CREATE TABLE text and the `CONSTRAINT ... CHECK (kind IN (...))` in it.

    Raises RuntimeError unless the text holds that constraint exactly once.
    """
    table_sql = (
        op.get_bind()
        .execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": table},
        )
        .scalar_one()
    )
    found = re.findall(rf"CONSTRAINT {constraint} CHECK \(kind IN \([^)]*\)\)", table_sql)
    if len(found) != 1:
        raise RuntimeError(f"{table} does not define {constraint} as kind IN (...); not changed")
    return table_sql, found[0]


def _current_kinds(dialect: str, table: str, constraint: str) -> list[str]:
    """The kinds `constraint` on `table` allows now, in their stored order."""
    if dialect == "sqlite":
        definition = _sqlite_check(table, constraint)[1]
    else:
        definition = (
            op.get_bind()
            .execute(
                sa.text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conname = :name AND conrelid = CAST(:table AS regclass)"
                ),
                {"name": constraint, "table": table},
            )
            .scalar_one()
        )
    return re.findall(r"'([a-z_]+)'", definition)


def _set_kinds(dialect: str, table: str, constraint: str, kinds: list[str]) -> None:
    """Make `constraint` on `table` allow exactly `kinds` (rows must already satisfy it)."""
    check = f"CONSTRAINT {constraint} CHECK (kind IN ({', '.join(repr(k) for k in kinds)}))"
    if dialect != "sqlite":
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
        op.execute(f"ALTER TABLE {table} ADD {check}")
        return
    bind = op.get_bind()
    table_sql, old = _sqlite_check(table, constraint)
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": table_sql.replace(old, check), "name": table},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    """Create the preferences table, then widen the two kind CHECKs."""
    dialect = op.get_bind().dialect.name
    kinds = ", ".join(repr(kind) for kind in NOTIFICATION_KINDS)
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.CheckConstraint(f"kind IN ({kinds})", name="ck_notification_preferences_kind"),
        sa.UniqueConstraint("user_id", "kind", name="uq_notification_preferences_user_id_kind"),
    )
    for table, constraint, added in KIND_CHECKS:
        current = _current_kinds(dialect, table, constraint)
        _set_kinds(dialect, table, constraint, [*current, *(k for k in added if k not in current)])


def downgrade() -> None:
    """Delete the rows of the added kinds, narrow the CHECKs, drop the preferences table."""
    dialect = op.get_bind().dialect.name
    for table, constraint, added in KIND_CHECKS:
        listed = ", ".join(repr(kind) for kind in added)
        op.execute(f"DELETE FROM {table} WHERE kind IN ({listed})")
        current = _current_kinds(dialect, table, constraint)
        _set_kinds(dialect, table, constraint, [k for k in current if k not in added])
    op.drop_table("notification_preferences")
