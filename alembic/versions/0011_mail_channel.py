"""The e-mail channel: mailboxes, requesters, stored mail, quarantine and attachments.

- `mailboxes`: support addresses with IMAP and SMTP settings (passwords as Fernet tokens) and
  the fetch cursor (UIDVALIDITY, last UID).
- `requesters`: one row per customer address (lower-case, unique); tickets gain
  `requester_id`, filled here for existing tickets from their `requester_email`.
- `mail_messages`: every message received or sent, unique by Message-ID, with the delivery
  state of outgoing mail.
- `mail_quarantine`: messages that could not be taken in, unique by the hash of their bytes.
- `attachments`: files on tickets (bytes on disk, metadata here).

The audit trail gains the actor kind `mail` and the mail and mailbox event kinds: PostgreSQL
swaps the CHECK constraints; SQLite cannot alter a constraint, so `ticket_events` is rebuilt
(copied row by row, ids kept), as in 0007 and 0010.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OLD_ACTOR_KINDS = "'user', 'token', 'intake', 'import', 'system'"
NEW_ACTOR_KINDS = f"{OLD_ACTOR_KINDS}, 'mail'"
OLD_EVENT_KINDS = (
    "'created', 'changed', 'imported', 'exported', 'user_created', 'user_changed', "
    "'token_created', 'token_revoked', 'commented', 'merged', 'export_interrupted'"
)
NEW_EVENT_KINDS = (
    f"{OLD_EVENT_KINDS}, 'mail_sent', 'mail_failed', 'mail_resent', 'mail_bounced', "
    "'mail_quarantined', 'mail_released', 'mail_discarded', 'mailbox_created', "
    "'mailbox_changed', 'mailbox_removed'"
)
TLS_MODES = "'tls', 'starttls', 'none'"


def _now_default(dialect: str) -> sa.TextClause:
    if dialect == "sqlite":
        return sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")
    return sa.text("CURRENT_TIMESTAMP")


def _rebuild_sqlite_events(actor_kinds: str, kinds: str) -> None:
    """Copy `ticket_events` into a table whose CHECKs allow these kinds (SQLite only)."""
    op.execute(
        f"""
        CREATE TABLE ticket_events_rebuilt (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            ticket_id INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
            actor_kind VARCHAR(20) NOT NULL,
            actor_user_id INTEGER REFERENCES staff_users (id),
            actor_token_id INTEGER REFERENCES api_tokens (id),
            actor_label VARCHAR(254) NOT NULL,
            created_at DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL,
            kind VARCHAR(30) NOT NULL,
            field VARCHAR(40),
            old_value TEXT,
            new_value TEXT,
            CONSTRAINT ck_ticket_events_actor_kind CHECK (actor_kind IN ({actor_kinds})),
            CONSTRAINT ck_ticket_events_kind CHECK (kind IN ({kinds}))
        )
        """
    )
    op.execute(
        "INSERT INTO ticket_events_rebuilt (id, ticket_id, actor_kind, actor_user_id, "
        "actor_token_id, actor_label, created_at, kind, field, old_value, new_value) "
        "SELECT id, ticket_id, actor_kind, actor_user_id, actor_token_id, actor_label, "
        "created_at, kind, field, old_value, new_value FROM ticket_events"
    )
    op.execute("DROP TABLE ticket_events")
    op.execute("ALTER TABLE ticket_events_rebuilt RENAME TO ticket_events")
    op.create_index("ix_ticket_events_ticket_id_id", "ticket_events", ["ticket_id", "id"])


def _allow_kinds(dialect: str, actor_kinds: str, kinds: str) -> None:
    if dialect == "sqlite":
        _rebuild_sqlite_events(actor_kinds, kinds)
        return
    for name, column, values in (
        ("ck_ticket_events_actor_kind", "actor_kind", actor_kinds),
        ("ck_ticket_events_kind", "kind", kinds),
    ):
        op.execute(f"ALTER TABLE ticket_events DROP CONSTRAINT {name}")
        op.execute(
            f"ALTER TABLE ticket_events ADD CONSTRAINT {name} CHECK ({column} IN ({values}))"
        )


def _timestamps(dialect: str, *names: str) -> list[sa.Column]:
    return [
        sa.Column(
            name, sa.DateTime(timezone=True), nullable=False, server_default=_now_default(dialect)
        )
        for name in names
    ]


def _create_mailboxes(dialect: str) -> None:
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("from_name", sa.String(100), nullable=False),
        sa.Column("imap_host", sa.String(255), nullable=False),
        sa.Column("imap_port", sa.Integer(), nullable=False),
        sa.Column("imap_tls", sa.String(10), nullable=False),
        sa.Column("imap_username", sa.String(255), nullable=False),
        sa.Column("imap_password", sa.Text(), nullable=False),
        sa.Column("imap_folder", sa.String(255), nullable=False, server_default="INBOX"),
        sa.Column("smtp_host", sa.String(255), nullable=False),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("smtp_tls", sa.String(10), nullable=False),
        sa.Column("smtp_username", sa.String(255), nullable=True),
        sa.Column("smtp_password", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("acknowledge_new", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fetch_error", sa.Text(), nullable=True),
        *_timestamps(dialect, "created_at", "updated_at"),
        sa.CheckConstraint("length(trim(name)) > 0", name="ck_mailboxes_name_not_blank"),
        sa.CheckConstraint("address = lower(address)", name="ck_mailboxes_address_lower"),
        sa.CheckConstraint("address LIKE '%_@_%'", name="ck_mailboxes_address_format"),
        sa.CheckConstraint("imap_port BETWEEN 1 AND 65535", name="ck_mailboxes_imap_port"),
        sa.CheckConstraint("smtp_port BETWEEN 1 AND 65535", name="ck_mailboxes_smtp_port"),
        sa.CheckConstraint(f"imap_tls IN ({TLS_MODES})", name="ck_mailboxes_imap_tls"),
        sa.CheckConstraint(f"smtp_tls IN ({TLS_MODES})", name="ck_mailboxes_smtp_tls"),
        sa.CheckConstraint("last_uid >= 0", name="ck_mailboxes_last_uid"),
    )
    op.create_index("ux_mailboxes_name", "mailboxes", ["name"], unique=True)
    op.create_index("ux_mailboxes_address", "mailboxes", ["address"], unique=True)


def _create_requesters(dialect: str) -> None:
    op.create_table(
        "requesters",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        *_timestamps(dialect, "created_at"),
        sa.CheckConstraint("email = lower(email)", name="ck_requesters_email_lower"),
        sa.CheckConstraint("email LIKE '%_@_%'", name="ck_requesters_email_format"),
        sa.CheckConstraint(
            "name IS NULL OR length(trim(name)) > 0", name="ck_requesters_name_not_blank"
        ),
    )
    op.create_index("ux_requesters_email", "requesters", ["email"], unique=True)
    references = " REFERENCES requesters(id)" if dialect == "postgresql" else ""
    op.execute(f"ALTER TABLE tickets ADD COLUMN requester_id INTEGER{references}")
    op.create_index("ix_tickets_requester_id_id", "tickets", ["requester_id", "id"])
    op.execute(
        "INSERT INTO requesters (email, name, created_at) "
        "SELECT lower(requester_email), max(requester_name), min(created_at) FROM tickets "
        "WHERE requester_email IS NOT NULL GROUP BY lower(requester_email)"
    )
    op.execute(
        "UPDATE tickets SET requester_id = (SELECT requesters.id FROM requesters "
        "WHERE requesters.email = lower(tickets.requester_email)) "
        "WHERE requester_email IS NOT NULL"
    )


def _create_mail_messages(dialect: str) -> None:
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column(
            "mailbox_id",
            sa.Integer(),
            sa.ForeignKey("mailboxes.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "comment_id",
            sa.Integer(),
            sa.ForeignKey("ticket_comments.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("from_address", sa.String(254), nullable=True),
        sa.Column("from_name", sa.String(100), nullable=True),
        sa.Column("to_address", sa.String(254), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("in_reply_to", sa.String(255), nullable=True),
        sa.Column("reference_ids", sa.Text(), nullable=False, server_default=""),
        sa.Column("raw_path", sa.String(500), nullable=True),
        sa.Column("raw_size", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("delivery_status", sa.String(10), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(dialect, "created_at"),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound')", name="ck_mail_messages_direction"
        ),
        sa.CheckConstraint(
            "kind IN ('customer', 'automatic', 'bounce', 'reply', 'acknowledgement')",
            name="ck_mail_messages_kind",
        ),
        sa.CheckConstraint(
            "delivery_status IS NULL OR delivery_status IN ('queued', 'sending', 'sent', 'failed')",
            name="ck_mail_messages_delivery_status",
        ),
        sa.CheckConstraint(
            "direction = 'inbound' OR delivery_status IS NOT NULL",
            name="ck_mail_messages_outbound_has_status",
        ),
        sa.CheckConstraint("attempts >= 0", name="ck_mail_messages_attempts"),
    )
    op.create_index("ux_mail_messages_message_id", "mail_messages", ["message_id"], unique=True)
    op.create_index("ux_mail_messages_comment_id", "mail_messages", ["comment_id"], unique=True)
    op.create_index("ix_mail_messages_ticket_id_id", "mail_messages", ["ticket_id", "id"])
    op.create_index(
        "ix_mail_messages_from_address_created_at", "mail_messages", ["from_address", "created_at"]
    )
    op.create_index(
        "ix_mail_messages_delivery_status", "mail_messages", ["delivery_status", "next_attempt_at"]
    )


def _create_quarantine(dialect: str) -> None:
    op.create_table(
        "mail_quarantine",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column(
            "mailbox_id",
            sa.Integer(),
            sa.ForeignKey("mailboxes.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("from_address", sa.String(254), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_path", sa.String(500), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="held"),
        *_timestamps(dialect, "created_at"),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.CheckConstraint(
            "status IN ('held', 'released', 'discarded')", name="ck_mail_quarantine_status"
        ),
        sa.CheckConstraint("length(trim(reason)) > 0", name="ck_mail_quarantine_reason_not_blank"),
    )
    op.create_index(
        "ux_mail_quarantine_fingerprint", "mail_quarantine", ["fingerprint"], unique=True
    )
    op.create_index("ix_mail_quarantine_status_id", "mail_quarantine", ["status", "id"])


def _create_attachments(dialect: str) -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "comment_id",
            sa.Integer(),
            sa.ForeignKey("ticket_comments.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "mail_message_id",
            sa.Integer(),
            sa.ForeignKey("mail_messages.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_path", sa.String(500), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        *_timestamps(dialect, "created_at"),
        sa.CheckConstraint("length(trim(filename)) > 0", name="ck_attachments_filename_not_blank"),
        sa.CheckConstraint("size >= 0", name="ck_attachments_size"),
        sa.CheckConstraint("length(sha256) = 64", name="ck_attachments_sha256_length"),
    )
    op.create_index("ix_attachments_ticket_id_id", "attachments", ["ticket_id", "id"])
    op.create_index("ix_attachments_comment_id", "attachments", ["comment_id"])


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _allow_kinds(dialect, NEW_ACTOR_KINDS, NEW_EVENT_KINDS)
    _create_mailboxes(dialect)
    _create_requesters(dialect)
    _create_mail_messages(dialect)
    _create_quarantine(dialect)
    _create_attachments(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("attachments", "mail_quarantine", "mail_messages"):
        op.drop_table(table)
    op.drop_index("ix_tickets_requester_id_id", table_name="tickets")
    if dialect == "sqlite":
        op.execute("ALTER TABLE tickets DROP COLUMN requester_id")
    else:
        op.drop_column("tickets", "requester_id")
    op.drop_table("requesters")
    op.drop_table("mailboxes")
    op.execute(
        f"DELETE FROM ticket_events WHERE actor_kind = 'mail' OR kind NOT IN ({OLD_EVENT_KINDS})"
    )
    _allow_kinds(dialect, OLD_ACTOR_KINDS, OLD_EVENT_KINDS)
