"""Import runs: one row per `import` of a file, so a second import of the same bytes is refused.

`content_sha256` is the hex SHA-256 of the file's bytes (not of its parsed rows: the same rows in
another encoding or order are another file). `status` is `running` until the import ends, then
`finished` or `failed`; a run left `running` (the process was killed) may have written some rows,
so it blocks a re-import as a finished one does. The counts are those of the import's report,
updated with every committed batch; `key_options` records what decided each row's external id
(format, external-id column, `--line-ids`), so a re-run keyed the same way can be told apart
from one that would duplicate rows; `allow_duplicates` records that the operator overrode the
refusal. Written for both dialects, in
the style of 0004 (new table, foreign keys declared on both; SQLite does not enforce them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ACTOR_KINDS = "'user', 'token', 'intake', 'import', 'system'"
STATUSES = "'running', 'finished', 'failed'"


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    def count(name: str) -> sa.Column:
        return sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))

    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("actor_token_id", sa.Integer(), sa.ForeignKey("api_tokens.id"), nullable=True),
        sa.Column("actor_label", sa.String(254), nullable=False),
        sa.Column("key_options", sa.String(500), nullable=False, server_default=""),
        sa.Column("allow_duplicates", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(20), nullable=False, server_default="running"),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=_now_default(dialect),
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        count("rows_read"),
        count("inserted"),
        count("already_present"),
        count("rejected"),
        sa.CheckConstraint(f"actor_kind IN ({ACTOR_KINDS})", name="ck_import_runs_actor_kind"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_import_runs_status"),
        sa.CheckConstraint("length(content_sha256) = 64", name="ck_import_runs_sha256_length"),
        sa.CheckConstraint(
            "length(trim(file_name)) > 0", name="ck_import_runs_file_name_not_blank"
        ),
    )
    op.create_index("ix_import_runs_content_sha256", "import_runs", ["content_sha256", "id"])


def downgrade() -> None:
    op.drop_index("ix_import_runs_content_sha256", table_name="import_runs")
    op.drop_table("import_runs")
