"""Import runs: one row per imported file, its report and its state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ticket_app.enums import ActorKind, ImportStatus
from ticket_app.models.base import EMAIL_MAX_LENGTH, enum_check, timestamp_column, utc_now


def _count() -> sa.Column:
    return sa.Column(sa.Integer, nullable=False, server_default=sa.text("0"))


IMPORT_RUN_CHECKS: dict[str, str] = {
    # Mail never runs imports: the list stays as migration 0005 created it.
    "ck_import_runs_actor_kind": "actor_kind IN ('user', 'token', 'intake', 'import', 'system')",
    "ck_import_runs_status": enum_check("status", ImportStatus),
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
    started_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    # Last sign of life of a running import (migration 0010); see services.import_runs.
    heartbeat_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    rows_read: int = Field(default=0, sa_column=_count())
    inserted: int = Field(default=0, sa_column=_count())
    already_present: int = Field(default=0, sa_column=_count())
    rejected: int = Field(default=0, sa_column=_count())
