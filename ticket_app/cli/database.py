"""Reaching the database, and the `migrate` command.

A command connects once before any work starts, so an unreachable, missing or unmigrated
database ends it with one line and exit 3 instead of a driver's traceback.
"""

from __future__ import annotations

import re
import shlex

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from ticket_app.cli.common import EXIT_DATABASE, database_option, fail, service_errors
from ticket_app.services.database import use_database
from ticket_app.services.imports.runs import fail_stale_runs
from ticket_app.services.migrations import SchemaUpgrade, table_exists, upgrade_database
from ticket_app.settings import get_settings


def connect(database_url: str | None) -> str:
    """Point the process at `database_url` (or the settings' URL) and return the URL used.

    Connects once first, so an unreachable or missing database ends the command with one line
    (exit 3) before any work starts.
    """
    url = database_url or get_settings().database_url
    try:
        with use_database(url).connect():
            pass
    except (OperationalError, InterfaceError) as exc:
        raise _unreachable(exc, url) from exc
    return url


def connect_migrated(database_url: str | None, table: str) -> str:
    """`connect`, then make sure `table` exists (exit 3 if unreachable or unmigrated).

    `table` is one the command needs that a migration added, so a database that predates it
    gets a clear message instead of a driver error.
    """
    url = connect(database_url)
    try:
        # Schema introspection only: no data is read.
        migrated = table_exists(table)
    except (OperationalError, InterfaceError) as exc:
        raise _unreachable(exc, url) from exc
    if not migrated:
        raise fail(
            "the database schema is not up to date; run `python -m ticket_app migrate` first",
            EXIT_DATABASE,
        )
    return url


def connect_identity(database_url: str | None) -> str:
    """`connect_migrated` for the staff tables."""
    return connect_migrated(database_url, "staff_users")


# PostgreSQL refuses the connection with this when the server runs but the database is not
# there; psycopg reports no SQLSTATE for connection failures, so the message is all there is.
_MISSING_DATABASE = re.compile(r'database ".*" does not exist')


def _unreachable(exc: OperationalError | InterfaceError, url: str) -> typer.Exit:
    """Exit 3 with the driver's reason on one line (psycopg's spans several).

    A PostgreSQL database that does not exist yet gets its own message saying how to create it.
    """
    reason = " ".join(str(exc.orig).split())
    missing = getattr(exc.orig, "sqlstate", None) == "3D000" or _MISSING_DATABASE.search(reason)
    if missing and url.startswith("postgresql"):
        return fail(_missing_database_message(url), EXIT_DATABASE)
    return fail(f"the database is unreachable: {reason}", EXIT_DATABASE)


def _missing_database_message(url: str) -> str:
    """The one-line error for a PostgreSQL database that does not exist, with its createdb line.

    'database "x" does not exist on the PostgreSQL server at H:P; create it with `createdb ...`
    and run this again'. The createdb line names the URL's host (or `?host=` socket directory),
    port and user, never its password.
    """
    parts = make_url(url)
    host = parts.host or parts.query.get("host")
    if isinstance(host, tuple):  # a repeated query parameter
        host = host[0]
    server = "the local PostgreSQL server"
    if host:
        server = f"the PostgreSQL server at {host}:{parts.port or 5432}"
    args = ["createdb"]
    if host:
        args += ["-h", host]
    if parts.port:
        args += ["-p", str(parts.port)]
    if parts.username:
        args += ["-U", parts.username]
    args.append(parts.database or "")
    return (
        f'database "{parts.database}" does not exist on {server}; '
        f"create it with `{shlex.join(args)}` and run this again"
    )


def fail_stale_imports() -> None:
    """Mark import runs that were killed mid-way failed (services.imports.runs), and say so."""
    with service_errors():
        stale = fail_stale_runs()
    if stale:
        ids = ", ".join(str(run_id) for run_id in stale)
        typer.echo(f"marked interrupted import run(s) {ids} failed", err=True)


def apply_migrations(url: str) -> SchemaUpgrade:
    """Apply pending migrations and return what was done.

    Exits 3 with one line when the database cannot be reached or does not exist.
    """
    try:
        return upgrade_database(url)
    except (OperationalError, InterfaceError) as exc:
        raise _unreachable(exc, url) from exc


def migrate(database_url: str | None = database_option) -> None:
    """Apply all pending schema migrations."""
    url = database_url or get_settings().database_url
    typer.echo(apply_migrations(url).describe())
    use_database(url)
    fail_stale_imports()
