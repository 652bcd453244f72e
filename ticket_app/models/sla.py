"""Service levels (migration 0013): business calendars and the policies that set SLA targets.

A policy picks tickets by priority and, optionally, category (the one naming both wins over the
priority's own), and sets first-response, next-response and resolution targets in business
minutes of its calendar (NULL: no such target). The clock itself is `ticket_app.sla`; what it
computes for a ticket is stored on the ticket (`Ticket.first_response_due_at` and the rest).
A policy or calendar edit leaves an `SlaRecheck` (migration 0028) for the background check.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import Category, Priority
from ticket_app.models.base import NAME_MAX_LENGTH, enum_check, timestamp_column, utc_now

TIME_ZONE_MAX_LENGTH = 64
MAX_TARGET_MINUTES = 525_600
"""A year of business minutes: a longer target is a typing error, not a service level."""

SLA_CALENDAR_CHECKS: dict[str, str] = {
    "ck_sla_calendars_name_not_blank": "length(trim(name)) > 0",
    "ck_sla_calendars_time_zone_not_blank": "length(trim(time_zone)) > 0",
    "ck_sla_calendars_subdivision_needs_country": (
        "holiday_subdivision IS NULL OR holiday_country IS NOT NULL"
    ),
}


SLA_RECHECK_CHECKS: dict[str, str] = {
    "ck_sla_rechecks_reason_not_blank": "length(trim(reason)) > 0",
    "ck_sla_rechecks_priority": f"priority IS NULL OR {enum_check('priority', Priority)}",
    "ck_sla_rechecks_category": f"category IS NULL OR {enum_check('category', Category)}",
    "ck_sla_rechecks_after_id": "after_id >= 0",
}
RECHECK_REASON_MAX_LENGTH = 200


def _target_check(column: str) -> str:
    return f"{column} IS NULL OR ({column} > 0 AND {column} <= {MAX_TARGET_MINUTES})"


SLA_POLICY_CHECKS: dict[str, str] = {
    "ck_sla_policies_name_not_blank": "length(trim(name)) > 0",
    "ck_sla_policies_priority": enum_check("priority", Priority),
    "ck_sla_policies_category": f"category IS NULL OR {enum_check('category', Category)}",
    "ck_sla_policies_first_response_minutes": _target_check("first_response_minutes"),
    "ck_sla_policies_next_response_minutes": _target_check("next_response_minutes"),
    "ck_sla_policies_resolution_minutes": _target_check("resolution_minutes"),
}


class SlaCalendar(SQLModel, table=True):
    """When a team works: the columns of `ticket_app.sla.calendar.BusinessCalendar`.

    `weekly_hours` is JSON text `{"monday": [["09:00", "17:00"]], ...}` and `closed_dates` a JSON
    list of `YYYY-MM-DD` (the shapes of `BusinessCalendar.to_dict`); `holiday_country` and
    `holiday_subdivision` are ISO codes for the `holidays` library. The database checks the
    simple rules; the service checks the rest through `BusinessCalendar.from_dict`.
    """

    __tablename__ = "sla_calendars"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in SLA_CALENDAR_CHECKS.items()),
        sa.Index("ux_sla_calendars_name", "name", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    time_zone: str = Field(
        sa_column=sa.Column(sa.String(TIME_ZONE_MAX_LENGTH), nullable=False, server_default="UTC")
    )
    weekly_hours: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    holiday_country: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(8), nullable=True)
    )
    holiday_subdivision: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(16), nullable=True)
    )
    closed_dates: str = Field(
        default="[]", sa_column=sa.Column(sa.Text, nullable=False, server_default="[]")
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())


class SlaPolicy(SQLModel, table=True):
    """Targets for tickets of one priority (and optionally one category), in business minutes.

    One policy per priority has no category (the default, never removed); at most one current
    policy per (priority, category) pair. A disabled policy sets no targets: its tickets have no
    due times. A removed category policy is retired (`retired_at`, migration 0028), not deleted:
    the tickets measured under it keep naming it, and its name and pair are free again.
    """

    __tablename__ = "sla_policies"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in SLA_POLICY_CHECKS.items()),
        sa.Index(
            "ux_sla_policies_name",
            "name",
            unique=True,
            sqlite_where=sa.text("retired_at IS NULL"),
            postgresql_where=sa.text("retired_at IS NULL"),
        ),
        sa.Index(
            "ux_sla_policies_priority_default",
            "priority",
            unique=True,
            sqlite_where=sa.text("category IS NULL"),
            postgresql_where=sa.text("category IS NULL"),
        ),
        sa.Index(
            "ux_sla_policies_priority_category",
            "priority",
            "category",
            unique=True,
            sqlite_where=sa.text("category IS NOT NULL AND retired_at IS NULL"),
            postgresql_where=sa.text("category IS NOT NULL AND retired_at IS NULL"),
        ),
        sa.Index("ix_sla_policies_calendar_id", "calendar_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    category: Category | None = Field(
        default=None, sa_column=sa.Column(sa.String(20), nullable=True)
    )
    calendar_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("sla_calendars.id"), nullable=False)
    )
    first_response_minutes: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    next_response_minutes: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    resolution_minutes: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    enabled: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    retired_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class SlaRecheck(SQLModel, table=True):
    """Open tickets whose service levels a policy or calendar edit asks to recompute.

    The tickets are the unclosed ones matching every scope column set: `priority`, `category`
    (a policy's tickets) and `calendar_id` (the tickets of the policies counting in that
    calendar); none set means every unclosed ticket. The background check walks them in id
    order, `after_id` being the last id it has recomputed (0 before the first), and deletes the
    row when it is done, so an edit never writes the tickets themselves in the admin's request.
    """

    __tablename__ = "sla_rechecks"
    __table_args__ = tuple(
        sa.CheckConstraint(sql, name=name) for name, sql in SLA_RECHECK_CHECKS.items()
    )

    id: int | None = Field(default=None, primary_key=True)
    reason: str = Field(sa_column=sa.Column(sa.String(RECHECK_REASON_MAX_LENGTH), nullable=False))
    priority: Priority | None = Field(
        default=None, sa_column=sa.Column(sa.String(20), nullable=True)
    )
    category: Category | None = Field(
        default=None, sa_column=sa.Column(sa.String(20), nullable=True)
    )
    calendar_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("sla_calendars.id", ondelete="CASCADE"), nullable=True
        ),
    )
    after_id: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    requested_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
