"""Writing imported rows: batches of prepared rows into the tickets table.

Good rows are written in batches, one transaction per batch, with
`INSERT ... ON CONFLICT (external_id) DO NOTHING`: an interrupted import never leaves part of a
batch behind, and re-running it skips the rows that carry an external id already stored. Each
new ticket gets its `imported` audit event, and the import run's counts are updated, in the
batch's transaction. On PostgreSQL a batch is COPied into a staging table and written by one
INSERT ... SELECT that also writes the audit events (the bulk path: the count triggers run
once per batch, and each row is written once, already marked for the SLA check, instead of
being inserted and then updated). `import_records` is the loop: records are prepared and
classified a batch at a time, and the next batch is prepared while the previous one is being
written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from ticket_app.models import (
    ActorKind,
    EventKind,
    ImportRun,
    Status,
    Ticket,
    TicketEvent,
    utc_now,
)
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import event_row
from ticket_app.services.database import get_engine
from ticket_app.services.errors import ConstraintViolationError, DatabaseUnavailableError
from ticket_app.services.imports.prepare import (
    SIGNAL_FIELDS,
    RowError,
    RowInvalidError,
    fill_in,
    prepare_row,
)
from ticket_app.services.imports.read import IMPORT_FIELDS, ImportFileError, SourceRecord
from ticket_app.triage import TicketClassifier, get_classifier

DEFAULT_BATCH_SIZE = 1000

_TABLE = Ticket.__table__
_RUNS = ImportRun.__table__
_INSERT_FIELDS = IMPORT_FIELDS + SIGNAL_FIELDS


class SchemaOutOfDateError(RuntimeError):
    """The database lacks the tickets table or its external_id column: migrations are pending."""


@dataclass
class ImportReport:
    """What an import did.

    `rows` counts data rows read; `inserted` the tickets written; `already_present` valid rows
    skipped because their external id was stored before; `classified` the inserted-or-skipped
    rows the classifier was asked about; `rejected` the rows refused, explained in `errors`
    (one entry per bad field, so a row may have several). `run_id` is the `import_runs` row of
    an `import_file` (None for `import_records` alone).
    """

    rows: int = 0
    inserted: int = 0
    already_present: int = 0
    classified: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    run_id: int | None = None


def check_schema() -> None:
    """Make sure the current database can take an import.

    Raises SchemaOutOfDateError when the tickets table or its external_id column is missing
    (run `python -m ticket_app migrate`), DatabaseUnavailableError when it cannot be reached.
    """
    try:
        inspector = sa.inspect(get_engine())
        columns = (
            {column["name"] for column in inspector.get_columns("tickets")}
            if inspector.has_table("tickets")
            else set()
        )
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailableError(f"The database is unavailable: {exc.orig}") from exc
    if "external_id" not in columns:
        raise SchemaOutOfDateError(
            "the database schema is not up to date; run `python -m ticket_app migrate` first"
        )


_STAGING = "import_batch"
_STAGING_COLUMNS = [
    f"{name}::text AS {name}" if isinstance(_TABLE.c[name].type, sa.String) else name
    for name in _INSERT_FIELDS
]
_EVENT_COLUMNS = ("actor_kind", "actor_user_id", "actor_token_id", "actor_label", "kind")
_POSTGRES_WRITE = sa.text(
    f"""
    WITH inserted AS (
        INSERT INTO tickets ({", ".join(_INSERT_FIELDS)}, sla_next_check_at)
        SELECT {", ".join(_INSERT_FIELDS)},
            CASE WHEN status <> 'closed' THEN CAST(:now AS timestamptz) END
        FROM {_STAGING}
        ON CONFLICT (external_id) DO NOTHING
        RETURNING id
    ),
    audit AS (
        INSERT INTO ticket_events (ticket_id, created_at, {", ".join(_EVENT_COLUMNS)})
        SELECT id, CAST(:now AS timestamptz), CAST(:actor_kind AS varchar),
            CAST(:actor_user_id AS integer), CAST(:actor_token_id AS integer),
            CAST(:actor_label AS varchar), CAST(:kind AS varchar)
        FROM inserted
    )
    SELECT id FROM inserted ORDER BY id
    """
)
"""Every row of the staging table not already stored (by external id) into `tickets`, marked
for the SLA check unless closed, each with its `imported` audit event: one statement."""


def _postgres_write(
    connection: sa.Connection, rows: list[dict[str, Any]], actor: Actor, now: datetime
) -> list[int]:
    """COPY `rows` into a staging table, then insert them with their audit events at once.

    The staging table is a temporary table of the batch's transaction (dropped at commit) with
    the columns the import sets, their text unbounded: COPY, PostgreSQL's bulk path, runs
    outside SQLAlchemy, so every length and CHECK is left to the one INSERT ... SELECT after
    it (whose refusal is reported as any insert's). That insert fires the count triggers once
    (one aggregated delta).
    Returns the new tickets' ids, ascending.
    """
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE {_STAGING} ON COMMIT DROP AS "
        f"SELECT {', '.join(_STAGING_COLUMNS)} FROM tickets WITH NO DATA"
    )
    raw = connection.connection.driver_connection
    statement = f"COPY {_STAGING} ({', '.join(_INSERT_FIELDS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] for name in _INSERT_FIELDS])
    event = event_row(actor, EventKind.IMPORTED)
    parameters = {name: event[name] for name in _EVENT_COLUMNS}
    return list(connection.execute(_POSTGRES_WRITE, {"now": now, **parameters}).scalars())


def _sqlite_insert() -> sa.Insert:
    """A multi-row INSERT (executemany) ... ON CONFLICT DO NOTHING for SQLite."""
    return (
        sqlite.insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["external_id"])
        .returning(_TABLE.c.id)
    )


def _write_batch(
    rows: list[dict[str, Any]],
    lines: tuple[int, int],
    actor: Actor,
    run: tuple[int, int, int] | None = None,
) -> int:
    """Insert `rows` in one transaction, skipping stored external ids; return how many were new.

    Every new ticket gets its `imported` audit event by `actor` in the same transaction, and is
    marked for the SLA background check (which computes its due times from its history). `run`
    is (import run id, rows read so far, rows rejected so far): the run's counts are updated in
    the same transaction, so they are exact even if the process is killed afterwards.

    Raises DatabaseUnavailableError, or ConstraintViolationError naming the batch's line range
    when the database refuses a row (nothing of the batch is written then).
    """
    engine = get_engine()
    dialect = engine.dialect.name
    now = utc_now()
    try:
        with engine.begin() as connection:
            if dialect == "postgresql":
                ids = _postgres_write(connection, rows, actor, now)
            elif dialect == "sqlite":
                for row in rows:
                    row["sla_next_check_at"] = now if row["status"] != Status.CLOSED else None
                ids = [row[0] for row in connection.execute(_sqlite_insert(), rows).all()]
                if ids:
                    events = [event_row(actor, EventKind.IMPORTED, ticket_id=i) for i in ids]
                    connection.execute(sa.insert(TicketEvent.__table__), events)
            else:
                raise ImportFileError(f"importing into {dialect} is not supported")
            if run is not None:
                run_id, rows_read, rejected = run
                connection.execute(
                    _RUNS.update()
                    .where(_RUNS.c.id == run_id)
                    .values(
                        inserted=_RUNS.c.inserted + len(ids),
                        already_present=_RUNS.c.already_present + len(rows) - len(ids),
                        rows_read=rows_read,
                        rejected=rejected,
                    )
                )
            return len(ids)
    except (IntegrityError, DataError) as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        raise ConstraintViolationError(
            f"lines {lines[0]}-{lines[1]}: the database refused the batch: {exc.orig}", constraint
        ) from exc
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailableError(
            f"The database is unavailable; lines {lines[0]}-{lines[1]} were not saved: {exc.orig}"
        ) from exc


class _BatchWriter:
    """Writes batches on one background thread, in order, with at most one batch in flight.

    The next batch is parsed, validated and classified while the previous one is being written,
    so the database and Python work at the same time. Each batch is its own transaction.
    """

    def __init__(
        self,
        report: ImportReport,
        on_batch: Callable[[ImportReport], None] | None,
        actor: Actor,
        run_id: int | None = None,
    ):
        self._report = report
        self._actor = actor
        self._run_id = run_id
        self._on_batch = on_batch
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket-import")
        self._pending: Future[int] | None = None
        self._pending_size = 0

    def submit(self, rows: list[dict[str, Any]], lines: tuple[int, int]) -> None:
        """Wait for the batch in flight, then start writing `rows` (lines: first, last)."""
        self.wait()
        run = None
        if self._run_id is not None:
            run = (self._run_id, self._report.rows, self._report.rejected)
        self._pending = self._pool.submit(_write_batch, rows, lines, self._actor, run)
        self._pending_size = len(rows)

    def wait(self) -> None:
        """Wait for the batch in flight (re-raising its error) and account for it."""
        if self._pending is None:
            return
        future, self._pending = self._pending, None
        inserted = future.result()
        self._report.inserted += inserted
        self._report.already_present += self._pending_size - inserted
        if self._on_batch is not None:
            self._on_batch(self._report)

    def shutdown(self) -> None:
        """Let a batch in flight finish (it commits or rolls back whole) and stop the thread."""
        self._pool.shutdown(wait=True)


def import_records(
    records: Iterable[SourceRecord],
    *,
    classify: bool = True,
    classifier: TicketClassifier | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    id_prefix: str | None = None,
    on_batch: Callable[[ImportReport], None] | None = None,
    actor: Actor | None = None,
    run_id: int | None = None,
) -> ImportReport:
    """Validate and store records (line number, field -> raw value) into the current database.

    Rows are written `batch_size` at a time, one transaction each, in file order. With
    `classify`, rows whose category or priority is missing or unknown get the classifier's
    suggestion (default: the configured one); without it they get general/medium. `id_prefix`
    gives rows without an external id the id "{id_prefix}:{line}", so re-running the same file
    skips what is stored. `on_batch` is called with the running report after each committed
    batch. Blocking: call it from a worker thread in async code. Raises ImportFileError,
    DatabaseUnavailableError or ConstraintViolationError; batches committed before stay
    committed. `actor` (default: the import process) must be allowed to import
    (PermissionDeniedError) and is recorded on every imported ticket's audit event. Imported
    labels are not staff decisions, so they never train the team model. `run_id` names the
    `import_runs` row whose counts each batch updates (`import_file` creates it).
    """
    actor = actor or Actor.process(ActorKind.IMPORT)
    actor.require(Action.TICKETS_IMPORT)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = ImportReport()
    runner = asyncio.Runner() if classify else None
    engine_classifier = (classifier or get_classifier()) if classify else None
    writer = _BatchWriter(report, on_batch, actor, run_id)
    batch: list[dict[str, Any]] = []
    first_line = last_line = 0

    def flush() -> None:
        report.classified += fill_in(batch, runner, engine_classifier)
        writer.submit(list(batch), (first_line, last_line))
        batch.clear()

    try:
        for line, record in records:
            report.rows += 1
            last_line = line
            try:
                row = prepare_row(record)
            except RowInvalidError as exc:
                report.rejected += 1
                report.errors.extend(RowError(line, name, message) for name, message in exc.errors)
                continue
            if row["external_id"] is None and id_prefix is not None:
                row["external_id"] = f"{id_prefix}:{line}"
            if not batch:
                first_line = line
            batch.append(row)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        writer.wait()
    finally:
        writer.shutdown()
        if runner is not None:
            runner.close()
    if on_batch is not None:
        on_batch(report)
    return report
