"""Ticket export to CSV, streamed page by page through the ticket service.

The columns are the fields of `TicketRead` in order; the import reads the same header back, so
an export imported into an empty database reproduces the tickets (ids aside).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import IO

from ticket_app.schemas import TicketFilters, TicketRead
from ticket_app.services.csv_cells import escape_cell
from ticket_app.services.tickets import iter_tickets

EXPORT_COLUMNS: tuple[str, ...] = tuple(TicketRead.model_fields)
DEFAULT_CHUNK_ROWS = 500


def _cell(value: object) -> str:
    """One CSV cell: enums as their value, timestamps as ISO 8601 UTC, None as empty.

    Text that a spreadsheet would run as a formula is escaped (see `csv_cells`).
    """
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return escape_cell(str(value))


def _chunks(filters: TicketFilters | None, chunk_rows: int) -> Iterator[tuple[str, int]]:
    """(CSV text, tickets in it): the header alone first, then up to `chunk_rows` tickets each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    pending = 0
    for ticket in iter_tickets(filters):
        if pending == 0 and buffer.tell():
            yield buffer.getvalue(), 0
            buffer.seek(0)
            buffer.truncate()
        writer.writerow([_cell(getattr(ticket, column)) for column in EXPORT_COLUMNS])
        pending += 1
        if pending == chunk_rows:
            yield buffer.getvalue(), pending
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if buffer.tell():
        yield buffer.getvalue(), pending


def export_csv(
    filters: TicketFilters | None = None, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[str]:
    """The tickets matching `filters` (newest first) as CSV text, in chunks.

    The first chunk is the header row (EXPORT_COLUMNS); each following chunk holds up to
    `chunk_rows` tickets. Lines end with CRLF (RFC 4180); `"".join(export_csv(filters))` is the
    whole file, e.g. for `rx.download(data=..., filename="tickets.csv")`. Tickets are read
    lazily, a page at a time, so memory stays flat for any number of tickets. Raises
    DatabaseUnavailableError when the database is down.
    """
    for chunk, _count in _chunks(filters, chunk_rows):
        yield chunk


def write_csv(out: IO[str], filters: TicketFilters | None = None) -> int:
    """Write the CSV export of the tickets matching `filters` to `out`; return the ticket count.

    Open `out` with newline="" so the CRLF line ends are written as they are.
    """
    total = 0
    for chunk, count in _chunks(filters, DEFAULT_CHUNK_ROWS):
        out.write(chunk)
        total += count
    return total
