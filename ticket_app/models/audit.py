"""The audit trail: one `ticket_events` row per change, export or staff action."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import ActorKind, EventKind
from ticket_app.models.base import EMAIL_MAX_LENGTH, enum_check, timestamp_column, utc_now

TICKET_EVENT_CHECKS: dict[str, str] = {
    "ck_ticket_events_actor_kind": enum_check("actor_kind", ActorKind),
    "ck_ticket_events_kind": enum_check("kind", EventKind),
}

# Status changes into resolved or closed: the dashboard counts tickets resolved per day from
# them, through a partial index on their time (migration 0024).
RESOLVED_EVENT_PREDICATE = (
    "ticket_events.kind = 'changed' AND ticket_events.field = 'status' "
    "AND ticket_events.new_value IN ('resolved', 'closed')"
)


class TicketEvent(SQLModel, table=True):
    """One entry of the audit trail.

    Who (actor), when, what kind, and for field changes the field with its old and new value.
    `ticket_id` is empty for events about no single ticket (an export, a staff or token
    change). Written in the same transaction as the change.
    """

    __tablename__ = "ticket_events"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in TICKET_EVENT_CHECKS.items()),
        sa.Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),
        sa.Index(
            "ix_ticket_events_resolved_at",
            "created_at",
            sqlite_where=sa.text(RESOLVED_EVENT_PREDICATE),
            postgresql_where=sa.text(RESOLVED_EVENT_PREDICATE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True
        ),
    )
    actor_kind: ActorKind = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    actor_user_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
    )
    actor_token_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
    )
    actor_label: str = Field(sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    kind: EventKind = Field(sa_column=sa.Column(sa.String(30), nullable=False))
    field: str | None = Field(default=None, sa_column=sa.Column(sa.String(40), nullable=True))
    old_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    new_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
