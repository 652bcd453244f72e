"""The search indexes' pending lists, merged in the background instead of on the request path.

PostgreSQL's GIN indexes (the tickets' full-text search document and the trigram indexes on
title and description) are built with `fastupdate` on: a write appends its entries to the
index's pending list, and the list is merged into the index proper only when it passes
`gin_pending_list_limit` (4 MB) or when (auto)vacuum runs. Two costs follow, both measured at
1,000,000 tickets (`docs/performance.md`, "GIN pending lists merged in the background"):

- every search reads the whole pending list of each index it uses: with about 1,100 pending
  pages across the three indexes, a search matching nothing took 3.5 ms at the database, and
  0.06 to 0.21 ms once they were merged;
- the write that finds a list full merges all of it itself, in its own request.

Autovacuum seldom helps at this size: it visits `tickets` after 20% of its rows changed.
`clean_pending_lists` merges every such list (`gin_clean_pending_list`, PostgreSQL 9.6+), and
`clean_job` runs it every minute on the worker, so a list holds at most about a minute's
writes; the merge took 0.28 s for 3,000 updated tickets' entries. Keeping `fastupdate` on
keeps a write's own cost low (turning it off doubled a single UPDATE's p50, see
migration 0022). On SQLite there is nothing to merge.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from huey import crontab

from ticket_app.services.database import service_session
from ticket_app.services.task_queue import queue

logger = logging.getLogger(__name__)

CLEAN_TIMEOUT_MS = 60_000
"""Bound on one merge: a full 4 MB list merges in well under a second on an idle server."""
_CLEAN_LOCK = 0x61A7E5
"""pg_try_advisory_xact_lock key: one merger at a time (any constant unique to this job)."""
_PENDING_LIST_INDEXES = sa.text(
    """
    SELECT index.oid::regclass::text
    FROM pg_index AS entry
    JOIN pg_class AS index ON index.oid = entry.indexrelid
    JOIN pg_am AS method ON method.oid = index.relam
    WHERE method.amname = 'gin'
      AND index.relnamespace = current_schema()::regnamespace
      AND NOT coalesce('fastupdate=off' = ANY (index.reloptions), false)
      AND pg_has_role(index.relowner, 'USAGE')
    ORDER BY 1
    """
)


def clean_pending_lists() -> dict[str, int]:
    """Merge the pending list of every GIN index of the schema that keeps one.

    One transaction: the indexes are found in the catalogue (GIN, `fastupdate` not off, owned
    by this user or a role it uses, as `gin_clean_pending_list` requires: a deployment whose
    application user does not own the schema merges nothing instead of failing), then each
    list is merged with `gin_clean_pending_list`. Returns {index name: pages merged}
    (0 for an empty list); an empty dict on SQLite, or when another process is merging at
    the same moment. Statements are bounded by CLEAN_TIMEOUT_MS instead of the request
    timeout. Raises DatabaseUnavailableError or QueryTimeoutError (services.errors).
    """
    with service_session() as session:
        if session.get_bind().dialect.name != "postgresql":
            return {}
        session.execute(sa.text(f"SET LOCAL statement_timeout = {CLEAN_TIMEOUT_MS}"))
        locked = session.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _CLEAN_LOCK}
        ).scalar_one()
        if not locked:
            return {}
        names = session.execute(_PENDING_LIST_INDEXES).scalars().all()
        return {
            name: int(
                session.execute(
                    sa.text("SELECT gin_clean_pending_list(CAST(:name AS regclass))"),
                    {"name": name},
                ).scalar_one()
            )
            for name in names
        }


@queue.periodic_task(crontab(minute="*"), name="search.clean_pending")
def clean_job() -> None:
    """Every minute on the worker: `clean_pending_lists`, logging what it merged."""
    merged = clean_pending_lists()
    if any(merged.values()):
        logger.info("gin pending lists merged: %s pages", merged)
