"""How common each trigram is in tickets' titles and descriptions, sampled (PostgreSQL only).

`ticket_app.search.trigrams.index_substring` needs each trigram's share of tickets to choose
the part of a searched code the pg_trgm indexes look up. The shares come from a sample of
about SAMPLE_ROWS tickets (`TABLESAMPLE SYSTEM`, its percentage from the planner's row count
in `pg_class`), counted by pg_trgm's own `show_trgm`: 140 to 180 ms at 1,000,000 tickets. A served
process takes its first sample in its warm-up (`keep_fresh`, a step of `services.warmup`) and a
new one every REFRESH_SECONDS in a background thread, while searches go on with the one they
find (`current_sample`, which never reads the database). Until a first sample exists, or on a
table the planner has never counted, searches look up whole terms as before: the sample only
makes them cheaper, never different.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from ticket_app.services.database import service_session

logger = logging.getLogger(__name__)

SAMPLE_ROWS = 2000
"""About how many tickets a sample reads (all of them below this many)."""
REFRESH_SECONDS = 3600.0
"""How long a process uses one sample before taking a new one."""
RETRY_SECONDS = 60.0
"""How soon a process without a sample tries again (the table not yet counted, or the database
down)."""
MIN_COUNT = 2
"""A trigram seen in fewer sampled tickets is not kept (it counts as one, the floor)."""

_SAMPLE = sa.text(
    "WITH sample AS MATERIALIZED ("
    " SELECT coalesce(title, '') || ' ' || coalesce(description, '') AS body"
    " FROM tickets TABLESAMPLE SYSTEM (:percent))"
    " SELECT (SELECT count(*) FROM sample) AS sampled, gram, count(*) AS tickets"
    " FROM sample, unnest(show_trgm(body)) AS gram"
    " WHERE gram ~ '^[0-9a-z]{3}$'"
    " GROUP BY gram HAVING count(*) >= :min_count"
)


@dataclass(frozen=True)
class TrigramSample:
    """Shares of sampled tickets per trigram.

    `shares` maps a lower-case ASCII letter-and-digit trigram to the share (0 to 1) of sampled
    tickets whose title or description holds it; `floor` is one ticket's share (1 / sampled),
    the share of a trigram `shares` does not list.
    """

    shares: dict[str, float]
    floor: float


_sample: TrigramSample | None = None
_refresh_lock = threading.Lock()
_refreshing = False


def take_sample(connection: sa.Connection) -> TrigramSample | None:
    """A new sample read through `connection` (PostgreSQL).

    None when the planner has never counted `tickets` (no ANALYZE yet), so that the sample's
    size cannot be chosen. A sample in which no trigram is seen twice lists none and has a
    floor of 1: every trigram counts as common, so whole terms are looked up.
    """
    estimated = connection.execute(
        sa.text("SELECT reltuples FROM pg_class WHERE oid = 'tickets'::regclass")
    ).scalar_one()
    if estimated < 0:
        return None
    percent = 100.0 if estimated <= SAMPLE_ROWS else SAMPLE_ROWS * 100.0 / float(estimated)
    rows = connection.execute(_SAMPLE, {"percent": percent, "min_count": MIN_COUNT}).all()
    sampled = rows[0].sampled if rows else 0
    return TrigramSample(
        shares={row.gram: row.tickets / sampled for row in rows},
        floor=1.0 / max(sampled, 1),
    )


def refresh_sample() -> TrigramSample | None:
    """Take a new sample and make it this process's; returns it.

    None, with the current sample left in place, when none was taken: see `take_sample`, or
    the database failed (logged).
    """
    global _sample  # one sample per process, replaced whole (a single assignment)
    try:
        with service_session() as session:
            taken = take_sample(session.connection())
    except SQLAlchemyError:
        logger.warning("trigram sample not taken", exc_info=True)
        return None
    if taken is not None:
        _sample = taken
    return taken


def _refresh_forever() -> None:
    while True:
        time.sleep(REFRESH_SECONDS if _sample is not None else RETRY_SECONDS)
        refresh_sample()


def keep_fresh() -> None:
    """On PostgreSQL, take this process's first sample now, then keep it fresh.

    A daemon thread takes a new one every REFRESH_SECONDS (every RETRY_SECONDS while there is
    none); only the first call starts it. Nothing on SQLite, whose search scans the table.
    """
    global _refreshing
    with service_session() as session:
        if session.get_bind().dialect.name != "postgresql":
            return
    with _refresh_lock:
        if _refreshing:
            return
        _refreshing = True
    refresh_sample()
    threading.Thread(target=_refresh_forever, name="trigram-sample", daemon=True).start()


def current_sample() -> TrigramSample | None:
    """The process's current sample (None before the first); reads no database."""
    return _sample


def forget_sample() -> None:
    """Drop this process's sample (tests; the refresh thread, if any, takes another later)."""
    global _sample
    _sample = None
