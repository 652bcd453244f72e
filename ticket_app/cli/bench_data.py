"""Generated tickets and a throw-away admin for the benchmark command (`cli/bench.py`).

The text mixes 34 common support words (so "password" is in about 60% of tickets) with a long
tail of 20,000 product and error codes such as `err01234` (each in a few hundredths of a
percent of tickets), so common and rare searches behave as they would in a real queue.
Tickets are spread over the 365 days before now, with random labels.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ticket_app.models import (
    ActorKind,
    Category,
    Priority,
    Status,
    Ticket,
    TicketComment,
    utc_now,
)
from ticket_app.schemas import TicketFilters
from ticket_app.services.access import Actor
from ticket_app.services.counts import fold_count_deltas, stats_from_counts
from ticket_app.services.database import create_db_engine, service_session
from ticket_app.services.errors import ConflictError
from ticket_app.services.identity import tokens, users

WORDS = (
    "invoice",
    "refund",
    "password",
    "login",
    "crash",
    "error",
    "sync",
    "export",
    "import",
    "payment",
    "card",
    "account",
    "email",
    "delivery",
    "order",
    "address",
    "printer",
    "network",
    "timeout",
    "outage",
    "billing",
    "upgrade",
    "plan",
    "mobile",
    "app",
    "browser",
    "cache",
    "report",
    "dashboard",
    "integration",
    "webhook",
    "token",
    "session",
    "profile",
)
COMMON_TERM = "password"
RARE_TERM = "err01234"
PHRASE = "refund invoice"
"""Two common words side by side: in about 3% of tickets' descriptions or comments."""
NO_HIT_TERM = "zqxvjk"
COMMENTS_PER_TICKET = 3
COLUMNS = ("title", "description", "category", "priority", "status", "created_at", "updated_at")
COMMENT_COLUMNS = ("ticket_id", "author_label", "body", "public", "channel", "created_at")
# The search index's triggers (migration 0016): a bulk load turns them off and builds the
# documents set-based afterwards, in batches of this many tickets.
_SEARCH_TRIGGERS = (
    ("tickets", "tr_tickets_search_document"),
    ("ticket_comments", "tr_comments_search_document"),
)
_SEARCH_BATCH = 20_000
_SQLITE_BATCH = 5000
_BENCH_ACTOR = Actor.process(ActorKind.SYSTEM, "bench")


def generate_tickets(count: int, *, seed: int, now: datetime) -> Iterator[tuple[object, ...]]:
    """`count` generated tickets as tuples in COLUMNS order, the same for the same seed and now.

    Created over the year before `now`, oldest first, as a help desk stores them: the ids the
    loader gives them and their creation times rise together, so the newest tickets share
    table pages (with random times, a newest-first page of one filter read about 200 scattered
    pages at 1M).
    """
    rng = random.Random(seed)
    tail = [f"{rng.choice(['sku', 'err', 'inv', 'ord'])}{n:05d}" for n in range(20_000)]
    categories, priorities, statuses = list(Category), list(Priority), list(Status)
    start = now - timedelta(days=365)
    spacing = timedelta(days=365) / count
    for number in range(count):
        created = start + spacing * (number + rng.random())
        title = " ".join(rng.choices(WORDS, k=4) + rng.choices(tail, k=1)).capitalize()
        yield (
            title,
            " ".join(rng.choices(WORDS, k=30) + rng.choices(tail, k=5)),
            rng.choice(categories).value,
            rng.choice(priorities).value,
            rng.choice(statuses).value,
            created,
            created,
        )


def generate_comments(
    ticket_ids: Iterable[int], *, per_ticket: int, seed: int, now: datetime
) -> Iterator[tuple[object, ...]]:
    """`per_ticket` comments per ticket id, as tuples in COMMENT_COLUMNS order.

    Every third is an internal note; they are worded like the tickets (common words and the
    code tail).
    """
    rng = random.Random(seed)
    tail = [f"{rng.choice(['sku', 'err', 'inv', 'ord'])}{n:05d}" for n in range(20_000)]
    for ticket_id in ticket_ids:
        for n in range(per_ticket):
            body = " ".join(rng.choices(WORDS, k=20) + rng.choices(tail, k=2))
            yield (ticket_id, "agent@example.com", body, n % 3 != 2, "api", now)


def stored_tickets() -> int:
    """How many tickets the current database holds (from the count tables)."""
    return stats_from_counts(TicketFilters(), today=utc_now().date()).total_tickets


def _copy_postgres(
    engine: sa.Engine,
    rows: Iterator[tuple[object, ...]],
    rebuild: bool,
    comments: Callable[[Sequence[int]], Iterator[tuple[object, ...]]],
) -> None:
    """COPY `rows` and their `comments` into staging tables, then one INSERT ... SELECT each.

    One transaction. The staging tables take their ids from the tables' own sequences, so the
    comments can name their tickets before either is inserted, and each ticket's search
    document is built in the same set-based INSERT from its comments (search triggers off
    meanwhile; before, every ticket row was written twice: by the COPY, then by an UPDATE
    setting its document). The count triggers see one statement: one aggregated delta. With
    `rebuild`, the secondary indexes are dropped first and built again after (much faster than
    maintaining the trigram and full-text indexes row by row). VACUUM ANALYZE at the end.
    """
    with engine.connect() as connection:
        connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
        for table, trigger in _SEARCH_TRIGGERS:
            connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        indexes: list[tuple[str, str]] = []
        if rebuild:
            indexes = [
                (name, definition)
                for name, definition in connection.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets' "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
                )
            ]
            for name, _ in indexes:
                connection.exec_driver_sql(f'DROP INDEX "{name}"')
        for staging, table, columns in (
            ("bench_tickets", "tickets", COLUMNS),
            ("bench_comments", "ticket_comments", COMMENT_COLUMNS),
        ):
            connection.exec_driver_sql(
                f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "
                f"SELECT id, {', '.join(columns)} FROM {table} WITH NO DATA"
            )
            connection.exec_driver_sql(
                f"ALTER TABLE {staging} ALTER COLUMN id "
                f"SET DEFAULT nextval(pg_get_serial_sequence('{table}', 'id'))"
            )
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(_copy_into("bench_tickets", COLUMNS)) as copy:
            for row in rows:
                copy.write_row(row)
        ticket_ids = list(
            connection.exec_driver_sql("SELECT id FROM bench_tickets ORDER BY id").scalars()
        )
        statement = _copy_into("bench_comments", COMMENT_COLUMNS)
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in comments(ticket_ids):
                copy.write_row(row)
        connection.exec_driver_sql(
            f"INSERT INTO tickets (id, {', '.join(COLUMNS)}, search_document) "
            f"SELECT t.id, {', '.join('t.' + column for column in COLUMNS)}, "
            "td_search_document(t.title, t.description, NULL, NULL, NULL, c.body) "
            "FROM bench_tickets t LEFT JOIN (SELECT ticket_id, string_agg(body, ' ' ORDER BY id) "
            "AS body FROM bench_comments GROUP BY ticket_id) c ON c.ticket_id = t.id "
            "ORDER BY t.id"
        )
        connection.exec_driver_sql(
            f"INSERT INTO ticket_comments (id, {', '.join(COMMENT_COLUMNS)}) "
            f"SELECT id, {', '.join(COMMENT_COLUMNS)} FROM bench_comments"
        )
        for table, trigger in _SEARCH_TRIGGERS:
            connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        for _, definition in indexes:
            connection.exec_driver_sql(definition)
        connection.commit()
    fold_count_deltas()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # The count tables too: with no statistics the planner reads all of `ticket_counts`
        # for the first day with a filter (2 ms) instead of probing its primary key (0.03 ms).
        connection.exec_driver_sql(
            "VACUUM ANALYZE tickets, ticket_comments, ticket_counts, ticket_count_totals, "
            "ticket_count_deltas"
        )


def _copy_into(table: str, columns: tuple[str, ...]) -> str:
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN"


def _insert_sqlite(
    engine: sa.Engine,
    rows: Iterator[tuple[object, ...]],
    comments: Callable[[Sequence[int]], Iterator[tuple[object, ...]]],
) -> None:
    """Multi-row INSERTs of `rows`, then their comments (the search triggers index both)."""
    with engine.connect() as connection:
        first_id = connection.exec_driver_sql("SELECT coalesce(max(id), 0) + 1 FROM tickets")
        first_id = first_id.scalar_one()
    _insert_batches(engine, Ticket.__table__, COLUMNS, rows)
    with engine.connect() as connection:
        last_id = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM tickets")
        last_id = last_id.scalar_one()
    _insert_batches(
        engine, TicketComment.__table__, COMMENT_COLUMNS, comments(range(first_id, last_id + 1))
    )
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE tickets")


def _insert_batches(
    engine: sa.Engine, table: sa.Table, columns: tuple[str, ...], rows: Iterator[tuple[object, ...]]
) -> None:
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == _SQLITE_BATCH:
            with engine.begin() as connection:
                connection.execute(sa.insert(table), batch)
            batch.clear()
    if batch:
        with engine.begin() as connection:
            connection.execute(sa.insert(table), batch)


def load_tickets(database_url: str, count: int, *, seed: int) -> float:
    """Add `count` generated tickets to the database at `database_url`; return the seconds taken.

    Each ticket gets COMMENTS_PER_TICKET comments. PostgreSQL: one COPY each for tickets and
    comments into staging tables, then one INSERT ... SELECT each with the search documents
    built in it (the trigger-kept counts get one delta for the whole load), then VACUUM
    ANALYZE; when the load more than doubles the table, secondary indexes are dropped and
    rebuilt around it. SQLite: multi-row INSERTs of 5,000.
    No statement timeout applies.
    """
    started = time.perf_counter()
    existing = stored_tickets()
    engine = create_db_engine(database_url, statement_timeout_ms=0)
    try:
        now = utc_now()
        rows = generate_tickets(count, seed=seed + existing, now=now)

        def comments(ticket_ids: Sequence[int]) -> Iterator[tuple[object, ...]]:
            return generate_comments(
                ticket_ids, per_ticket=COMMENTS_PER_TICKET, seed=seed + existing, now=now
            )

        if engine.dialect.name == "postgresql":
            _copy_postgres(engine, rows, count > existing, comments)
        else:
            _insert_sqlite(engine, rows, comments)
    finally:
        engine.dispose()
    return time.perf_counter() - started


@dataclass(frozen=True)
class BenchTargets:
    """What the benchmark's requests point at: ticket ids to read and change, a deep cursor id."""

    ticket_ids: list[int]
    deep_ticket_id: int


def bench_targets(sample: int = 500, depth: float = 0.9) -> BenchTargets:
    """Ticket ids for the benchmark's requests; needs tickets in the database.

    `sample` ids spread over the table, and the id of the ticket `depth` (a share) of the way
    down the newest-first list, whose next page is the "deep page".
    """
    order = (Ticket.created_at.desc(), Ticket.id.desc())
    with service_session() as session:
        total = stored_tickets()
        highest = session.execute(sa.select(sa.func.max(Ticket.id))).scalar_one()
        step = max(1, highest // sample)
        ids = list(
            session.execute(sa.select(Ticket.id).where(Ticket.id % step == 0).limit(sample))
            .scalars()
            .all()
        )
        deep = session.execute(
            sa.select(Ticket.id).order_by(*order).offset(int(total * depth)).limit(1)
        ).scalar_one()
    return BenchTargets(ticket_ids=ids, deep_ticket_id=deep)


@dataclass(frozen=True)
class BenchAdmin:
    """The generated admin the benchmark authenticates as, with its token's secret and id."""

    email: str
    token: str
    token_id: int


BENCH_ADMIN_EMAIL = "bench-admin@example.com"
"""The one admin every benchmark run signs in as: a new admin per run made the team, which an
unowned ticket's service-level notices go to, grow by one per run (86 after a few days of runs:
every breach a PATCH caused then wrote 86 notifications), so runs measured a different desk."""


def create_bench_admin() -> BenchAdmin:
    """The benchmark's admin (created on first use, active) with a new read-write API token.

    Its password is generated and never shown, so no one signs in as it.
    """
    try:
        users.create_user(BENCH_ADMIN_EMAIL, "admin", secrets.token_urlsafe(24), actor=_BENCH_ACTOR)
    except ConflictError:
        users.set_role(BENCH_ADMIN_EMAIL, "admin", actor=_BENCH_ACTOR)
        users.set_active(BENCH_ADMIN_EMAIL, True, actor=_BENCH_ACTOR)
    secret, token = tokens.create_token(BENCH_ADMIN_EMAIL, "bench", actor=_BENCH_ACTOR)
    return BenchAdmin(email=BENCH_ADMIN_EMAIL, token=secret, token_id=token.id)


def retire_bench_admin(admin: BenchAdmin) -> None:
    """Revoke the benchmark's token.

    The admin stays (users are never deleted, and the last active admin cannot be
    deactivated); its password was generated and never shown, so no one can sign in as it.
    """
    tokens.revoke_token(admin.token_id, actor=_BENCH_ACTOR)
