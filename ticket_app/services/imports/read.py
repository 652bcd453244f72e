"""Reading import files: CSV and JSON Lines records keyed by ticket field.

A file's columns are matched to ticket fields by header name (case-insensitive), or by an explicit
field → column map (`--map FIELD=COLUMN`) for files whose headers differ. A record is
(line number, field -> raw value); `prepare` validates it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ticket_app.services.csv_cells import unescape_cell

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

# One record as read from a file: (line number where it starts, field name -> raw value).
SourceRecord = tuple[int, Mapping[str, Any]]


class ImportFileError(ValueError):
    """The file as a whole cannot be read: unknown format, missing column, broken encoding.

    Batches committed before the problem was found stay committed.
    """


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


def source_columns(columns: Mapping[str, str] | None) -> dict[str, str]:
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
    wanted = source_columns(columns)
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
    wanted = source_columns(columns)
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
