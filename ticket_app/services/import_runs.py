"""Import runs that were killed are marked failed instead of staying `running` forever.

A running import signs of life in `import_runs.heartbeat_at` from a background thread every
fifth of IMPORT_STALE_AFTER_SECONDS (and its batches keep committing meanwhile). A process
killed with SIGKILL cannot mark its own run failed; a run whose last sign of life (or start)
is older than IMPORT_STALE_AFTER_SECONDS is therefore taken for dead and marked `failed` by
`fail_stale_runs`, which `serve`, `migrate` and every import call when they start.

A heartbeat rather than a process id: the import may run on another machine than the server
that starts next (both only share the database), and a process id says nothing across hosts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from ticket_app.models import ImportRun, ImportStatus, utc_now
from ticket_app.services.database import UNAVAILABLE_ERRORS, get_engine, unavailable_error
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

_RUNS = ImportRun.__table__


def fail_stale_runs() -> list[int]:
    """Mark `failed` every running import silent for IMPORT_STALE_AFTER_SECONDS; their ids.

    Silent: neither a heartbeat nor (before the first one) its start within that time. Its
    `finished_at` is set to now; counts stay those of its last committed batch. Raises
    DatabaseUnavailableError.
    """
    cutoff = utc_now() - timedelta(seconds=get_settings().import_stale_after_seconds)
    last_sign = _RUNS.c.heartbeat_at.is_(None) & (_RUNS.c.started_at < cutoff)
    last_sign |= _RUNS.c.heartbeat_at < cutoff
    try:
        with get_engine().begin() as connection:
            ids = list(
                connection.execute(
                    _RUNS.update()
                    .where(_RUNS.c.status == ImportStatus.RUNNING.value, last_sign)
                    .values(status=ImportStatus.FAILED.value, finished_at=utc_now())
                    .returning(_RUNS.c.id)
                ).scalars()
            )
    except UNAVAILABLE_ERRORS as exc:
        raise unavailable_error(exc) from exc
    if ids:
        logger.warning("import runs %s showed no sign of life and were marked failed", ids)
    return sorted(ids)


def _beat(run_id: int) -> None:
    with get_engine().begin() as connection:
        connection.execute(
            _RUNS.update()
            .where(_RUNS.c.id == run_id, _RUNS.c.status == ImportStatus.RUNNING.value)
            .values(heartbeat_at=utc_now())
        )


@contextmanager
def heartbeat(run_id: int) -> Iterator[None]:
    """Sign of life for import run `run_id` while the block runs, from a background thread.

    One beat at once, then one every fifth of IMPORT_STALE_AFTER_SECONDS until the block ends. A
    beat that fails (the database is briefly away) is logged and retried at the next interval;
    the import itself reports lasting failures.
    """
    interval = get_settings().import_stale_after_seconds / 5
    stopped = threading.Event()

    def run() -> None:
        while True:
            try:
                _beat(run_id)
            except UNAVAILABLE_ERRORS:
                logger.warning("import run %d: heartbeat failed", run_id, exc_info=True)
            if stopped.wait(interval):
                return

    thread = threading.Thread(target=run, name=f"import-heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join()
