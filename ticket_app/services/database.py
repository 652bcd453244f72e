"""Engine and session management: the only place that opens database connections.

One engine per process, built from `Settings.database_url` on first use. Tests and tools point
the process at another database with `use_database(url)`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlmodel import Session

from ticket_app.services.errors import ConstraintViolationError, DatabaseUnavailableError
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_engine: Engine | None = None


def _casefold(value: str | None) -> str | None:
    return value.casefold() if value is not None else None


def create_db_engine(url: str) -> Engine:
    """Build an engine for `url` with the per-dialect setup Triage Desk relies on.

    SQLite connections get a `casefold()` SQL function (SQLite's own `lower()` only folds ASCII,
    which would break case-insensitive search on non-English text) and a busy timeout so the web
    server and a concurrent import wait for each other instead of failing.
    """
    settings = get_settings()
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            echo=settings.database_echo,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:
            dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

        return engine
    return sa.create_engine(
        url,
        echo=settings.database_echo,
        # psycopg prepares a statement after 5 runs and PostgreSQL may then switch to a generic
        # plan, which cannot see that a search pattern is selective and drops the trigram index
        # (measured: 4 ms -> 110 ms per search). Custom plans per execution keep it.
        connect_args={"prepare_threshold": None} if url.startswith("postgresql+psycopg") else {},
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=10,
    )


def get_engine() -> Engine:
    """Return the process-wide engine, creating it from settings on first use."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = create_db_engine(get_settings().database_url)
        return _engine


def use_database(url: str) -> Engine:
    """Point this process at the database `url`, closing the previous engine; return the new one."""
    global _engine
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = create_db_engine(url)
        return _engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any exception."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def service_session() -> Iterator[Session]:
    """`session_scope`, with constraint and connection errors turned into service errors.

    Raises ConstraintViolationError (naming the constraint when the driver reports it) or
    DatabaseUnavailableError; the transaction is rolled back in both cases.
    """
    try:
        with session_scope() as session:
            yield session
    except (IntegrityError, DataError) as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        raise ConstraintViolationError(str(exc.orig), constraint) from exc
    except (OperationalError, SAInterfaceError) as exc:
        logger.error("database unavailable: %s", exc.orig)
        raise DatabaseUnavailableError(
            "The database is unavailable; try again in a moment."
        ) from exc
