"""What every table shares: the UTC timestamp type, shared column lengths, CHECK builders."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 100
# Ids are `integer` columns (32-bit on PostgreSQL): a larger number names no row on either
# database, and handing one to PostgreSQL (or to SQLite beyond 64 bits) is an error, not a miss.
MAX_ROW_ID = 2**31 - 1


def utc_now() -> datetime:
    """Current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp column that always hands back timezone-aware UTC datetimes.

    SQLite has no timezone type and returns naive values; they are stored in UTC, so they are
    tagged as such on the way out. Aware values are converted to UTC on the way in.
    PostgreSQL's `timestamptz` arrives aware, in the connection's time zone, which
    `services.database` sets to UTC: its values pass through as psycopg builds them.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store `value` as UTC (naive values are taken to be UTC already)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> object:
        """No conversion on PostgreSQL (see the class); `process_result_value` elsewhere.

        A list page reads 11 timestamps a ticket; without their conversion a first page's list
        service took 3.4 ms of CPU instead of 4.0 to 4.7 (docs/performance.md, "CPU per request").
        """
        if dialect.name == "postgresql":
            return self.impl_instance.result_processor(dialect, coltype)
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return `value` as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_check(column: str, enum: type[StrEnum]) -> str:
    """The SQL of a CHECK that `column` holds one of `enum`'s values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


def timestamp_column(*, nullable: bool = False) -> sa.Column:
    """A UTC timestamp column; a required one defaults to the time of the insert."""
    if nullable:
        return sa.Column(UTCDateTime(), nullable=True)
    return sa.Column(UTCDateTime(), nullable=False, server_default=sa.func.current_timestamp())
