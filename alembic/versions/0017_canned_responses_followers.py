"""Canned responses, ticket followers, the `mentioned` notification and their audit kinds.

- `canned_responses`: reply snippets (title 1..120 characters, body of text with
  placeholders), owned by a staff member, `shared` with the team or not, with a `uses` count.
  Rows go with their owner.
- `ticket_followers`: who follows which ticket, unique per (ticket, user); rows go with their
  ticket or their user.
- `ck_notifications_kind` learns `mentioned`; `ck_ticket_events_kind` learns
  `canned_response_created`, `canned_response_changed`, `canned_response_deleted`,
  `follower_added` and `follower_removed`.

The two CHECKs are extended from what the database holds now (their kinds are read from the
stored definition, these added, or removed on downgrade), so this revision does not depend on
which other revision added kinds before it. PostgreSQL swaps each constraint; SQLite edits the
table's stored `CREATE TABLE` text in place (`PRAGMA writable_schema`, as 0012 does for
`tickets`): valid because every stored row satisfies the wider CHECK, and on downgrade the rows
of the removed kinds are deleted first. No table is copied, so both directions take
milliseconds whatever the size of `ticket_events`.

Downgrade loses the canned responses, the followers, the `mentioned` notifications and the
audit events of the kinds above.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NOTIFICATION_KINDS = ("mentioned",)
EVENT_KINDS = (
    "canned_response_created",
    "canned_response_changed",
    "canned_response_deleted",
    "follower_added",
    "follower_removed",
)
# (table, constraint, the kinds this revision adds)
KIND_CHECKS = (
    ("notifications", "ck_notifications_kind", NOTIFICATION_KINDS),
    ("ticket_events", "ck_ticket_events_kind", EVENT_KINDS),
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
    """Create both tables, then widen the two kind CHECKs."""
    dialect = op.get_bind().dialect.name
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
        *(
            sa.Column(
                name,
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=_now_default(dialect),
            )
            for name in ("created_at", "updated_at")
        ),
        sa.CheckConstraint("length(trim(title)) > 0", name="ck_canned_responses_title_not_blank"),
        sa.CheckConstraint("uses >= 0", name="ck_canned_responses_uses_not_negative"),
    )
    op.create_index("ix_canned_responses_owner_id_title", "canned_responses", ["owner_id", "title"])
    op.create_index("ix_canned_responses_shared_title", "canned_responses", ["shared", "title"])
    op.create_table(
        "ticket_followers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.UniqueConstraint("ticket_id", "user_id", name="uq_ticket_followers_ticket_id_user_id"),
    )
    op.create_index("ix_ticket_followers_user_id", "ticket_followers", ["user_id"])
    for table, constraint, added in KIND_CHECKS:
        kinds = _current_kinds(dialect, table, constraint)
        _set_kinds(dialect, table, constraint, [*kinds, *(k for k in added if k not in kinds)])


def downgrade() -> None:
    """Delete the rows of the added kinds, narrow the CHECKs, drop both tables."""
    dialect = op.get_bind().dialect.name
    for table, constraint, added in KIND_CHECKS:
        listed = ", ".join(repr(kind) for kind in added)
        op.execute(f"DELETE FROM {table} WHERE kind IN ({listed})")
        kinds = _current_kinds(dialect, table, constraint)
        _set_kinds(dialect, table, constraint, [k for k in kinds if k not in added])
    op.drop_table("ticket_followers")
    op.drop_table("canned_responses")
