"""Schema migrations: applies the Alembic scripts in `alembic/` to a database."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.pool import NullPool

from alembic import command
from ticket_app.services.database import get_engine
from ticket_app.settings import PROJECT_ROOT, get_settings


@dataclass(frozen=True)
class SchemaUpgrade:
    """What `upgrade_database` did: the revision before and after (None: no schema at all)."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        """One line for the operator, e.g. "created the database schema (revision 0004)"."""
        if self.before == self.after:
            return f"database schema is up to date (revision {self.after})"
        if self.before is None:
            return f"created the database schema (revision {self.after})"
        return f"upgraded the database schema from revision {self.before} to {self.after}"


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic config for `alembic/` aimed at `database_url` (default: the settings' URL)."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    url = database_url or get_settings().database_url
    # Alembic's config goes through configparser, which treats % as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(database_url: str | None = None) -> str | None:
    """The database's applied revision (e.g. "0004"), None when it has no schema yet.

    Raises SQLAlchemy's OperationalError/InterfaceError when the database cannot be reached.
    """
    engine = sa.create_engine(database_url or get_settings().database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade_database(database_url: str | None = None, revision: str = "head") -> SchemaUpgrade:
    """Apply every migration up to `revision` (default: the newest) to the database.

    Returns the revisions before and after, so callers can say whether the schema was created,
    upgraded or already current. Raises SQLAlchemy's OperationalError/InterfaceError when the
    database cannot be reached (or, on PostgreSQL, does not exist).
    """
    before = current_revision(database_url)
    command.upgrade(alembic_config(database_url), revision)
    return SchemaUpgrade(before, current_revision(database_url))


def downgrade_database(database_url: str | None = None, revision: str = "base") -> None:
    """Revert migrations down to `revision` (default: an empty schema)."""
    command.downgrade(alembic_config(database_url), revision)


def table_exists(name: str) -> bool:
    """Whether the current database (see `database.get_engine`) has the table `name`.

    Schema introspection only, no data is read. Raises SQLAlchemy's OperationalError or
    InterfaceError when the database cannot be reached.
    """
    return sa.inspect(get_engine()).has_table(name)
