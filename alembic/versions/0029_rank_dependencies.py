"""Extended statistics: `status_rank` follows from `status`, `priority_rank` from `priority`.

Migration 0022 made the status and priority filters also name the rank (`status = 'open' AND
status_rank = 5`) so they page through the rank indexes. PostgreSQL multiplies the two
clauses' selectivities as if they were independent, so such a filter is estimated at about the
column's share of its real size (a quarter for a status held by a quarter of the tickets, in
the migration's test). At 1,000,000 tickets the 203,449 open unassigned tickets were
estimated at 41,308 (`EXPLAIN`, after `ANALYZE`), the plan counting the
"Unassigned" queue up to the count cap became two full bitmap scans of 205,000 entries each
(112 ms) instead of a scan that stops at the cap (38 ms), and its estimate beyond the cap
read "about 40,000". Functional-dependency statistics
(`CREATE STATISTICS ... (dependencies)`) tell the planner that one column decides the other;
the estimate is then 203,138 (docs/performance.md, "Queue counts at a million tickets").

PostgreSQL only (SQLite's planner keeps no such statistics). When tickets exist, `ANALYZE
tickets` fills them at once (a sample of 30,000 rows whatever the table's size) rather than at
autovacuum's next visit; an empty table is left unanalyzed, so a new desk's planner does not
take "no rows" for a fact while the first tickets arrive. Downgrade drops them.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

STATISTICS = {
    "st_tickets_status_rank": ("status", "status_rank"),
    "st_tickets_priority_rank": ("priority", "priority_rank"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (column, rank) in STATISTICS.items():
        op.execute(f"CREATE STATISTICS {name} (dependencies) ON {column}, {rank} FROM tickets")
    if op.get_bind().execute(sa.text("SELECT EXISTS (SELECT 1 FROM tickets)")).scalar_one():
        op.execute("ANALYZE tickets")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in STATISTICS:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
