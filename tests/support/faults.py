"""Fault injection for export tests: the database connection of a running export goes away.

Used in-process (monkeypatched over `exporter.iter_snapshot`) and by `export_server`, which a
real HTTP server loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from ticket_app.schemas import TicketFilters, TicketSort
from ticket_app.services import exporter
from ticket_app.services.database import get_engine

SnapshotReader = Callable[[TicketFilters | None, int], Iterator[exporter.ExportRow]]


def drop_connection(dbapi_connection: Any) -> None:
    """End a connection from outside, as a database restart or a network cut would.

    PostgreSQL: the server terminates the backend. SQLite has no server to lose; the closest
    real failure is an interrupted statement, which fails its next step.
    """
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(
                sa.text("SELECT pg_terminate_backend(:pid)"),
                {"pid": dbapi_connection.info.backend_pid},
            )
    else:
        dbapi_connection.interrupt()


def dropping_after(rows: int, real: SnapshotReader = exporter.iter_snapshot) -> SnapshotReader:
    """`iter_snapshot` whose connection is dropped once `rows` tickets have been read.

    Rows already fetched into the driver's buffer still arrive; the next fetch fails.
    """

    def reader(
        filters: TicketFilters | None, batch_rows: int, sort: TicketSort = TicketSort.NEWEST
    ) -> Iterator[exporter.ExportRow]:
        engine = get_engine()
        checked_out: list[Any] = []

        def remember(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            checked_out.append(dbapi_connection)

        sa.event.listen(engine, "checkout", remember)
        try:
            stream = real(filters, batch_rows, sort)
            first = next(stream)  # runs the export's query on the connection it checks out
        finally:
            sa.event.remove(engine, "checkout", remember)
        yield first
        for number, ticket in enumerate(stream, start=2):
            if number == rows:
                drop_connection(checked_out[0])
            yield ticket

    return reader
