"""Indexes for the dashboard's workload and SLA report: fewer reads of every matching ticket.

Measured at 1,000,000 tickets on PostgreSQL (`EXPLAIN ANALYZE`, and in process with
`tests/benchmarks/bench_dashboard.py`; docs/performance.md); each of these runs on every load
and refresh of the dashboard:

- **The median time to first public reply** (`services.stats`: tickets with a reply and a
  requester address) was `percentile_cont(0.5)` over every matching ticket: a sequential scan
  and a sort. `ix_tickets_first_reply_wait` (new, partial) indexes the wait itself
  (`first_public_reply_at - created_at`) for the tickets that count, so the median is read in
  index order: a count of the entries and the one or two middle ones (`OFFSET`), no sort. The
  entry carries the wait's two instants and the enum filters' columns (`INCLUDE`), so with no
  filter or enum filters both reads are index-only scans: an expression index alone serves no
  index-only scan, and fetching each ticket to compute its wait took 359 ms for the 300,000
  entries before the middle. A ticket without a reply or an address adds no entry.
- **Open tickets per assignee** read `ix_tickets_assignee_id_status_created_at_id` alone
  without a filter (71 ms), but with a status or category filter the planner combined bitmaps
  and read the table: 589 ms for `status=open`, 334 ms for `category=billing`. The index is
  rebuilt with the enum filters' columns as `INCLUDE` (same keys, so every list plan that
  used it keeps it): every enum filter is then an index-only scan (76 and 51 ms). A partial
  index of open tickets was tried first and dropped: the planner ANDed its bitmap into the
  created-per-day chart's scan of open tickets, 6 ms to 37 ms.
- **The SLA report's business-hour times** (median and 90th percentile of
  `first_response_business_minutes` and `resolution_business_minutes`,
  `services.sla_report`) were `percentile_cont` over every matching ticket: 821 and 837 ms
  at 1,000,000 tickets before any duration was recorded there, the scan alone.
  `ix_tickets_first_response_minutes` and `ix_tickets_resolution_minutes` (new, partial:
  measured tickets only, with the enum filters' columns) serve a count and the two values
  around each percentile in index order.

SQLite (a small desk's database) answers all of these from the table and gets none.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

ENUM_COLUMNS = "status_rank, category, priority, priority_rank"
"""The columns enum filters name (`services.ticket_query`) besides `status`."""
WAITS = "ix_tickets_first_reply_wait"
BY_ASSIGNEE = "ix_tickets_assignee_id_status_created_at_id"
BY_ASSIGNEE_KEYS = "assignee_id, status, created_at, id"
MINUTES = ("first_response_business_minutes", "resolution_business_minutes")
"""The SLA report's measured durations, each indexed where set."""


def _rebuild_by_assignee(include: str) -> None:
    """Build the assignee index anew beside the old one, then put it in its place."""
    op.execute(f"CREATE INDEX {BY_ASSIGNEE}_new ON tickets ({BY_ASSIGNEE_KEYS}){include}")
    op.execute(f"DROP INDEX {BY_ASSIGNEE}")
    op.execute(f"ALTER INDEX {BY_ASSIGNEE}_new RENAME TO {BY_ASSIGNEE}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX {WAITS} ON tickets ((first_public_reply_at - created_at)) "
        f"INCLUDE (first_public_reply_at, created_at, status, {ENUM_COLUMNS}) "
        "WHERE first_public_reply_at IS NOT NULL AND requester_email IS NOT NULL"
    )
    _rebuild_by_assignee(f" INCLUDE ({ENUM_COLUMNS})")
    for column in MINUTES:
        op.execute(
            f"CREATE INDEX ix_tickets_{column.removesuffix('_business_minutes')}_minutes "
            f"ON tickets ({column}) INCLUDE (status, {ENUM_COLUMNS}) WHERE {column} IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {WAITS}")
    _rebuild_by_assignee("")
    for column in MINUTES:
        op.execute(f"DROP INDEX ix_tickets_{column.removesuffix('_business_minutes')}_minutes")
