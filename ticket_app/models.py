"""Database models: the `tickets` table and the value sets it accepts.

The constraints declared here are the ones the Alembic migration creates; the database refuses
bad rows on its own, whatever client writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

TITLE_MAX_LENGTH = 200
EXTERNAL_ID_MAX_LENGTH = 200


class Category(StrEnum):
    """Which team a ticket belongs to."""

    BILLING = "billing"
    TECHNICAL = "technical"
    ACCOUNT = "account"
    GENERAL = "general"


class Priority(StrEnum):
    """How urgently a ticket needs attention, lowest first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Status(StrEnum):
    """Where a ticket is in its life cycle; new tickets are `open`."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


def utc_now() -> datetime:
    """Current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp column that always hands back timezone-aware UTC datetimes.

    SQLite has no timezone type and returns naive values; they are stored in UTC, so they are
    tagged as such on the way out. Aware values are converted to UTC on the way in.
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

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return `value` as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


def _nullable_in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IS NULL OR {_in(column, enum)}"


# Named CHECK constraints; the migration creates exactly these.
TICKET_CHECKS: dict[str, str] = {
    "ck_tickets_title_length": f"length(title) BETWEEN 1 AND {TITLE_MAX_LENGTH}",
    "ck_tickets_title_not_blank": "length(trim(title)) > 0",
    "ck_tickets_description_not_blank": "length(trim(description)) > 0",
    "ck_tickets_category": _in("category", Category),
    "ck_tickets_priority": _in("priority", Priority),
    "ck_tickets_status": _in("status", Status),
    "ck_tickets_suggested_category": _nullable_in("suggested_category", Category),
    "ck_tickets_suggested_priority": _nullable_in("suggested_priority", Priority),
}


class Ticket(SQLModel, table=True):
    """One support ticket.

    `suggested_category` / `suggested_priority` keep what the classifier proposed when the ticket
    was created, so the share of suggestions staff overrode can be measured later.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in TICKET_CHECKS.items()),
        sa.Index("ix_tickets_created_at_id", "created_at", "id"),
        sa.Index("ix_tickets_status_created_at_id", "status", "created_at", "id"),
        sa.Index("ix_tickets_category_created_at_id", "category", "created_at", "id"),
        sa.Index("ix_tickets_priority_created_at_id", "priority", "created_at", "id"),
        sa.Index("ux_tickets_external_id", "external_id", unique=True),
        sa.Index("ix_tickets_updated_at", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=sa.Column(sa.String(TITLE_MAX_LENGTH), nullable=False))
    description: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    category: Category = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    status: Status = Field(
        default=Status.OPEN,
        sa_column=sa.Column(sa.String(20), nullable=False, server_default=Status.OPEN.value),
    )
    suggested_category: Category | None = Field(
        default=None, sa_column=sa.Column(sa.String(20), nullable=True)
    )
    suggested_priority: Priority | None = Field(
        default=None, sa_column=sa.Column(sa.String(20), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=sa.Column(
            UTCDateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
    )
    updated_at: datetime = Field(
        default_factory=utc_now,
        sa_column=sa.Column(
            UTCDateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
    )
    external_id: str | None = Field(
        default=None,
        sa_column=sa.Column(sa.String(EXTERNAL_ID_MAX_LENGTH), nullable=True),
        description="The ticket's id in the system it was imported from; unique when present.",
    )
