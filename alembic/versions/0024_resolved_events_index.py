"""A partial index on the time of status changes into resolved or closed.

The dashboard's created-versus-resolved chart counts, per day of a period, the audit events
that moved a ticket into resolved or closed. The trail holds every change of every ticket, so
without an index that count reads the whole `ticket_events` table; this partial index holds
only those status changes, by time, so a period's count reads the period's rows. Both
databases support partial indexes; the predicate is written with literals, as the service's
query repeats it (SQLite uses a partial index only then).

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0024"
down_revision = "0020"
branch_labels = None
depends_on = None

INDEX = "ix_ticket_events_resolved_at"
# As models.audit.RESOLVED_EVENT_PREDICATE when this revision was written (a migration keeps
# its own copy: the model may change later).
PREDICATE = (
    "ticket_events.kind = 'changed' AND ticket_events.field = 'status' "
    "AND ticket_events.new_value IN ('resolved', 'closed')"
)


def upgrade() -> None:
    """Create the partial index."""
    op.create_index(
        INDEX,
        "ticket_events",
        ["created_at"],
        sqlite_where=sa.text(PREDICATE),
        postgresql_where=sa.text(PREDICATE),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_index(INDEX, table_name="ticket_events")
