"""Import runs: every imported file recorded from start to end, and duplicate imports refused.

Every `import_file` is recorded in `import_runs` (file name, SHA-256 of its bytes, actor,
start and end, counts updated in each batch's transaction). Importing the same bytes again after
a run that wrote tickets is refused with DuplicateImportError naming that run, unless
`allow_duplicates`, when it could duplicate rows: when some valid row has no external id (nor a
line id), or when rows are keyed differently from the earlier run (another external-id column,
format or `line_ids`). A re-run keyed the same way with every row keyed only skips what is
stored, so it is allowed: that is how an interrupted import is completed.

Import runs that were killed are marked failed instead of staying `running` forever. A running
import signs of life in `import_runs.heartbeat_at` from a background thread every fifth of
IMPORT_STALE_AFTER_SECONDS (and its batches keep committing meanwhile). A process killed with
SIGKILL cannot mark its own run failed; a run whose last sign of life (or start) is older than
IMPORT_STALE_AFTER_SECONDS is therefore taken for dead and marked `failed` by `fail_stale_runs`,
which `serve`, `migrate` and every import call when they start.

A heartbeat rather than a process id: the import may run on another machine than the server
that starts next (both only share the database), and a process id says nothing across hosts.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import InterfaceError, OperationalError

from ticket_app.models import ActorKind, ImportRun, ImportStatus, utc_now
from ticket_app.services.access import Action, Actor
from ticket_app.services.database import UNAVAILABLE_ERRORS, get_engine, unavailable_error
from ticket_app.services.errors import DatabaseUnavailableError
from ticket_app.services.imports.prepare import RowInvalidError, prepare_row
from ticket_app.services.imports.read import (
    FILE_FORMATS,
    ImportFileError,
    detect_format,
    read_csv,
    read_jsonl,
    source_columns,
)
from ticket_app.services.imports.write import DEFAULT_BATCH_SIZE, ImportReport, import_records
from ticket_app.settings import get_settings
from ticket_app.triage import TicketClassifier

logger = logging.getLogger(__name__)

_RUNS = ImportRun.__table__
# pg_advisory_xact_lock(namespace, key): the namespace keeps these locks apart from any others.
_RUN_LOCK_NAMESPACE = 0x54440005


class DuplicateImportError(ImportFileError):
    """The same file (by SHA-256 of its bytes) was imported before and would duplicate rows.

    `earlier` is the import run that wrote tickets from it (the latest one); the message names
    it in one line: when, by whom, how many tickets, whether it finished.
    """

    def __init__(self, file_name: str, earlier: ImportRun, reason: str) -> None:
        when = earlier.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        outcome = {
            ImportStatus.FINISHED: "finished",
            ImportStatus.FAILED: "failed part-way",
            ImportStatus.RUNNING: "is still running or was killed",
        }[ImportStatus(earlier.status)]
        super().__init__(
            f"{file_name} was already imported: import #{earlier.id} of the same file "
            f"(SHA-256 {earlier.content_sha256[:12]}…, as {earlier.file_name}) started {when} "
            f"by {earlier.actor_label}, {outcome}, {earlier.inserted} tickets imported; "
            f"importing it again would duplicate {reason}; pass --allow-duplicates to import "
            "it anyway"
        )
        self.earlier = earlier


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


def file_digest(path: Path) -> tuple[str, int]:
    """(hex SHA-256 of the file's bytes, their count): what identifies "the same file"."""
    with path.open("rb") as raw:
        digest = hashlib.file_digest(raw, "sha256")
        return digest.hexdigest(), raw.tell()


def _key_options(fmt: str, columns: Mapping[str, str] | None, line_ids: bool) -> str:
    """Canonical JSON of what decides each row's external id (same file, same keys)."""
    external_id_column = source_columns(columns).get("external_id")
    return json.dumps(
        {"format": fmt, "external_id_column": external_id_column, "line_ids": line_ids},
        sort_keys=True,
    )


def _has_keyless_row(path: Path, fmt: str, columns: Mapping[str, str] | None) -> bool:
    """Whether some valid row of the file has no external id (a re-run would duplicate it)."""
    reader = read_csv if fmt == "csv" else read_jsonl
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        for _line, record in reader(text, columns):
            try:
                row = prepare_row(record)
            except RowInvalidError:
                continue  # refused on every run, so never duplicated
            if row["external_id"] is None:
                return True
    return False


def _lock_runs(connection: sa.Connection, digest: str) -> None:
    """Serialise imports of the same bytes until `connection` commits (check, then record)."""
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(bytes.fromhex(digest[:8]), "big", signed=True)
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": _RUN_LOCK_NAMESPACE, "key": key},
        )
    else:
        # SQLite has one writer at a time: taking the write lock first orders the imports.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _start_run(
    path: Path,
    fmt: str,
    columns: Mapping[str, str] | None,
    line_ids: bool,
    actor: Actor,
    allow_duplicates: bool,
) -> int:
    """Record a new import run of `path` and return its id, or refuse a duplicating re-run.

    Raises DuplicateImportError (see the module docstring) unless `allow_duplicates`, and
    DatabaseUnavailableError. The check and the insert share one transaction under a lock on
    the file's hash, so two imports of the same bytes started together cannot both pass.
    """
    digest, size = file_digest(path)
    key_options = _key_options(fmt, columns, line_ids)
    try:
        with get_engine().connect() as connection:
            _lock_runs(connection, digest)
            if not allow_duplicates:
                earlier = (
                    connection.execute(
                        sa.select(_RUNS)
                        .where(
                            _RUNS.c.content_sha256 == digest,
                            sa.or_(
                                _RUNS.c.inserted > 0,
                                _RUNS.c.status == ImportStatus.RUNNING.value,
                            ),
                        )
                        .order_by(_RUNS.c.id.desc())
                    )
                    .mappings()
                    .all()
                )
                reason = None
                if any(run["key_options"] != key_options for run in earlier):
                    reason = (
                        "its rows (that import gave them other external ids: --format, "
                        "--map external_id or --line-ids differ)"
                    )
                elif earlier and (not line_ids and _has_keyless_row(path, fmt, columns)):
                    reason = "its rows that have no external_id"
                if reason is not None:
                    raise DuplicateImportError(path.name, ImportRun(**earlier[0]), reason)
            run_id = connection.execute(
                _RUNS.insert()
                .values(
                    file_name=path.name[:255],
                    content_sha256=digest,
                    size_bytes=size,
                    actor_kind=actor.kind.value,
                    actor_user_id=actor.user_id,
                    actor_token_id=actor.token_id,
                    actor_label=actor.label[:254],
                    key_options=key_options,
                    allow_duplicates=allow_duplicates,
                    status=ImportStatus.RUNNING.value,
                    started_at=utc_now(),
                )
                .returning(_RUNS.c.id)
            ).scalar_one()
            connection.commit()
            return run_id
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path.name} is not UTF-8 text") from exc
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailableError(
            f"The database is unavailable; nothing was imported: {exc.orig}"
        ) from exc


def _finish_run(run_id: int, status: ImportStatus, report: ImportReport | None = None) -> None:
    """Mark the run finished or failed; with `report`, store its final counts."""
    values: dict[str, Any] = {"status": status.value, "finished_at": utc_now()}
    if report is not None:
        values.update(
            rows_read=report.rows,
            inserted=report.inserted,
            already_present=report.already_present,
            rejected=report.rejected,
        )
    with get_engine().begin() as connection:
        connection.execute(_RUNS.update().where(_RUNS.c.id == run_id).values(**values))


def import_file(
    path: Path,
    *,
    file_format: str | None = None,
    columns: Mapping[str, str] | None = None,
    classify: bool = True,
    classifier: TicketClassifier | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    line_ids: bool = False,
    on_progress: Callable[[int, ImportReport], None] | None = None,
    actor: Actor | None = None,
    allow_duplicates: bool = False,
) -> ImportReport:
    """Import a UTF-8 CSV or JSON Lines file of tickets into the current database.

    `file_format` is "csv" or "jsonl" (default: from the extension); `columns` maps ticket field
    -> source column for headers that differ; `line_ids` gives rows without an external id the
    id "{file name}:{line}" so a re-run of the same file is idempotent. `on_progress` receives
    (bytes of the file read so far, running report) after each batch. See import_records for
    the rest. Raises ImportFileError for an unreadable file (the message names the line).

    The import is recorded in `import_runs` (`report.run_id`); it ends `finished`, or `failed`
    when an exception stops it. Raises DuplicateImportError, before writing anything, when the
    same bytes were imported before and this run would duplicate rows (module docstring),
    unless `allow_duplicates`.
    """
    fmt = file_format or detect_format(path)
    if fmt not in FILE_FORMATS.values():
        raise ImportFileError(f"unknown format {fmt!r}; use csv or jsonl")
    actor = actor or Actor.process(ActorKind.IMPORT)
    actor.require(Action.TICKETS_IMPORT)
    fail_stale_runs()  # a killed earlier run must not pass for one still running
    run_id = _start_run(path, fmt, columns, line_ids, actor, allow_duplicates)
    try:
        with heartbeat(run_id):
            report = _import_open_file(
                path,
                fmt,
                columns=columns,
                classify=classify,
                classifier=classifier,
                batch_size=batch_size,
                line_ids=line_ids,
                on_progress=on_progress,
                actor=actor,
                run_id=run_id,
            )
    except BaseException:
        try:
            _finish_run(run_id, ImportStatus.FAILED)
        except Exception:  # the database may be why the import failed; report the first error
            logger.warning("could not mark import run %d as failed", run_id, exc_info=True)
        raise
    report.run_id = run_id
    _finish_run(run_id, ImportStatus.FINISHED, report)
    return report


def _import_open_file(
    path: Path,
    fmt: str,
    *,
    columns: Mapping[str, str] | None,
    classify: bool,
    classifier: TicketClassifier | None,
    batch_size: int,
    line_ids: bool,
    on_progress: Callable[[int, ImportReport], None] | None,
    actor: Actor,
    run_id: int,
) -> ImportReport:
    """The body of `import_file` once its run is recorded."""
    reader = read_csv if fmt == "csv" else read_jsonl
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        callback = None
        if on_progress is not None:

            def callback(report: ImportReport) -> None:
                on_progress(raw.tell(), report)

        try:
            return import_records(
                reader(text, columns),
                classify=classify,
                classifier=classifier,
                batch_size=batch_size,
                id_prefix=path.name if line_ids else None,
                on_batch=callback,
                actor=actor,
                run_id=run_id,
            )
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"{path.name} is not UTF-8 text (invalid byte near offset {raw.tell()})"
            ) from exc
