"""Ticket import from CSV or JSON Lines files.

A file's columns are matched to ticket fields by header name (case-insensitive), or by an explicit
field → column map for files whose headers differ. Every row is validated like a ticket created in
the app; bad rows are reported with their line number and skipped. Good rows are written in
batches, one transaction per batch, with `INSERT ... ON CONFLICT (external_id) DO NOTHING`: an
interrupted import never leaves part of a batch behind, and re-running it skips the rows that
carry an external id already stored.

Missing fields are filled in: the title from the description's first sentence; category and
priority (when absent or not one of ours) by the classifier, whose suggestion is also stored in
`suggested_category` / `suggested_priority`, or by general/medium when classification is off.

Every row also gets the triage signal columns a ticket created in the app gets
(`services.triage_signals.signal_columns`): a classified row stores its suggestion's source,
confidences, suggested title, language, sentiment and frustration; any other row (both labels
given, classification off or failed) the offline signals read from its text (language,
sentiment, frustration), so the list's `language=` / `frustrated=` filters find imported tickets.
They are computed with the classification, while the previous batch is being written; the
offline read costs about 0.15-0.3 ms of CPU a row, so an import with every label given runs at
4,000-5,000 rows a second on 2 CPUs (tests/benchmarks/bench_import.py).

Every `import_file` is recorded in `import_runs` (file name, SHA-256 of its bytes, actor,
start and end, counts updated in each batch's transaction). Importing the same bytes again after
a run that wrote tickets is refused with DuplicateImportError naming that run, unless
`allow_duplicates`, when it could duplicate rows: when some valid row has no external id (nor a
line id), or when rows are keyed differently from the earlier run (another external-id column,
format or `line_ids`). A re-run keyed the same way with every row keyed only skips what is
stored, so it is allowed: that is how an interrupted import is completed.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from ticket_app.models import (
    EXTERNAL_ID_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    ActorKind,
    Category,
    EventKind,
    ImportRun,
    ImportStatus,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    utc_now,
)
from ticket_app.schemas import TicketCreate
from ticket_app.services.access import Action, Actor
from ticket_app.services.audit import event_row
from ticket_app.services.csv_cells import unescape_cell
from ticket_app.services.database import get_engine
from ticket_app.services.errors import ConstraintViolationError, DatabaseUnavailableError
from ticket_app.services.import_runs import fail_stale_runs, heartbeat
from ticket_app.services.triage_signals import signal_columns
from ticket_app.triage import TicketClassifier, TriageSuggestion, get_classifier

logger = logging.getLogger(__name__)

# Ticket fields an import can set; anything else in a file is ignored.
IMPORT_FIELDS: tuple[str, ...] = (
    "external_id",
    "title",
    "description",
    "category",
    "priority",
    "status",
    "created_at",
    "updated_at",
    "suggested_category",
    "suggested_priority",
)
FILE_FORMATS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DEFAULT_BATCH_SIZE = 1000

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s|\n")
_TABLE = Ticket.__table__
_RUNS = ImportRun.__table__
# pg_advisory_xact_lock(namespace, key): the namespace keeps these locks apart from any others.
_RUN_LOCK_NAMESPACE = 0x54440005
# Triage signal columns every imported row gets (`signal_columns`), on top of IMPORT_FIELDS; a
# file cannot set them. Absent keys (no suggestion) are stored as NULL.
SIGNAL_FIELDS: tuple[str, ...] = (
    "suggestion_source",
    "suggested_category_confidence",
    "suggested_priority_confidence",
    "suggested_title",
    "language",
    "sentiment",
    "sentiment_score",
    "frustrated",
)
_INSERT_FIELDS = IMPORT_FIELDS + SIGNAL_FIELDS
_NO_SIGNALS: dict[str, Any] = dict.fromkeys(SIGNAL_FIELDS)
# PostgreSQL array element type by a column's Python type (see `_array_element_type`).
_ARRAY_ELEMENT_TYPES: dict[type, sa.types.TypeEngine[Any]] = {
    datetime: sa.DateTime(timezone=True),
    float: sa.Float(),
    bool: sa.Boolean(),
}

# One record as read from a file: (line number where it starts, field name -> raw value).
SourceRecord = tuple[int, Mapping[str, Any]]


class ImportFileError(ValueError):
    """The file as a whole cannot be read: unknown format, missing column, broken encoding.

    Batches committed before the problem was found stay committed.
    """


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


class SchemaOutOfDateError(RuntimeError):
    """The database lacks the tickets table or its external_id column: migrations are pending."""


@dataclass(frozen=True)
class RowError:
    """Why one row was skipped: its 1-based line in the file, the ticket field, the reason."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: {self.field}" if self.field else f"line {self.line}"
        return f"{where}: {self.message}"


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


class _RowInvalidError(Exception):
    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


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


def derive_title(description: str) -> str:
    """A title for a ticket that has none: the description's first sentence or line.

    Whitespace is collapsed; a sentence longer than TITLE_MAX_LENGTH (200) characters is cut at a
    word boundary and ends with "…". Returns "" for a blank description.
    """
    text = description.strip()
    first = " ".join(_SENTENCE_BREAK.split(text, maxsplit=1)[0].split())
    if len(first) <= TITLE_MAX_LENGTH:
        return first
    cut = first[: TITLE_MAX_LENGTH - 1]
    space = cut.rfind(" ")
    if space > TITLE_MAX_LENGTH // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def parse_column_map(pairs: Iterable[str]) -> dict[str, str]:
    """Turn `FIELD=COLUMN` strings into {field: column}; `FIELD=` (no column) ignores the field.

    Raises ValueError naming the bad pair when it has no `=`, no field, or a field that is not in
    IMPORT_FIELDS.
    """
    columns: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        name, column = name.strip().lower(), column.strip()
        if not sep or not name:
            raise ValueError(f"--map {pair!r}: expected FIELD=COLUMN")
        if name not in IMPORT_FIELDS:
            raise ValueError(
                f"--map {pair!r}: unknown field {name!r}; fields: {', '.join(IMPORT_FIELDS)}"
            )
        columns[name] = column
    return columns


def detect_format(path: Path) -> str:
    """`csv` or `jsonl` from the file name's extension; raises ImportFileError otherwise."""
    try:
        return FILE_FORMATS[path.suffix.lower()]
    except KeyError:
        raise ImportFileError(
            f"{path.name}: cannot tell the format from the extension; use --format csv or jsonl"
        ) from None


def _source_columns(columns: Mapping[str, str] | None) -> dict[str, str]:
    """Field -> lower-cased source column, defaulting every field to its own name.

    Fields mapped to "" are left out: the file's column of that name is ignored.
    """
    mapped = {name: column.strip().lower() for name, column in (columns or {}).items()}
    wanted = {name: mapped.get(name, name) for name in IMPORT_FIELDS}
    return {name: column for name, column in wanted.items() if column}


def read_csv(stream: IO[str], columns: Mapping[str, str] | None = None) -> Iterator[SourceRecord]:
    """Records of a CSV file (RFC 4180, first row is the header), keyed by ticket field.

    `columns` maps field -> header for headers that differ from the field names. Raises
    ImportFileError when the header lacks a mapped column or a description column, or when the
    CSV syntax breaks (the message names the line). A row with a different number of cells than
    the header is yielded as {"__error__": message} so the caller reports it and goes on.
    Cells escaped against spreadsheet formulas by the export are unescaped.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ImportFileError(f"line 1: {exc}") from exc
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lower().lstrip("\ufeff")
        if key and key in positions:
            raise ImportFileError(f"line 1: column {name!r} appears twice in the header")
        if key:
            positions[key] = index
    wanted = _source_columns(columns)
    for name, column in (columns or {}).items():
        if column.strip() and column.strip().lower() not in positions:
            raise ImportFileError(
                f"--map {name}={column}: the file has no column {column!r} "
                f"(columns: {', '.join(h for h in header if h)})"
            )
    if wanted.get("description") not in positions:
        raise ImportFileError(
            "the file has no 'description' column; name the column that holds it with "
            "--map description=COLUMN"
        )
    indexes = {name: positions[column] for name, column in wanted.items() if column in positions}
    width = len(header)
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"line {line}: {exc}") from exc
        if not cells:
            line = reader.line_num + 1
            continue
        if len(cells) != width:
            message = f"has {len(cells)} cells but the header has {width}"
            yield line, {"__error__": message}
        else:
            yield line, {name: unescape_cell(cells[index]) for name, index in indexes.items()}
        line = reader.line_num + 1


def read_jsonl(stream: IO[str], columns: Mapping[str, str] | None = None) -> Iterator[SourceRecord]:
    """Records of a JSON Lines file (one JSON object per line), keyed by ticket field.

    Keys match field names case-insensitively; `columns` maps field -> key for keys that differ.
    Blank lines are skipped; a line that is not a JSON object is yielded as {"__error__": message}.
    """
    wanted = _source_columns(columns)
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line, {"__error__": f"not valid JSON: {exc.msg} (column {exc.colno})"}
            continue
        if not isinstance(obj, dict):
            yield line, {"__error__": "must be a JSON object"}
            continue
        keyed = {str(key).strip().lower(): value for key, value in obj.items()}
        yield line, {name: keyed[column] for name, column in wanted.items() if column in keyed}


def _text(name: str, value: Any, *, strip: bool = True) -> str | None:
    """A cell as text, or None when it is absent or blank."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _RowInvalidError([(name, "must be text")])
    text = str(value)
    if not text.strip():
        return None
    return text.strip() if strip else text


def _choice(value: str | None, enum: type[StrEnum]) -> Any:
    """The enum member named by `value` (any case, spaces for underscores), else None."""
    if value is None:
        return None
    try:
        return enum(value.lower().replace(" ", "_"))
    except ValueError:
        return None


def _allowed(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


def _timestamp(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _RowInvalidError(
            [(name, f"{value!r} is not an ISO 8601 timestamp such as 2026-01-31T09:30:00+00:00")]
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _prepare(record: Mapping[str, Any]) -> dict[str, Any]:
    """A validated row for the tickets table; category/priority may still be None (to classify).

    Raises _RowInvalidError listing every bad field.
    """
    if "__error__" in record:
        raise _RowInvalidError([(None, record["__error__"])])
    errors: list[tuple[str | None, str]] = []
    values: dict[str, Any] = {}
    for name in IMPORT_FIELDS:
        try:
            values[name] = _text(name, record.get(name), strip=name != "description")
        except _RowInvalidError as exc:
            errors.extend(exc.errors)
            values[name] = None

    status = Status.OPEN
    if values["status"] is not None:
        status = _choice(values["status"], Status)
        if status is None:
            errors.append(("status", f"{values['status']!r} is not one of {_allowed(Status)}"))
    suggested: dict[str, StrEnum | None] = {}
    for name, enum in (("suggested_category", Category), ("suggested_priority", Priority)):
        suggested[name] = _choice(values[name], enum)
        if values[name] is not None and suggested[name] is None:
            errors.append((name, f"{values[name]!r} is not one of {_allowed(enum)}"))
    times: dict[str, datetime | None] = {}
    for name in ("created_at", "updated_at"):
        try:
            times[name] = _timestamp(name, values[name])
        except _RowInvalidError as exc:
            errors.extend(exc.errors)
    external_id = values["external_id"]
    if external_id is not None and len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        errors.append(("external_id", f"must be at most {EXTERNAL_ID_MAX_LENGTH} characters"))

    description = values["description"]
    category = _choice(values["category"], Category)
    priority = _choice(values["priority"], Priority)
    ticket: TicketCreate | None = None
    if description is None:
        errors.append(("description", "is missing or blank"))
    else:
        try:
            ticket = TicketCreate(
                title=values["title"] or derive_title(description),
                description=description,
                category=category,
                priority=priority,
                status=status or Status.OPEN,
            )
        except ValidationError as exc:
            errors.extend(
                (str(error["loc"][0]) if error["loc"] else None, error["msg"])
                for error in exc.errors()
            )
    if errors or ticket is None:
        raise _RowInvalidError(errors)

    created = times.get("created_at") or utc_now()
    return {
        "external_id": external_id,
        "title": ticket.title,
        "description": ticket.description,
        "category": category.value if category else None,
        "priority": priority.value if priority else None,
        "status": ticket.status.value,
        "suggested_category": _value(suggested["suggested_category"]),
        "suggested_priority": _value(suggested["suggested_priority"]),
        "created_at": created,
        "updated_at": times.get("updated_at") or created,
    }


def _value(member: StrEnum | None) -> str | None:
    return member.value if member is not None else None


async def _suggest_all(
    classifier: TicketClassifier, rows: list[dict[str, Any]]
) -> list[TriageSuggestion | None]:
    """One suggestion per row, concurrently; a failing call yields None (defaults are used)."""
    results = await asyncio.gather(
        *(classifier.suggest(row["description"], row["title"]) for row in rows),
        return_exceptions=True,
    )
    return [result if isinstance(result, TriageSuggestion) else None for result in results]


def _fill_in(
    rows: list[dict[str, Any]], runner: asyncio.Runner | None, classifier: TicketClassifier | None
) -> int:
    """Fill missing labels and the signal columns in place; return how many rows were classified.

    A row with a suggestion stores its columns (source, confidences, title, signals) as a
    created ticket does; every other row (both labels given, classification off or failed)
    gets the offline signals read from its text. Absent signal columns are None.
    """
    pending = [row for row in rows if row["category"] is None or row["priority"] is None]
    offline = [row for row in rows if row["category"] is not None and row["priority"] is not None]
    suggestions: list[TriageSuggestion | None] = [None] * len(pending)
    if pending and runner is not None and classifier is not None:
        suggestions = runner.run(_suggest_all(classifier, pending))
    for row, suggestion in zip(pending, suggestions, strict=True):
        if suggestion is None:
            offline.append(row)
            row["category"] = row["category"] or Category.GENERAL.value
            row["priority"] = row["priority"] or Priority.MEDIUM.value
            continue
        row["suggested_category"] = suggestion.category.value
        row["suggested_priority"] = suggestion.priority.value
        row["category"] = row["category"] or suggestion.category.value
        row["priority"] = row["priority"] or suggestion.priority.value
        row.update(_NO_SIGNALS)
        row.update(signal_columns(row["title"], row["description"], suggestion))
    # The offline read (language detection, VADER, frustration cues) costs 0.15-0.3 ms of CPU a
    # row, most of an import's time when no classifier is asked; it overlaps the previous
    # batch's write. A process pool for it (one process per CPU, started after 5,000 rows) gained
    # 12% into SQLite and lost 5% into PostgreSQL on a 2-CPU host, and would re-run callers'
    # unguarded scripts in its processes (spawn) or fork a threaded process, so it is done here.
    for row in offline:
        row.update(_NO_SIGNALS)
        row.update(signal_columns(row["title"], row["description"], None))
    return len(pending) if runner is not None else 0


def _array_element_type(name: str) -> sa.types.TypeEngine[Any]:
    """The element type of column `name`'s array in `_postgres_insert`, by the column's type.

    Timestamps, floats and booleans are sent as such (PostgreSQL does not cast text to them in
    an INSERT ... SELECT); every other column goes as text, which the insert assigns to the
    column (a string too long for it is refused, not cut).
    """
    column_type = _TABLE.c[name].type
    if isinstance(column_type, sa.TypeDecorator):  # UTCDateTime: the type it stores as
        column_type = column_type.impl_instance
    return _ARRAY_ELEMENT_TYPES.get(column_type.python_type, sa.Text())


_FLOAT_FIELDS = tuple(
    name for name in _INSERT_FIELDS if isinstance(_array_element_type(name), sa.Float)
)


def _postgres_insert() -> sa.Insert:
    """INSERT ... SELECT FROM unnest(one array per column) ... ON CONFLICT DO NOTHING.

    One parameter per column instead of one per cell: psycopg would otherwise re-parse a query
    with ten thousand placeholders for every batch, which costs more than the insert itself.
    """
    arrays = [
        sa.bindparam(name, type_=postgresql.ARRAY(_array_element_type(name)))
        for name in _INSERT_FIELDS
    ]
    source = sa.func.unnest(*arrays).table_valued(*_INSERT_FIELDS, name="batch").render_derived()
    return (
        postgresql.insert(_TABLE)
        .from_select(list(_INSERT_FIELDS), sa.select(*(source.c[name] for name in _INSERT_FIELDS)))
        .on_conflict_do_nothing(index_elements=["external_id"])
        .returning(_TABLE.c.id)
    )


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

    Every new ticket gets its `imported` audit event by `actor` in the same transaction. `run`
    is (import run id, rows read so far, rows rejected so far): the run's counts are updated in
    the same transaction, so they are exact even if the process is killed afterwards.

    Raises DatabaseUnavailableError, or ConstraintViolationError naming the batch's line range
    when the database refuses a row (nothing of the batch is written then).
    """
    engine = get_engine()
    dialect = engine.dialect.name
    try:
        with engine.begin() as connection:
            if dialect == "postgresql":
                columns = {name: [row[name] for row in rows] for name in _INSERT_FIELDS}
                for name in _FLOAT_FIELDS:  # psycopg refuses an array mixing int and float
                    columns[name] = [None if v is None else float(v) for v in columns[name]]
                result = connection.execute(_postgres_insert(), columns)
            elif dialect == "sqlite":
                result = connection.execute(_sqlite_insert(), rows)
            else:
                raise ImportFileError(f"importing into {dialect} is not supported")
            ids = [row[0] for row in result.all()]
            if ids:
                events = [event_row(actor, EventKind.IMPORTED, ticket_id=i) for i in ids]
                connection.execute(sa.insert(TicketEvent.__table__), events)
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
        report.classified += _fill_in(batch, runner, engine_classifier)
        writer.submit(list(batch), (first_line, last_line))
        batch.clear()

    try:
        for line, record in records:
            report.rows += 1
            last_line = line
            try:
                row = _prepare(record)
            except _RowInvalidError as exc:
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


def file_digest(path: Path) -> tuple[str, int]:
    """(hex SHA-256 of the file's bytes, their count): what identifies "the same file"."""
    with path.open("rb") as raw:
        digest = hashlib.file_digest(raw, "sha256")
        return digest.hexdigest(), raw.tell()


def _key_options(fmt: str, columns: Mapping[str, str] | None, line_ids: bool) -> str:
    """Canonical JSON of what decides each row's external id (same file, same keys)."""
    external_id_column = _source_columns(columns).get("external_id")
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
                row = _prepare(record)
            except _RowInvalidError:
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
