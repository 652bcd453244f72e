"""Schema migrations: applies the Alembic scripts in `alembic/` to a database."""

from __future__ import annotations

from alembic.config import Config

from alembic import command
from ticket_app.settings import PROJECT_ROOT, get_settings


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic config for `alembic/` aimed at `database_url` (default: the settings' URL)."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    url = database_url or get_settings().database_url
    # Alembic's config goes through configparser, which treats % as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str | None = None, revision: str = "head") -> None:
    """Apply every migration up to `revision` (default: the newest) to the database."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade_database(database_url: str | None = None, revision: str = "base") -> None:
    """Revert migrations down to `revision` (default: an empty schema)."""
    command.downgrade(alembic_config(database_url), revision)
