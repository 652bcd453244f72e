"""Scratch PostgreSQL databases for tests that need one of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url


@contextmanager
def scratch_postgres_database(base_url: str, prefix: str = "triage_test") -> Iterator[str]:
    """Create an empty PostgreSQL database beside `base_url`'s, yield its URL, then drop it.

    The server must let the `base_url` user create databases (CI's and this machine's trust
    auth as postgres does). The drop forces out connections a test may have left open.
    """
    server = make_url(base_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def statements_sent(engine: sa.Engine, containing: str = "") -> Iterator[list[tuple[str, Any]]]:
    """Record what `engine` sends while the block runs: a list of (statement, parameters),
    only those statements containing `containing` (all by default), filled as they are sent."""
    sent: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, params, _context, _many) -> None:
        if containing in statement:
            sent.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
