"""Typed application settings, read once from the environment and an optional `.env` file.

Every tunable of Triage Desk lives here so that the Reflex config, the REST API, the service
layer, the triage engine and the command-line tools agree on one value.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_URL = f"sqlite:///{PROJECT_ROOT / 'triage_desk.db'}"


class Settings(BaseSettings):
    """Process-wide configuration.

    Environment variables use the field name in upper case (``DATABASE_URL``); the Gemini key is
    also accepted as ``GOOGLE_API_KEY``, the name Google's SDK uses.
    """

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        default=DEFAULT_SQLITE_URL,
        description="SQLAlchemy URL; default: an embedded SQLite file in the project directory.",
    )
    database_echo: bool = Field(default=False, description="Log every SQL statement.")

    gemini_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY", "gemini_api_key"),
        description="Google AI Studio key; without it the offline classifier is used.",
    )
    gemini_model: str = Field(default="gemini-2.5-flash", description="Gemini model name.")
    triage_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="Total time budget for one suggestion, retries included.",
    )
    triage_max_concurrency: int = Field(
        default=4, ge=1, le=64, description="At most this many Gemini calls in flight per process."
    )
    triage_cache_size: int = Field(
        default=512, ge=0, description="Suggestions kept for identical descriptions."
    )
    triage_breaker_failures: int = Field(
        default=3, ge=1, description="Consecutive Gemini failures that open the circuit breaker."
    )
    triage_breaker_cooldown_seconds: float = Field(
        default=30.0, gt=0, description="How long the open breaker skips Gemini."
    )

    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest accepted API request body (bytes); above: 413.",
    )
    max_description_chars: int = Field(
        default=20_000, ge=1, description="Longest accepted ticket description (characters)."
    )
    page_size_default: int = Field(
        default=50, ge=1, description="Tickets per page when no limit is given."
    )
    page_size_max: int = Field(default=200, ge=1, description="Largest accepted `limit`.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read on first use."""
    return Settings()
