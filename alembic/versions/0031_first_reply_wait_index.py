"""An index of first-reply waits: the dashboard's median reads it instead of every ticket.

The dashboard's median time to first public reply (`services.stats`, tickets with a reply and
a requester address) was `percentile_cont(0.5)` over every matching ticket: a sequential scan
of the whole table and a sort, on each load and refresh of the dashboard (about 312 ms at
1,000,000 tickets even with no reply at all).

PostgreSQL: a partial index on the wait itself (`first_public_reply_at - created_at`), holding
only the tickets that count. The median is then read in index order: one count of the
entries and the one or two middle ones (`OFFSET`), without reading the table or sorting.
Tickets without a reply, or without an address, add no entry and no write.

SQLite answers the median in Python from the fetched waits (a small desk's database); it gets
no index.

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

INDEX = "ix_tickets_first_reply_wait"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX {INDEX} ON tickets ((first_public_reply_at - created_at)) "
            "WHERE first_public_reply_at IS NOT NULL AND requester_email IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {INDEX}")
