"""Tag counts kept by triggers: the stats' `tag_breakdown` and the tag autocomplete read counts.

Before: every stats read grouped all of `ticket_tags` (198 ms at 1,000,000 tickets and 850,000
tag rows), and with an enum filter joined them to the matching tickets (1.48 s).

Now `ticket_tag_counts` holds how many tickets of each (status, category, priority) carry
each tag, so the top tags for any combination of enum filters sum a few rows per tag. Kept
exact, in the writer's transaction, by triggers:

- on `ticket_tags`: insert (+1), delete (-1), update (-1 old, +1 new), each under the key its
  ticket has then;
- on `tickets`: an update that changes status, category or priority moves each of the
  ticket's tags from the old key to the new; a BEFORE DELETE trigger deletes the ticket's tags
  first (the tag rows' own trigger subtracts them while the ticket is still there to give
  their key: PostgreSQL's ON DELETE CASCADE runs after the ticket is gone, and SQLite, whose
  foreign keys are off, never cascaded at all).

PostgreSQL: statement-level triggers with transition tables append one aggregated delta per
statement to `ticket_tag_count_deltas`, insert-only like `ticket_count_deltas` (0022): a
status change of a tagged ticket or a popular tag added to many tickets at once never waits on
a shared count row. `services.stats.fold_count_deltas` folds them in with the ticket count
deltas (same job, same lock); readers add what is pending. TRUNCATE of `ticket_tags` (also
through `TRUNCATE tickets CASCADE`) empties both tables.

SQLite (row-level triggers, one writer at a time): the counts are updated directly and the
deltas table stays empty. Tag rows left behind by tickets deleted before this revision (no
cascade on SQLite) are deleted, as the foreign key says they should have been.

The counts are filled from the existing rows in the same transaction as the triggers are
created. `python -m ticket_app counts rebuild` recomputes them too. Downgrade drops both
tables and the triggers.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

KEY = "status, category, priority"
TAG_KEY = f"tag, {KEY}"
# PostgreSQL trigger -> (table, event, REFERENCING clause); each has a function of its name.
PG_TRIGGERS = {
    "ticket_tag_counts_after_tag_insert": (
        "ticket_tags",
        "AFTER INSERT",
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    ),
    "ticket_tag_counts_after_tag_delete": (
        "ticket_tags",
        "AFTER DELETE",
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    ),
    "ticket_tag_counts_after_tag_update": (
        "ticket_tags",
        "AFTER UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    ),
    "ticket_tag_counts_after_tag_truncate": ("ticket_tags", "AFTER TRUNCATE", "FOR EACH STATEMENT"),
    "ticket_tag_counts_after_ticket_update": (
        "tickets",
        "AFTER UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    ),
    "ticket_tag_counts_before_ticket_delete": ("tickets", "BEFORE DELETE", "FOR EACH ROW"),
}
SQLITE_TRIGGERS = (
    "ticket_tag_counts_after_tag_insert",
    "ticket_tag_counts_after_tag_delete",
    "ticket_tag_counts_after_tag_update",
    "ticket_tag_counts_after_ticket_update",
    "ticket_tag_counts_before_ticket_delete",
)


def _pg_tagged(rows: str, sign: str) -> str:
    """Each tag row of the transition table `rows` under its ticket's key, counted `sign`1."""
    return (
        f"SELECT r.tag, t.status, t.category, t.priority, {sign}1 AS n "
        f"FROM {rows} AS r JOIN tickets AS t ON t.id = r.ticket_id"
    )


def _pg_moved(key_of: str, sign: str) -> str:
    """Each tag of a ticket whose key the update changed, under its `key_of` (o: old, w: new)."""
    return (
        f"SELECT g.tag, {key_of}.status, {key_of}.category, {key_of}.priority, {sign}1 AS n "
        "FROM old_rows AS o JOIN new_rows AS w ON w.id = o.id "
        "JOIN ticket_tags AS g ON g.ticket_id = o.id "
        "WHERE (o.status, o.category, o.priority) "
        "IS DISTINCT FROM (w.status, w.category, w.priority)"
    )


def _pg_append(rows: str) -> str:
    """`rows` (tag, key, n) summed per key and appended as deltas (nothing for a zero sum)."""
    return (
        f"INSERT INTO ticket_tag_count_deltas ({TAG_KEY}, n) "
        f"SELECT {TAG_KEY}, sum(n) FROM ({rows}) AS r GROUP BY {TAG_KEY} HAVING sum(n) <> 0;"
    )


PG_BODIES = {
    "ticket_tag_counts_after_tag_insert": _pg_append(_pg_tagged("new_rows", "+")),
    "ticket_tag_counts_after_tag_delete": _pg_append(_pg_tagged("old_rows", "-")),
    "ticket_tag_counts_after_tag_update": _pg_append(
        f"{_pg_tagged('old_rows', '-')} UNION ALL {_pg_tagged('new_rows', '+')}"
    ),
    "ticket_tag_counts_after_tag_truncate": (
        "DELETE FROM ticket_tag_counts; DELETE FROM ticket_tag_count_deltas;"
    ),
    "ticket_tag_counts_after_ticket_update": _pg_append(
        f"{_pg_moved('o', '-')} UNION ALL {_pg_moved('w', '+')}"
    ),
}


def _create_tables() -> None:
    op.create_table(
        "ticket_tag_counts",
        sa.Column("tag", sa.String(50), primary_key=True),
        sa.Column("status", sa.String(20), primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("priority", sa.String(20), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "ticket_tag_count_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("tag", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )


def _create_pg_triggers() -> None:
    for name, (table, event, referencing) in PG_TRIGGERS.items():
        if name == "ticket_tag_counts_before_ticket_delete":
            body = "DELETE FROM ticket_tags WHERE ticket_id = OLD.id; RETURN OLD;"
        else:
            body = f"{PG_BODIES[name]} RETURN NULL;"
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} {event} ON {table} {referencing} EXECUTE FUNCTION {name}()"
        )


_SQLITE_UPSERT = f"ON CONFLICT ({TAG_KEY}) DO UPDATE SET n = n + excluded.n;"


def _sqlite_tag_row(row: str, sign: str) -> str:
    """`sign`1 for the tag row `row` (NEW or OLD) under its ticket's current key."""
    return (
        f"INSERT INTO ticket_tag_counts ({TAG_KEY}, n) "
        f"SELECT {row}.tag, {KEY}, {sign}1 FROM tickets WHERE id = {row}.ticket_id "
        f"{_SQLITE_UPSERT}"
    )


def _sqlite_ticket_tags(row: str, sign: str) -> str:
    """`sign`1 for each tag of the ticket `row` (NEW or OLD) under that row's key."""
    return (
        f"INSERT INTO ticket_tag_counts ({TAG_KEY}, n) "
        f"SELECT tag, {row}.status, {row}.category, {row}.priority, {sign}1 "
        f"FROM ticket_tags WHERE ticket_id = {row}.id {_SQLITE_UPSERT}"
    )


def _create_sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER ticket_tag_counts_after_tag_insert AFTER INSERT ON ticket_tags "
        f"BEGIN {_sqlite_tag_row('NEW', '+')} END"
    )
    op.execute(
        "CREATE TRIGGER ticket_tag_counts_after_tag_delete AFTER DELETE ON ticket_tags "
        f"BEGIN {_sqlite_tag_row('OLD', '-')} END"
    )
    op.execute(
        "CREATE TRIGGER ticket_tag_counts_after_tag_update "
        "AFTER UPDATE OF tag, ticket_id ON ticket_tags "
        f"BEGIN {_sqlite_tag_row('OLD', '-')} {_sqlite_tag_row('NEW', '+')} END"
    )
    moved = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in KEY.split(", "))
    op.execute(
        f"CREATE TRIGGER ticket_tag_counts_after_ticket_update AFTER UPDATE OF {KEY} ON tickets "
        f"WHEN {moved} BEGIN {_sqlite_ticket_tags('OLD', '-')} "
        f"{_sqlite_ticket_tags('NEW', '+')} END"
    )
    op.execute(
        "CREATE TRIGGER ticket_tag_counts_before_ticket_delete BEFORE DELETE ON tickets "
        "BEGIN DELETE FROM ticket_tags WHERE ticket_id = OLD.id; END"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _create_tables()
    if dialect == "postgresql":
        # CREATE TRIGGER locks both tables against writers until commit: nothing is written
        # between the triggers' creation and the backfill, so nothing is counted twice or never.
        _create_pg_triggers()
    else:
        op.execute("DELETE FROM ticket_tags WHERE ticket_id NOT IN (SELECT id FROM tickets)")
        _create_sqlite_triggers()
    op.execute(
        f"INSERT INTO ticket_tag_counts ({TAG_KEY}, n) "
        "SELECT g.tag, t.status, t.category, t.priority, count(*) "
        "FROM ticket_tags AS g JOIN tickets AS t ON t.id = g.ticket_id "
        "GROUP BY g.tag, t.status, t.category, t.priority"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _, _) in PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("ticket_tag_count_deltas")
    op.drop_table("ticket_tag_counts")
