"""`sla_rechecks` and retired policies: SLA edits queue their tickets instead of writing them.

Before, an edit marked every affected unclosed ticket for the background check with one UPDATE
in the admin's request. At 1,000,000 tickets that UPDATE rewrote a fifth of the table through
every index of `tickets` and ran into the 5 s statement timeout, so the edit failed
(docs/performance.md, "Policy edits at a million tickets"). Now the edit inserts one row here,
naming the tickets by scope (priority, category, calendar), and the background check walks
them in id order, keeping its place in `after_id`.

Removing a category policy likewise re-pointed every ticket naming it (closed ones included)
to the priority's default, one UPDATE in the request, which failed the same way at 1M. Now the
policy is retired (`sla_policies.retired_at`), not deleted: tickets measured under it keep
naming it (the SLA report reads their targets from it), the open ones move to the default
through a queued recheck, and the unique indexes on a policy's name and on its (priority,
category) cover current policies only, so both are free again at once.

Both dialects: a plain table, a nullable column and two partial indexes recreated. Downgrade
re-points the tickets of retired policies to their priority's default, deletes those policies,
restores the indexes and drops the column and the table; pending rechecks are then lost, and
the tickets they named keep their due times until each one's next write.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

PRIORITIES = "'low', 'medium', 'high', 'critical'"
CATEGORIES = "'billing', 'technical', 'account', 'general'"


def _policy_indexes(current_only: bool) -> None:
    """(Re)create the unique indexes on a policy's name and on its priority and category."""
    retired = " AND retired_at IS NULL" if current_only else ""
    name_where = sa.text("retired_at IS NULL") if current_only else None
    pair_where = sa.text(f"category IS NOT NULL{retired}")
    op.create_index(
        "ux_sla_policies_name",
        "sla_policies",
        ["name"],
        unique=True,
        sqlite_where=name_where,
        postgresql_where=name_where,
    )
    op.create_index(
        "ux_sla_policies_priority_category",
        "sla_policies",
        ["priority", "category"],
        unique=True,
        sqlite_where=pair_where,
        postgresql_where=pair_where,
    )


def _drop_policy_indexes() -> None:
    op.drop_index("ux_sla_policies_name", table_name="sla_policies")
    op.drop_index("ux_sla_policies_priority_category", table_name="sla_policies")


def upgrade() -> None:
    op.add_column("sla_policies", sa.Column("retired_at", sa.DateTime(timezone=True)))
    _drop_policy_indexes()
    _policy_indexes(current_only=True)
    if op.get_bind().dialect.name == "sqlite":
        now = sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    else:
        now = sa.text("CURRENT_TIMESTAMP")
    op.create_table(
        "sla_rechecks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("priority", sa.String(20), nullable=True),
        sa.Column("category", sa.String(20), nullable=True),
        sa.Column(
            "calendar_id",
            sa.Integer(),
            sa.ForeignKey("sla_calendars.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("after_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.CheckConstraint("length(trim(reason)) > 0", name="ck_sla_rechecks_reason_not_blank"),
        sa.CheckConstraint(
            f"priority IS NULL OR priority IN ({PRIORITIES})", name="ck_sla_rechecks_priority"
        ),
        sa.CheckConstraint(
            f"category IS NULL OR category IN ({CATEGORIES})", name="ck_sla_rechecks_category"
        ),
        sa.CheckConstraint("after_id >= 0", name="ck_sla_rechecks_after_id"),
    )


def downgrade() -> None:
    op.drop_table("sla_rechecks")
    op.execute(
        "UPDATE tickets SET sla_policy_id = (SELECT d.id FROM sla_policies AS d "
        "JOIN sla_policies AS r ON r.priority = d.priority "
        "WHERE r.id = tickets.sla_policy_id AND d.category IS NULL) "
        "WHERE sla_policy_id IN (SELECT id FROM sla_policies WHERE retired_at IS NOT NULL)"
    )
    op.execute("DELETE FROM sla_policies WHERE retired_at IS NOT NULL")
    _drop_policy_indexes()
    _policy_indexes(current_only=False)
    op.execute("ALTER TABLE sla_policies DROP COLUMN retired_at")
