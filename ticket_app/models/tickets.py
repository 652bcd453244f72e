"""The `tickets` table: one support ticket, its CHECK constraints and its indexes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import Category, Priority, Status
from ticket_app.models.base import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    UTCDateTime,
    enum_check,
    utc_now,
)

TITLE_MAX_LENGTH = 200
EXTERNAL_ID_MAX_LENGTH = 200


def _nullable_in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IS NULL OR {enum_check(column, enum)}"


# Named CHECK constraints; the migration creates exactly these.
TICKET_CHECKS: dict[str, str] = {
    "ck_tickets_title_length": f"length(title) BETWEEN 1 AND {TITLE_MAX_LENGTH}",
    "ck_tickets_title_not_blank": "length(trim(title)) > 0",
    "ck_tickets_description_not_blank": "length(trim(description)) > 0",
    "ck_tickets_category": enum_check("category", Category),
    "ck_tickets_priority": enum_check("priority", Priority),
    "ck_tickets_status": enum_check("status", Status),
    "ck_tickets_suggested_category": _nullable_in("suggested_category", Category),
    "ck_tickets_suggested_priority": _nullable_in("suggested_priority", Priority),
    "ck_tickets_requester_name": "requester_name IS NULL OR length(trim(requester_name)) > 0",
    "ck_tickets_requester_email": "requester_email IS NULL OR requester_email LIKE '%_@_%'",
    "ck_tickets_suggestion_source": (
        "suggestion_source IS NULL OR suggestion_source IN ('gemini', 'offline')"
    ),
    "ck_tickets_sentiment": (
        "sentiment IS NULL OR sentiment IN ('negative', 'neutral', 'positive')"
    ),
}
SUGGESTED_TITLE_MAX_LENGTH = 80

PRIORITY_RANK_SQL = (
    "CASE priority WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 "
    "WHEN 'low' THEN 1 ELSE 0 END"
)
"""`priority_rank`: critical 4 .. low 1, so "critical first" is a descending index scan."""
SLA_TICKET_CHECKS: dict[str, str] = {
    "ck_tickets_sla_due_at": (
        "sla_due_at IS NULL OR sla_due_at = first_response_due_at "
        "OR sla_due_at = next_response_due_at OR sla_due_at = resolution_due_at"
    ),
    "ck_tickets_sla_policy_dues": (
        "sla_policy_id IS NOT NULL OR (first_response_due_at IS NULL "
        "AND next_response_due_at IS NULL AND resolution_due_at IS NULL)"
    ),
}
"""The service-level columns' CHECKs (migration 0013): the nearest due instant is one of the
three, and due instants need a policy."""

STATUS_RANK_SQL = (
    "CASE status WHEN 'open' THEN 5 WHEN 'in_progress' THEN 4 WHEN 'pending' THEN 3 "
    "WHEN 'resolved' THEN 2 WHEN 'closed' THEN 1 ELSE 0 END"
)
"""`status_rank`: open 5 .. closed 1 (migration 0012), so "by status" lists the life cycle from
its start in `Status` order."""


RANKED_COLUMNS: dict[str, dict[str, int]] = {
    "status": {"open": 5, "in_progress": 4, "pending": 3, "resolved": 2, "closed": 1},
    "priority": {"critical": 4, "high": 3, "medium": 2, "low": 1},
}
"""Each ranked column's values and their rank (what STATUS_RANK_SQL and PRIORITY_RANK_SQL
compute into `status_rank` and `priority_rank`): a filter on the column also says its rank, so
the rank's index serves it (migration 0022 dropped the column's own)."""

NO_DUE_TIME = datetime(9999, 12, 31, tzinfo=UTC)
"""The sort key of a ticket with no running target: after every real due time."""


class Ticket(SQLModel, table=True):
    """One support ticket.

    `suggested_category` / `suggested_priority` keep what the classifier proposed when the ticket
    was created, so the share of suggestions staff overrode can be measured later.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in TICKET_CHECKS.items()),
        sa.Index("ix_tickets_created_at_id", "created_at", "id"),
        sa.Index("ix_tickets_category_created_at_id", "category", "created_at", "id"),
        sa.Index("ux_tickets_external_id", "external_id", unique=True),
        sa.Index("ix_tickets_updated_at_id", "updated_at", "id"),
        sa.Index("ix_tickets_assignee_id_created_at_id", "assignee_id", "created_at", "id"),
        sa.Index("ix_tickets_requester_id_id", "requester_id", "id"),
        sa.Index(
            "ix_tickets_assignee_id_status_created_at_id",
            "assignee_id",
            "status",
            "created_at",
            "id",
            # The dashboard's open tickets per assignee, index-only under enum filters (0031).
            postgresql_include=["status_rank", "category", "priority", "priority_rank"],
        ),
        sa.Index("ix_tickets_priority_rank_created_at_id", "priority_rank", "created_at", "id"),
        sa.Index("ix_tickets_status_rank_created_at_id", "status_rank", "created_at", "id"),
        sa.Index("ix_tickets_language_created_at_id", "language", "created_at", "id"),
        sa.Index("ix_tickets_frustrated_created_at_id", "frustrated", "created_at", "id"),
        sa.Index("ix_tickets_duplicate_of_id", "duplicate_of_id"),
        *(sa.CheckConstraint(sql, name=name) for name, sql in SLA_TICKET_CHECKS.items()),
        *(
            sa.Index(
                f"ix_tickets_{column}_id",
                column,
                "id",
                sqlite_where=sa.text(f"{column} IS NOT NULL"),
                postgresql_where=sa.text(f"{column} IS NOT NULL"),
            )
            for column in ("sla_due_at", "sla_breached_at")
        ),
        sa.Index(
            "ix_tickets_sla_next_check_at",
            "sla_next_check_at",
            sqlite_where=sa.text("sla_next_check_at IS NOT NULL"),
            postgresql_where=sa.text("sla_next_check_at IS NOT NULL"),
        ),
        sa.Index("ix_tickets_sla_policy_id", "sla_policy_id"),
        sa.Index("ix_tickets_sla_order_at_id", "sla_order_at", "id"),
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
    created_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        description="The staff user who created the ticket (none for intake, import, legacy).",
    )
    labels_confirmed_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        description="The agent or admin who last set or confirmed category/priority/status; "
        "only such tickets train the team model.",
    )
    assignee_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
        description="The staff user who owns the ticket; none: unassigned (migration 0007).",
    )
    requester_name: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=True)
    )
    requester_email: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=True)
    )
    requester_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("requesters.id"), nullable=True),
        description="The requester's own record (migration 0011): their other tickets.",
    )
    first_public_reply_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(UTCDateTime(), nullable=True),
        description="When staff first replied publicly; set once, with that reply.",
    )
    priority_rank: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.SmallInteger, sa.Computed(PRIORITY_RANK_SQL), nullable=True),
    )
    status_rank: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.SmallInteger, sa.Computed(STATUS_RANK_SQL), nullable=True),
    )
    # Triage signals (migration 0008): what the classifier read when the ticket was created.
    suggestion_source: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(20), nullable=True)
    )
    suggested_category_confidence: float | None = Field(
        default=None, sa_column=sa.Column(sa.Float, nullable=True)
    )
    suggested_priority_confidence: float | None = Field(
        default=None, sa_column=sa.Column(sa.Float, nullable=True)
    )
    suggested_title: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(SUGGESTED_TITLE_MAX_LENGTH), nullable=True)
    )
    language: str | None = Field(default=None, sa_column=sa.Column(sa.String(8), nullable=True))
    sentiment: str | None = Field(default=None, sa_column=sa.Column(sa.String(10), nullable=True))
    sentiment_score: float | None = Field(
        default=None, sa_column=sa.Column(sa.Float, nullable=True)
    )
    frustrated: bool = Field(
        default=False,
        sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()),
    )
    duplicate_of_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("tickets.id"), nullable=True),
        description="The ticket this one was merged into as a duplicate (closed then).",
    )
    # Service levels (migration 0013): what `services.sla.refresh_ticket_sla` computed last.
    sla_policy_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("sla_policies.id"), nullable=True),
        description="The SLA policy whose targets apply (none: no policy, no due times).",
    )
    first_response_due_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    next_response_due_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    resolution_due_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    first_response_breached_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    next_response_breached_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    resolution_breached_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    sla_due_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(UTCDateTime(), nullable=True),
        description="The nearest due instant of the running clocks ('due soonest', 'due soon').",
    )
    sla_breached_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(UTCDateTime(), nullable=True),
        description="The earliest breach of a clock still running or paused ('breached').",
    )
    sla_order_at: datetime = Field(
        default=NO_DUE_TIME,
        sa_column=sa.Column(UTCDateTime(), nullable=False),
        description="`sla_due_at`, or NO_DUE_TIME when no clock runs: the key of the 'due "
        "soonest' sort (migration 0015), which pages through one index with no NULLs.",
    )
    sla_paused: bool = Field(
        default=False,
        sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()),
    )
    sla_next_check_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(UTCDateTime(), nullable=True),
        description="When the background check must look again: the next warning or due "
        "instant not yet recorded (none: nothing to wait for).",
    )
    # The SLA report's measures (migration 0025; `ticket_app.sla.measures` defines them).
    first_response_business_minutes: float | None = Field(
        default=None,
        sa_column=sa.Column(sa.Float, nullable=True),
        description="Business minutes from creation to the first public staff reply.",
    )
    resolution_business_minutes: float | None = Field(
        default=None,
        sa_column=sa.Column(sa.Float, nullable=True),
        description="Business minutes the resolution clock ran, once resolved or closed.",
    )
    next_responses_met: int = Field(
        default=0,
        sa_column=sa.Column(sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    next_responses_breached: int = Field(
        default=0,
        sa_column=sa.Column(sa.Integer, nullable=False, server_default=sa.text("0")),
    )
