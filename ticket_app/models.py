"""Database models: tickets, comments, audit events, staff, sessions, tokens, imports, views.

The constraints declared here are the ones the Alembic migration creates; the database refuses
bad rows on its own, whatever client writes them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from ticket_app.enums import (
    ActorKind,
    Category,
    CommentChannel,
    EventKind,
    ImportStatus,
    Priority,
    Role,
    Status,
)

TITLE_MAX_LENGTH = 200
EXTERNAL_ID_MAX_LENGTH = 200
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
STATUS_RANK_SQL = (
    "CASE status WHEN 'open' THEN 4 WHEN 'in_progress' THEN 3 WHEN 'resolved' THEN 2 "
    "WHEN 'closed' THEN 1 ELSE 0 END"
)
"""`status_rank`: open 4 .. closed 1, so "by status" lists the life cycle from its start."""


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
        sa.Index("ix_tickets_updated_at_id", "updated_at", "id"),
        sa.Index("ix_tickets_assignee_id_created_at_id", "assignee_id", "created_at", "id"),
        sa.Index(
            "ix_tickets_assignee_id_status_created_at_id",
            "assignee_id",
            "status",
            "created_at",
            "id",
        ),
        sa.Index("ix_tickets_priority_rank_created_at_id", "priority_rank", "created_at", "id"),
        sa.Index("ix_tickets_status_rank_created_at_id", "status_rank", "created_at", "id"),
        sa.Index("ix_tickets_language_created_at_id", "language", "created_at", "id"),
        sa.Index("ix_tickets_frustrated_created_at_id", "frustrated", "created_at", "id"),
        sa.Index("ix_tickets_duplicate_of_id", "duplicate_of_id"),
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


def _timestamp(*, nullable: bool = False) -> sa.Column:
    if nullable:
        return sa.Column(UTCDateTime(), nullable=True)
    return sa.Column(UTCDateTime(), nullable=False, server_default=sa.func.current_timestamp())


STAFF_USER_CHECKS: dict[str, str] = {
    "ck_staff_users_role": _in("role", Role),
    "ck_staff_users_email_lower": "email = lower(email)",
    "ck_staff_users_email_not_blank": "length(trim(email)) > 0",
    "ck_staff_users_name_not_blank": "length(trim(name)) > 0",
}


class StaffUser(SQLModel, table=True):
    """A member of staff who signs in.

    Emails are stored lower-cased, so uniqueness is case-insensitive; users are deactivated, never
    deleted, so the audit trail keeps its actors.
    """

    __tablename__ = "staff_users"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in STAFF_USER_CHECKS.items()),
        sa.Index("ux_staff_users_email", "email", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=False))
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    role: Role = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    is_active: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    password_hash: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    last_login_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class StaffSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the cookie's random token is stored."""

    __tablename__ = "staff_sessions"
    __table_args__ = (
        sa.Index("ux_staff_sessions_token_hash", "token_hash", unique=True),
        sa.Index("ix_staff_sessions_user_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    last_seen_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


API_TOKEN_CHECKS: dict[str, str] = {
    "ck_api_tokens_name_not_blank": "length(trim(name)) > 0",
    "ck_api_tokens_scopes_not_blank": "length(trim(scopes)) > 0",
}


class ApiToken(SQLModel, table=True):
    """A personal access token for automation; acts with its owner's role, within its scopes.

    `scopes` is a comma-separated list (`tickets:read,tickets:write`); `prefix` is the token's
    first characters, shown so people can recognise a token; only the SHA-256 is stored.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in API_TOKEN_CHECKS.items()),
        sa.Index("ux_api_tokens_token_hash", "token_hash", unique=True),
        sa.Index("ix_api_tokens_user_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    prefix: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    scopes: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    expires_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


TICKET_EVENT_CHECKS: dict[str, str] = {
    "ck_ticket_events_actor_kind": _in("actor_kind", ActorKind),
    "ck_ticket_events_kind": _in("kind", EventKind),
}


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
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    kind: EventKind = Field(sa_column=sa.Column(sa.String(30), nullable=False))
    field: str | None = Field(default=None, sa_column=sa.Column(sa.String(40), nullable=True))
    old_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    new_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


def _count() -> sa.Column:
    return sa.Column(sa.Integer, nullable=False, server_default=sa.text("0"))


IMPORT_RUN_CHECKS: dict[str, str] = {
    "ck_import_runs_actor_kind": _in("actor_kind", ActorKind),
    "ck_import_runs_status": _in("status", ImportStatus),
    "ck_import_runs_sha256_length": "length(content_sha256) = 64",
    "ck_import_runs_file_name_not_blank": "length(trim(file_name)) > 0",
}


class ImportRun(SQLModel, table=True):
    """One import of a file (migration 0005); a later import of the same bytes is refused.

    `content_sha256` is the hex SHA-256 of the file's bytes, `size_bytes` their count;
    `file_name` the name given (no directories); the counts are those of the import's report,
    updated with each committed batch. `key_options` is canonical JSON of what decides each
    row's external id (format, external-id column, line ids); `allow_duplicates` records an
    operator's override of the refusal.
    """

    __tablename__ = "import_runs"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in IMPORT_RUN_CHECKS.items()),
        sa.Index("ix_import_runs_content_sha256", "content_sha256", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    content_sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    size_bytes: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
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
    key_options: str = Field(
        default="", sa_column=sa.Column(sa.String(500), nullable=False, server_default="")
    )
    allow_duplicates: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    status: ImportStatus = Field(
        default=ImportStatus.RUNNING,
        sa_column=sa.Column(sa.String(20), nullable=False, server_default="running"),
    )
    started_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    finished_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # Last sign of life of a running import (migration 0010); see services.import_runs.
    heartbeat_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    rows_read: int = Field(default=0, sa_column=_count())
    inserted: int = Field(default=0, sa_column=_count())
    already_present: int = Field(default=0, sa_column=_count())
    rejected: int = Field(default=0, sa_column=_count())


IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_CHECKS: dict[str, str] = {
    "ck_idempotency_keys_key_length": (
        f"length(idempotency_key) BETWEEN 1 AND {IDEMPOTENCY_KEY_MAX_LENGTH}"
    ),
    "ck_idempotency_keys_sha256_length": "length(request_sha256) = 64",
}


class IdempotencyKey(SQLModel, table=True):
    """An `Idempotency-Key` a user sent with `POST /api/tickets/`, and the answer it got.

    Migration 0006. Unique per user (a token acts as its owner, so a user's tokens and sessions
    share keys); `request_sha256` is the SHA-256 of the validated request, so a repeat with
    another body can be told apart; `status_code` and `response_body` (JSON) are the first
    answer, replayed as they were. Rows older than 24 hours no longer count and are purged.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in IDEMPOTENCY_KEY_CHECKS.items()),
        sa.Index("ux_idempotency_keys_user_id_key", "user_id", "idempotency_key", unique=True),
        sa.Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    idempotency_key: str = Field(
        sa_column=sa.Column(sa.String(IDEMPOTENCY_KEY_MAX_LENGTH), nullable=False)
    )
    request_sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    status_code: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    ticket_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        )
    )
    response_body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())


COMMENT_CHECKS: dict[str, str] = {
    "ck_ticket_comments_body_not_blank": "length(trim(body)) > 0",
    "ck_ticket_comments_channel": _in("channel", CommentChannel),
}


class TicketComment(SQLModel, table=True):
    """A public reply to the requester or an internal note on a ticket (migration 0007).

    `author_user_id` is the staff user who wrote it (none for mail from a requester, once an
    e-mail channel exists); `author_label` is what the timeline shows (the author's email, or the
    sender's). `channel` says how it arrived; `message_id` is the e-mail Message-ID of incoming
    or outgoing mail, unique so a mail is attached once. Body is plain text, kept as written.
    """

    __tablename__ = "ticket_comments"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in COMMENT_CHECKS.items()),
        sa.Index("ix_ticket_comments_ticket_id_id", "ticket_id", "id"),
        sa.Index("ux_ticket_comments_message_id", "message_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        )
    )
    author_user_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_users.id"), nullable=True),
    )
    author_label: str = Field(sa_column=sa.Column(sa.String(EMAIL_MAX_LENGTH), nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    public: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    channel: CommentChannel = Field(
        default=CommentChannel.API,
        sa_column=sa.Column(sa.String(20), nullable=False, server_default="api"),
    )
    message_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(255), nullable=True))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())


SAVED_VIEW_CHECKS: dict[str, str] = {
    "ck_saved_views_name_not_blank": "length(trim(name)) > 0",
}


class SavedView(SQLModel, table=True):
    """A named set of list filters, search and sort that a staff member saved (migration 0007).

    `query` is canonical JSON of the list's query parameters (`{"status": "open", "sort":
    "-priority"}`); `shared` views (set by admins) appear in everyone's navigation. Names are
    unique per owner.
    """

    __tablename__ = "saved_views"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in SAVED_VIEW_CHECKS.items()),
        sa.Index("ux_saved_views_owner_id_name", "owner_id", "name", unique=True),
        sa.Index("ix_saved_views_shared", "shared"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(sa_column=sa.Column(sa.String(NAME_MAX_LENGTH), nullable=False))
    shared: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    query: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())


class TicketCount(SQLModel, table=True):
    """How many tickets have one (status, category, priority) and were created on `day` (UTC).

    Kept exact by database triggers on `tickets` (migration 0009) in the same transaction as
    every insert, update, delete and import, so the first day with tickets is one index probe.
    Rows whose `n` fell to 0 stay until `counts rebuild` removes them.
    """

    __tablename__ = "ticket_counts"

    day: date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    status: Status = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    category: Category = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))


class TicketCountTotal(SQLModel, table=True):
    """How many tickets have one (status, category, priority), over all days (at most 64 rows).

    The same triggers keep it: the stats and enum-filtered totals read these few rows instead
    of summing `ticket_counts` (one row per key and day: 23,000 rows for a year, 9 ms).
    """

    __tablename__ = "ticket_count_totals"

    status: Status = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    category: Category = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    priority: Priority = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    n: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
