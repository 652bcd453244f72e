"""Triage signals on tickets (issue 14), and the link from a merged duplicate to its ticket.

Columns: suggestion source and confidences, suggested title, language, sentiment and its score,
the frustration flag, `duplicate_of_id`.

New columns are added with `ALTER TABLE ... ADD COLUMN` as in 0004 and 0007, so SQLite keeps
the table (and its CHECK constraints) in place. `duplicate_of_id` points at the ticket a merged
duplicate was closed into. Indexes serve the list filters `language=` and `frustrated=true`
and the "duplicates of this ticket" lookup.

PostgreSQL also gets `similarity_vector`, a stored generated `tsvector` of the title and the
start of the description (English configuration), with a GIN index: similar-ticket search ranks
full-text matches against it without re-parsing descriptions. The index is partial (open and
in-progress tickets not merged elsewhere, the only ones offered as similar), so it is about half
the size and the planner needs no second index for the status filter; and it has `fastupdate`
off, because a lookup otherwise scans GIN's unsorted pending list of recent inserts (up to 4 MB)
on every query: at 100k tickets that was 25-40 ms of a 50 ms lookup, against a slightly slower
insert. It is PostgreSQL-only and not in the SQLModel model (like 0001's trigram indexes);
SQLite searches a bounded window instead.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SUGGESTION_SOURCE_CHECK = "suggestion_source IS NULL OR suggestion_source IN ('gemini', 'offline')"
SENTIMENT_CHECK = "sentiment IS NULL OR sentiment IN ('negative', 'neutral', 'positive')"
SIMILARITY_VECTOR = "to_tsvector('english'::regconfig, title || ' ' || left(description, 2000))"
# The rows similar-ticket search may offer; `services.similarity` repeats this condition so the
# planner can use the partial index.
SIMILAR_CANDIDATE = "status IN ('open', 'in_progress') AND duplicate_of_id IS NULL"
INDEXES = (
    ("ix_tickets_language_created_at_id", "language, created_at, id"),
    ("ix_tickets_frustrated_created_at_id", "frustrated, created_at, id"),
    ("ix_tickets_duplicate_of_id", "duplicate_of_id"),
)
COLUMNS = (
    "duplicate_of_id",
    "frustrated",
    "sentiment_score",
    "sentiment",
    "language",
    "suggested_title",
    "suggested_priority_confidence",
    "suggested_category_confidence",
    "suggestion_source",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    references = " REFERENCES tickets(id)" if dialect == "postgresql" else ""
    real = "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"
    false = "false" if dialect == "postgresql" else "0"
    statements = [
        "ADD COLUMN suggestion_source VARCHAR(20) "
        f"CONSTRAINT ck_tickets_suggestion_source CHECK ({SUGGESTION_SOURCE_CHECK})",
        f"ADD COLUMN suggested_category_confidence {real}",
        f"ADD COLUMN suggested_priority_confidence {real}",
        "ADD COLUMN suggested_title VARCHAR(80)",
        "ADD COLUMN language VARCHAR(8)",
        "ADD COLUMN sentiment VARCHAR(10) "
        f"CONSTRAINT ck_tickets_sentiment CHECK ({SENTIMENT_CHECK})",
        f"ADD COLUMN sentiment_score {real}",
        f"ADD COLUMN frustrated BOOLEAN NOT NULL DEFAULT {false}",
        f"ADD COLUMN duplicate_of_id INTEGER{references}",
    ]
    for statement in statements:
        op.execute(f"ALTER TABLE tickets {statement}")
    for name, columns in INDEXES:
        op.execute(f"CREATE INDEX {name} ON tickets ({columns})")
    if dialect == "postgresql":
        op.execute(
            "ALTER TABLE tickets ADD COLUMN similarity_vector tsvector "
            f"GENERATED ALWAYS AS ({SIMILARITY_VECTOR}) STORED"
        )
        op.execute(
            "CREATE INDEX ix_tickets_similarity_vector ON tickets USING gin (similarity_vector) "
            f"WITH (fastupdate = off) WHERE {SIMILAR_CANDIDATE}"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX ix_tickets_similarity_vector")
        op.execute("ALTER TABLE tickets DROP COLUMN similarity_vector")
    for name, _ in INDEXES:
        op.execute(f"DROP INDEX {name}")
    for column in COLUMNS:
        op.execute(f"ALTER TABLE tickets DROP COLUMN {column}")
