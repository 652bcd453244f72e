"""Ticket export to CSV: one consistent snapshot, streamed in chunks.

The columns are the fields of `TicketRead` in order, then the assignee's and the creator's
e-mail addresses (`assignee_email`, `created_by_email`: the ids alone name nobody in a
spreadsheet); the import reads the same header back (and ignores the two e-mail columns), so an
export imported into an empty database reproduces the tickets (ids aside). Text cells are
guarded against spreadsheet formulas (`csv_cells`); numbers (a sentiment score of -0.477) are
written as numbers.

**One snapshot.** The tickets are read by a single ordered query inside one read transaction
(`database.read_snapshot`: REPEATABLE READ READ ONLY on PostgreSQL, one deferred transaction on
SQLite), streamed through a server-side cursor (PostgreSQL) or SQLite's lazy row stepping, so
the file is the table as it was at one instant: tickets created, imported or edited while a
long export runs are neither skipped, repeated nor half-changed. Chosen over keyset pages below
a fixed upper bound (max id at start) because that bound only keeps *new* rows out: an edit made
mid-export would still show in the pages not yet read (the file would mix two moments), and it
costs one query per page where the snapshot costs one query per export. The price: the export
holds one pooled connection and one snapshot for as long as its consumer reads (PostgreSQL
ends a snapshot left idle for `SNAPSHOT_IDLE_TIMEOUT_MS`), and each fetch of a chunk is one
statement under `statement_timeout`. So the API never streams this to a client directly: it
reads it into a temporary file at database speed and sends that (`export_stream`).

**Failures are loud.** A database error after the first chunk is raised from the iterator as
DatabaseUnavailableError (QueryTimeoutError for a stopped statement), never swallowed: the HTTP
server then aborts the chunked response without its terminating chunk, so the client sees a
transport error instead of a short file that looks complete, and `write_csv`'s callers (the CLI)
discard the partial file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import IO, NamedTuple

import sqlalchemy as sa

from ticket_app.models import StaffUser
from ticket_app.schemas import TAG_SEPARATOR, TicketFilters, TicketRead, TicketSort
from ticket_app.services.csv_cells import escape_cell
from ticket_app.services.database import UNAVAILABLE_ERRORS, read_snapshot, unavailable_error
from ticket_app.services.tags import read_tickets

# The ticket service's filter and sort rules (search semantics included): an export is the list.
from ticket_app.services.ticket_query import sorted_query

TICKET_COLUMNS: tuple[str, ...] = tuple(TicketRead.model_fields)
# Appended after the ticket's own fields, so the columns before them keep their positions.
STAFF_EMAIL_COLUMNS: tuple[str, ...] = ("assignee_email", "created_by_email")
EXPORT_COLUMNS: tuple[str, ...] = (*TICKET_COLUMNS, *STAFF_EMAIL_COLUMNS)
DEFAULT_CHUNK_ROWS = 500


class ExportRow(NamedTuple):
    """One exported ticket and the e-mail addresses of its assignee and creator (None: none)."""

    ticket: TicketRead
    assignee_email: str | None
    created_by_email: str | None

    def cells(self) -> list[str]:
        """The row's CSV cells in EXPORT_COLUMNS order."""
        fields = [_cell(getattr(self.ticket, column)) for column in TICKET_COLUMNS]
        return [*fields, _cell(self.assignee_email), _cell(self.created_by_email)]


def _cell(value: object) -> str:
    """One CSV cell: enums as their value, timestamps as ISO 8601 UTC, None as empty.

    A list (the tags) is its items joined with `, `. Text that a spreadsheet would run as a
    formula is escaped (see `csv_cells`); numbers are not text, so `-0.477` stays a number.
    """
    if value is None:
        return ""
    if isinstance(value, list):
        return escape_cell(TAG_SEPARATOR.join(map(str, value)))
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return escape_cell(str(value))


def iter_snapshot(
    filters: TicketFilters | None, batch_rows: int, sort: TicketSort = TicketSort.NEWEST
) -> Iterator[ExportRow]:
    """Every ticket matching `filters` in `sort` order (as the list), from one snapshot.

    Each comes with its assignee's and creator's e-mail addresses. Rows are fetched
    `batch_rows` at a time, and their tags with one more query per batch; the staff's addresses
    are read once, first (staff are a few hundred at most, tickets millions); all in the same
    snapshot. Raises DatabaseUnavailableError (or its subclass QueryTimeoutError) when the
    database fails, before the first ticket or after any of them.
    """
    try:
        with read_snapshot() as session:
            staff = sa.select(StaffUser.id, StaffUser.email)
            emails: dict[int, str] = {user_id: email for user_id, email in session.execute(staff)}
            query = sorted_query(session, filters or TicketFilters(), sort).execution_options(
                yield_per=batch_rows
            )
            ranked = sort is TicketSort.RELEVANCE
            for rows in session.exec(query).partitions(batch_rows):
                batch = [row[0] for row in rows] if ranked else list(rows)
                for read in read_tickets(session, batch):
                    yield ExportRow(
                        read,
                        emails.get(read.assignee_id) if read.assignee_id else None,
                        emails.get(read.created_by) if read.created_by else None,
                    )
                # Read rows are not needed again; keep the session's identity map small.
                for ticket in batch:
                    session.expunge(ticket)
    except UNAVAILABLE_ERRORS as exc:
        raise unavailable_error(exc) from exc


def ticket_chunks(
    filters: TicketFilters | None, chunk_rows: int, sort: TicketSort = TicketSort.NEWEST
) -> Iterator[tuple[str, int]]:
    """(CSV text, tickets in it): the header alone first, then up to `chunk_rows` tickets each.

    The header is yielded once the query has answered (with the first ticket, or at the end),
    so a database that is down fails the first `next()`, before anything is sent.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    pending = 0
    for row in iter_snapshot(filters, chunk_rows, sort):
        if pending == 0 and buffer.tell():
            yield buffer.getvalue(), 0
            buffer.seek(0)
            buffer.truncate()
        writer.writerow(row.cells())
        pending += 1
        if pending == chunk_rows:
            yield buffer.getvalue(), pending
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if buffer.tell():
        yield buffer.getvalue(), pending


def export_csv(
    filters: TicketFilters | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    sort: TicketSort = TicketSort.NEWEST,
) -> Iterator[str]:
    """The tickets matching `filters` in `sort` order as CSV text, in chunks, from one snapshot.

    The first chunk is the header row (EXPORT_COLUMNS); each following chunk holds up to
    `chunk_rows` tickets. Lines end with CRLF (RFC 4180); `"".join(export_csv(filters))` is the
    whole file, e.g. for `rx.download(data=..., filename="tickets.csv")`. Tickets are streamed,
    so memory stays flat for any number of them. Raises DatabaseUnavailableError (or
    QueryTimeoutError) when the database fails, also mid-stream: a consumer that has sent part
    of the file must abort, not end it cleanly. Close the iterator (or exhaust it) to release
    its connection.
    """
    for chunk, _count in ticket_chunks(filters, chunk_rows, sort):
        yield chunk


def write_csv(out: IO[str], filters: TicketFilters | None = None) -> int:
    """Write the CSV export of the tickets matching `filters` to `out`; return the ticket count.

    Open `out` with newline="" so the CRLF line ends are written as they are. On
    DatabaseUnavailableError `out` holds a partial file: write to a temporary name and rename
    on success (as the CLI does).
    """
    total = 0
    for chunk, count in ticket_chunks(filters, DEFAULT_CHUNK_ROWS):
        out.write(chunk)
        total += count
    return total
