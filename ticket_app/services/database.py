"""Engine and session management: the only place that opens database connections.

One engine per process, built from `Settings.database_url` on first use. Tests and tools point
the process at another database with `use_database(url)`.

Every statement is bounded by `Settings.statement_timeout_ms`: PostgreSQL gets
`statement_timeout` as a startup option of each connection (no extra round trip, and it covers
the CLI too); SQLite, which has no such setting, gets a progress handler that interrupts a
statement whose execution passes the deadline. A stopped statement is a QueryTimeoutError,
which the API answers with 503 like any other unavailable database. PostgreSQL connections
also start with JIT compilation off (`POSTGRES_STARTUP_OPTIONS`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Session

from ticket_app.services.errors import ConstraintViolationError, DatabaseUnavailableError
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_engine: Engine | None = None


def _casefold(value: str | None) -> str | None:
    return value.casefold() if value is not None else None


# SQLite calls the progress handler every this many virtual-machine instructions: a fraction of
# a millisecond of work, so a deadline is noticed promptly at well under 1% overhead.
_SQLITE_PROGRESS_STEPS = 10_000
_DEADLINE = "statement_deadline"


class QueryTimeoutError(DatabaseUnavailableError):
    """A statement ran longer than `statement_timeout_ms` and the database stopped it.

    A subclass of DatabaseUnavailableError, so every caller that already answers "try again"
    (the API: 503 with Retry-After) handles it; nothing was written.
    """

    def __init__(self, timeout_ms: int) -> None:
        super().__init__(
            f"The query took longer than {timeout_ms} ms and was stopped; narrow the search or "
            "filters, or try again in a moment."
        )
        self.timeout_ms = timeout_ms


def is_query_timeout(exc: BaseException) -> bool:
    """Whether a driver error (or SQLAlchemy's wrapper of one) is a stopped statement.

    PostgreSQL reports `query_canceled` (SQLSTATE 57014) for `statement_timeout`; SQLite says
    "interrupted" when the progress handler stops a statement.
    """
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == "57014":
        return True
    return type(orig).__module__ == "sqlite3" and str(orig) == "interrupted"


# Every failure of the database or of reaching it: what callers turn into `unavailable_error`.
# PoolTimeoutError is no OperationalError: it is raised by the pool when every connection is
# in use, before the database is asked anything.
UNAVAILABLE_ERRORS = (OperationalError, SAInterfaceError, PoolTimeoutError)


def unavailable_error(exc: BaseException) -> DatabaseUnavailableError:
    """The service error for a connection, pool or timeout failure `exc` (logged once here).

    A full pool (PoolTimeoutError) and a dropped or refused connection are a plain
    DatabaseUnavailableError, a stopped statement a QueryTimeoutError; the API answers all of
    them 503 with Retry-After.
    """
    if isinstance(exc, PoolTimeoutError):
        logger.warning("database pool exhausted: %s", exc)
        return DatabaseUnavailableError(
            "Every database connection is in use; try again in a moment."
        )
    if is_query_timeout(exc):
        timeout_ms = get_settings().statement_timeout_ms
        logger.warning("statement stopped after %d ms: %s", timeout_ms, getattr(exc, "orig", exc))
        return QueryTimeoutError(timeout_ms)
    logger.error("database unavailable: %s", getattr(exc, "orig", exc))
    return DatabaseUnavailableError("The database is unavailable; try again in a moment.")


def _install_sqlite_deadline(engine: Engine, timeout_ms: int) -> None:
    """Stop any SQLite statement whose execution runs longer than `timeout_ms`.

    The deadline is set before each statement executes and cleared when `execute` returns, so
    it bounds the work done to produce the first row (all of it, for counts and sorts); rows a
    caller then fetches one by one (a streamed export) are not limited.
    """

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _start(connection, _cursor, _statement, _parameters, _context, _executemany) -> None:
        connection.info[_DEADLINE] = time.monotonic() + timeout_ms / 1000

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _stop(connection, _cursor, _statement, _parameters, _context, _executemany) -> None:
        connection.info[_DEADLINE] = None

    @sa.event.listens_for(engine, "checkin")
    def _clear(_dbapi_connection, record) -> None:
        record.info[_DEADLINE] = None


POSTGRES_STARTUP_OPTIONS = "-c jit=off"
"""Set on every PostgreSQL connection (a URL's own `options` may override it).

JIT compiles a query whose estimated cost passes `jit_above_cost` (100,000), which
at a million tickets means the dashboard's and the SLA report's aggregates: their compilation
(with inlining and optimisation past 500,000) cost more than it saved. The SLA report's one
scan of 1,000,000 tickets took 2.6 to 3.3 s with JIT and 1.9 to 2.1 s without, alternating on
a loaded machine (docs/performance.md). The list's reads cost far below the threshold and
never used it."""

POSTGRES_FIXED_OPTIONS = "-c TimeZone=UTC"
"""Set on every PostgreSQL connection after a URL's own `options`, so they always apply.

Timestamps then arrive in UTC, which `models.base.UTCDateTime` hands back as they are, and
day boundaries computed in SQL are UTC days whatever the server's own zone."""


def create_db_engine(url: str, *, statement_timeout_ms: int | None = None) -> Engine:
    """Build an engine for `url` with the per-dialect setup Triage Desk relies on.

    SQLite connections get a `casefold()` SQL function (SQLite's own `lower()` only folds ASCII,
    which would break case-insensitive search on non-English text) and a busy timeout so the web
    server and a concurrent import wait for each other instead of failing.

    `statement_timeout_ms` (default: the setting; 0: none) bounds every statement, see the
    module docstring.
    """
    settings = get_settings()
    timeout_ms = (
        settings.statement_timeout_ms if statement_timeout_ms is None else statement_timeout_ms
    )
    pool_args = {
        "pool_size": settings.database_pool_size,
        "max_overflow": settings.database_max_overflow,
        "pool_timeout": settings.database_pool_timeout_seconds,
    }
    if url.startswith("sqlite"):
        # An in-memory database lives in one connection per thread (SingletonThreadPool), which
        # has no overflow or timeout to set.
        memory = make_url(url).database in (None, "", ":memory:")
        engine = sa.create_engine(
            url,
            echo=settings.database_echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            **({} if memory else pool_args),
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, record) -> None:
            dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            if timeout_ms:
                info = record.info

                def _past_deadline() -> int:
                    deadline = info.get(_DEADLINE)
                    return int(deadline is not None and time.monotonic() > deadline)

                dbapi_connection.set_progress_handler(_past_deadline, _SQLITE_PROGRESS_STEPS)

        if timeout_ms:
            _install_sqlite_deadline(engine, timeout_ms)
        return engine
    connect_args: dict[str, object] = {}
    if url.startswith("postgresql+psycopg"):
        # psycopg prepares a statement after 5 runs and PostgreSQL may then switch to a generic
        # plan, which cannot see that a search pattern is selective and drops the trigram index
        # (measured: 4 ms -> 110 ms per search). Custom plans per execution keep it.
        connect_args["prepare_threshold"] = None
    if url.startswith("postgresql"):
        # Startup options, kept next to any `options` the URL already carries (after ours, so
        # the URL may turn JIT back on; the time zone and `statement_timeout` always ours).
        options = make_url(url).query.get("options", "")
        if not isinstance(options, str):
            options = " ".join(options)
        startup = f"{POSTGRES_STARTUP_OPTIONS} {options} {POSTGRES_FIXED_OPTIONS}"
        if timeout_ms:
            startup += f" -c statement_timeout={timeout_ms}"
        connect_args["options"] = " ".join(startup.split())
    return sa.create_engine(
        url,
        echo=settings.database_echo,
        connect_args=connect_args,
        pool_pre_ping=True,
        **pool_args,
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

    Raises ConstraintViolationError (naming the constraint when the driver reports it),
    QueryTimeoutError (a statement ran past `statement_timeout_ms`) or
    DatabaseUnavailableError; the transaction is rolled back in every case.
    """
    try:
        with session_scope() as session:
            yield session
    except (IntegrityError, DataError) as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        raise ConstraintViolationError(str(exc.orig), constraint) from exc
    except UNAVAILABLE_ERRORS as exc:
        raise unavailable_error(exc) from exc


# A stalled export client must not pin a PostgreSQL snapshot (and hold back VACUUM) forever: the
# server ends a snapshot transaction left idle this long, and the stalled download then fails.
SNAPSHOT_IDLE_TIMEOUT_MS = 300_000


@contextmanager
def read_snapshot() -> Iterator[Session]:
    """Yield a read-only session whose every query sees one consistent snapshot.

    One connection, one transaction: REPEATABLE READ READ ONLY on PostgreSQL (ended by the
    server after SNAPSHOT_IDLE_TIMEOUT_MS idle), an explicit deferred `BEGIN` on SQLite (in WAL
    mode its readers keep the snapshot of their first read until the transaction ends). Writers
    are never blocked. The transaction is rolled back at the end; connection failures inside
    the block surface as SQLAlchemy errors (callers translate them with `unavailable_error`).
    """
    with get_engine().connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            connection.exec_driver_sql(
                f"SET LOCAL idle_in_transaction_session_timeout = {SNAPSHOT_IDLE_TIMEOUT_MS}"
            )
        elif connection.dialect.name == "sqlite":
            # pysqlite opens transactions only for writes; a plain BEGIN makes the reads one.
            connection.exec_driver_sql("BEGIN")
        with Session(bind=connection) as session:
            yield session
        connection.rollback()
