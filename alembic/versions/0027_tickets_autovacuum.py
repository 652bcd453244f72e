"""Autovacuum visits `tickets` after 1% of its rows changed instead of 20% (PostgreSQL).

PostgreSQL's defaults vacuum a table once 20% of its rows are dead (and analyze it at 10%):
at a million tickets, 200,000 dead row versions first. Every write of a ticket leaves one (a
PATCH, a comment's update time, the service-level refresh), and they gather where the desk
works, at the newest tickets, which every newest-first list reads. Measured at 1,000,000
tickets with 195,001 dead versions (docs/performance.md, "Autovacuum on tickets"): the first
page took 7.35 ms and 386 buffers at the database before a VACUUM, 0.07 ms and 7 buffers
after. With 1% (and at least 1,000
rows), autovacuum comes back after about 10,000 changed tickets; each visit also merges the
search indexes' pending lists. Inserts count the same way (`autovacuum_vacuum_insert_...`,
PostgreSQL 13+), so the visibility map of new tickets stays current for index-only scans.

SQLite has no autovacuum of this kind: nothing to do there. Downgrade resets the settings.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

SETTINGS = {
    "autovacuum_vacuum_scale_factor": "0.01",
    "autovacuum_vacuum_threshold": "1000",
    "autovacuum_vacuum_insert_scale_factor": "0.01",
    "autovacuum_vacuum_insert_threshold": "1000",
    "autovacuum_analyze_scale_factor": "0.01",
    "autovacuum_analyze_threshold": "1000",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    values = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
    op.execute(f"ALTER TABLE tickets SET ({values})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE tickets RESET ({', '.join(SETTINGS)})")
