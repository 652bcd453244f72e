"""The trigger-kept ticket counts: exact under concurrent writes, repaired by `counts rebuild`,
and the totals the list and stats answer from them (or count, capped, otherwise)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.conftest import SYSTEM
from tests.support.tickets import make_ticket
from ticket_app.cli import app
from ticket_app.models import Category, Priority, Status
from ticket_app.schemas import TicketCreate, TicketFilters, TicketUpdate
from ticket_app.services import counts, stats, tickets
from ticket_app.services.imports.write import import_records
from ticket_app.settings import get_settings

WORKERS = 6
ROUNDS = 25


SUGGESTED_SQL = "CASE WHEN suggested_category IS NOT NULL THEN 1 ELSE 0 END"
OVERRIDDEN_SQL = (
    "CASE WHEN suggested_category IS NOT NULL AND (category <> suggested_category "
    "OR priority <> suggested_priority) THEN 1 ELSE 0 END"
)


def _day(engine: Engine) -> str:
    if engine.dialect.name == "postgresql":
        return "(created_at AT TIME ZONE 'UTC')::date"
    return "date(created_at)"


def stored_and_actual(engine: Engine) -> dict[str, tuple[dict, dict]]:
    """Per table: (what it holds plus the pending deltas, ignoring zeros; count(*) over tickets)."""
    day = _day(engine)
    with engine.connect() as connection:

        def rows(sql: str) -> dict:
            return {
                tuple(str(v) for v in row[:-1]): row[-1] for row in connection.execute(sa.text(sql))
            }

        return {
            "ticket_counts": (
                rows(
                    "SELECT day, status, category, priority, sum(n) FROM (SELECT day, status, "
                    "category, priority, n FROM ticket_counts UNION ALL SELECT day, status, "
                    "category, priority, n FROM ticket_count_deltas) AS c "
                    "GROUP BY day, status, category, priority HAVING sum(n) <> 0"
                ),
                rows(
                    f"SELECT {day}, status, category, priority, count(*) FROM tickets "
                    f"GROUP BY {day}, status, category, priority"
                ),
            ),
            "ticket_count_totals": (
                rows(
                    "SELECT status, category, priority, sum(n) FROM (SELECT status, category, "
                    "priority, n FROM ticket_count_totals UNION ALL SELECT status, category, "
                    "priority, n FROM ticket_count_deltas) AS c "
                    "GROUP BY status, category, priority HAVING sum(n) <> 0"
                ),
                rows("SELECT status, category, priority, count(*) FROM tickets GROUP BY 1, 2, 3"),
            ),
            "triage overrides": (
                rows(
                    "SELECT status, category, priority, sum(suggested), sum(overridden), 0 "
                    "FROM (SELECT status, category, priority, suggested, overridden "
                    "FROM ticket_count_totals UNION ALL SELECT status, category, priority, "
                    "suggested, overridden FROM ticket_count_deltas) AS c "
                    "GROUP BY status, category, priority "
                    "HAVING sum(suggested) <> 0 OR sum(overridden) <> 0"
                ),
                rows(
                    f"SELECT status, category, priority, sum({SUGGESTED_SQL}), "
                    f"sum({OVERRIDDEN_SQL}), 0 FROM tickets GROUP BY 1, 2, 3 "
                    f"HAVING sum({SUGGESTED_SQL}) <> 0"
                ),
            ),
        }


def assert_counts_exact(engine: Engine) -> None:
    for table, (stored, actual) in stored_and_actual(engine).items():
        assert stored == actual, table


def random_labels(rng: random.Random) -> dict[str, str]:
    return {
        "category": rng.choice(list(Category)).value,
        "priority": rng.choice(list(Priority)).value,
        "status": rng.choice(list(Status)).value,
    }


def test_counts_stay_exact_under_concurrent_creates_updates_imports_and_deletes(
    db: Engine,
) -> None:
    """Threads create, relabel, backdate, import and delete at once; every count = count(*)."""
    seed = [
        tickets.create_ticket(
            TicketCreate(
                title=f"Seed {n}", description="Seed ticket", **random_labels(random.Random(n))
            ),
            actor=SYSTEM,
        ).id
        for n in range(20)
    ]
    failures: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def creator(number: int) -> None:
        rng = random.Random(number)
        for n in range(ROUNDS):
            data = TicketCreate(title=f"T{number}-{n}", description="Created", **random_labels(rng))
            tickets.create_ticket(data, actor=SYSTEM)

    def updater(number: int) -> None:
        rng = random.Random(100 + number)
        for _ in range(ROUNDS):
            labels = random_labels(rng)
            changes = {key: labels[key] for key in rng.sample(sorted(labels), rng.randint(1, 3))}
            tickets.update_ticket(rng.choice(seed), TicketUpdate(**changes), actor=SYSTEM)

    def importer(number: int) -> None:
        rng = random.Random(200 + number)
        records = [
            (
                line,
                {
                    "description": f"Imported {number}-{line}",
                    "created_at": (
                        datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=line * 7)
                    ).isoformat(),
                    **random_labels(rng),
                },
            )
            for line in range(1, 4 * ROUNDS)
        ]
        import_records(records, classify=False, batch_size=7)

    def backdater_and_deleter(number: int) -> None:
        """Raw SQL, as a person with psql would: moves tickets across days, deletes some."""
        rng = random.Random(300 + number)
        for n in range(ROUNDS):
            with db.begin() as connection:
                if n % 3 == 0:
                    connection.execute(
                        sa.text(
                            "DELETE FROM tickets WHERE id = "
                            "(SELECT max(id) FROM tickets WHERE id > :seeded)"
                        ),
                        {"seeded": max(seed)},
                    )
                else:
                    moved = datetime(2025, 6, 1, 23, 30, tzinfo=UTC) + timedelta(
                        days=rng.randint(0, 300)
                    )
                    connection.execute(
                        sa.text("UPDATE tickets SET created_at = :moved WHERE id = :id"),
                        {"moved": moved, "id": rng.choice(seed)},
                    )

    def bulk_updater(number: int) -> None:
        """One statement changing many tickets' labels (a bulk close)."""
        for n in range(ROUNDS // 5):
            with db.begin() as connection:
                connection.execute(
                    sa.text("UPDATE tickets SET status = :status WHERE id % 4 = :rest"),
                    {"status": list(Status)[n % 4].value, "rest": n % 4},
                )

    roles = [creator, creator, updater, importer, backdater_and_deleter, bulk_updater]

    def run(role, number: int) -> None:
        try:
            start.wait()
            role(number)
        except BaseException as exc:  # reported below, with the thread's role
            failures.append(exc)

    threads = [
        threading.Thread(target=run, args=(role, number)) for number, role in enumerate(roles)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert_counts_exact(db)
    assert counts.rebuild_counts().fixes == []


def test_rebuild_reports_and_repairs_drifted_counts(db: Engine) -> None:
    for n in range(3):
        tickets.create_ticket(
            TicketCreate(title=f"T{n}", description="d", category="billing", priority="high"),
            actor=SYSTEM,
        )
    today = datetime.now(UTC).date().isoformat()
    counts.fold_count_deltas()
    with db.begin() as connection:
        # Triggers bypassed by hand: one count inflated, one total row lost.
        connection.execute(sa.text("UPDATE ticket_counts SET n = n + 5 WHERE n > 0"))
        connection.execute(sa.text("DELETE FROM ticket_count_totals"))
    report = counts.rebuild_counts()
    assert sorted((fix.table, fix.key, fix.stored, fix.actual) for fix in report.fixes) == [
        ("ticket_count_totals", ("open", "billing", "high"), 0, 3),
        ("ticket_counts", (today, "open", "billing", "high"), 8, 3),
    ]
    assert_counts_exact(db)
    assert stats.ticket_stats().total_tickets == 3
    assert counts.rebuild_counts().fixes == []


def test_counts_rebuild_command(db: Engine, database_url: str) -> None:
    tickets.create_ticket(
        TicketCreate(title="T", description="d", category="account", priority="low"), actor=SYSTEM
    )
    runner = CliRunner()
    exact = runner.invoke(app, ["counts", "rebuild", "--database-url", database_url])
    assert exact.exit_code == 0, exact.output
    assert "every count was exact; 1 (day, status, category, priority) rows now" in exact.output
    counts.fold_count_deltas()
    with db.begin() as connection:
        connection.execute(sa.text("UPDATE ticket_count_totals SET n = 7"))
    fixed = runner.invoke(app, ["counts", "rebuild", "--database-url", database_url])
    assert fixed.exit_code == 0, fixed.output
    assert "ticket_count_totals  open/account/low  7       1" in fixed.output
    assert "fixed 1 counts" in fixed.output


def test_enum_filtered_totals_are_exact_and_others_capped(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enum filters: exact from the counts; a search beyond the cap: an estimate, flagged."""
    for n in range(6):
        make_ticket(client, title=f"Printer {n}", status="open" if n % 2 else "closed")
    monkeypatch.setattr(get_settings(), "count_cap", 4)

    enum_only = client.get("/api/tickets/", params={"status": "open", "limit": 1})
    assert enum_only.headers["X-Total-Count"] == "3"
    assert enum_only.headers["X-Total-Count-Exact"] == "true"

    under_cap = client.get("/api/tickets/", params={"search": "printer", "status": "open"})
    assert under_cap.headers["X-Total-Count"] == "3"
    assert under_cap.headers["X-Total-Count-Exact"] == "true"

    over_cap = client.get("/api/tickets/", params={"search": "printer", "limit": 2})
    assert over_cap.headers["X-Total-Count-Exact"] == "false"
    assert int(over_cap.headers["X-Total-Count"]) >= 4
    assert len(over_cap.json()) == 2

    page = tickets.list_tickets(TicketFilters(q="PRINTER"), limit=1)
    assert (page.total_exact, page.total >= 4) == (False, True)


def test_stats_from_counts_match_the_full_aggregate(client: TestClient) -> None:
    """The counted stats equal the row aggregate for every enum filter combination."""
    rng = random.Random(5)
    for n in range(24):
        make_ticket(client, title=f"T{n}", **random_labels(rng))
    combos = [
        TicketFilters(),
        TicketFilters(status=Status.OPEN),
        TicketFilters(category=Category.BILLING, priority=Priority.HIGH),
        TicketFilters(category=Category.GENERAL, priority=Priority.LOW, status=Status.CLOSED),
    ]
    for filters in combos:
        counted = stats.ticket_stats(filters)
        # A since bound older than every ticket filters nothing but takes the row aggregate.
        aggregated = stats.ticket_stats(
            filters.model_copy(update={"created_since": datetime(2000, 1, 1, tzinfo=UTC)})
        )
        assert counted == aggregated


def pending_deltas(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM ticket_count_deltas")).scalar_one()


INSERT_TICKET = (
    "INSERT INTO tickets (title, description, category, priority, status) "
    "VALUES ('T', 'd', 'billing', 'high', 'open')"
)
CLOSE_TICKET = "UPDATE tickets SET status = 'closed' WHERE id = :id"


def test_writers_of_the_same_count_key_do_not_wait_for_each_other(db: Engine) -> None:
    """PostgreSQL: while one transaction holds an update and an insert of key open/billing/high,
    another's update and insert of that key complete (lock_timeout 2 s), and both count."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    with db.begin() as connection:
        first, second = (
            connection.execute(sa.text(INSERT_TICKET + " RETURNING id")).scalar_one()
            for _ in range(2)
        )
    with db.connect() as holder:
        holder.execute(sa.text(CLOSE_TICKET), {"id": first})
        holder.execute(sa.text(INSERT_TICKET))
        with db.connect() as other:
            other.execute(sa.text("SET lock_timeout = '2s'"))
            other.execute(sa.text(CLOSE_TICKET), {"id": second})
            other.execute(sa.text(INSERT_TICKET))
            other.commit()
        holder.commit()
    assert_counts_exact(db)
    filters = TicketFilters(status=Status.OPEN, category=Category.BILLING, priority=Priority.HIGH)
    assert stats.ticket_stats(filters).total_tickets == 2


def test_folding_deltas_keeps_every_count(db: Engine) -> None:
    """Stats read the same before and after the deltas are folded; a fold empties them."""
    rng = random.Random(7)
    for n in range(12):
        data = TicketCreate(title=f"T{n}", description="d", **random_labels(rng))
        tickets.create_ticket(data, actor=SYSTEM)
    before = stats.ticket_stats()
    folded = counts.fold_count_deltas()
    if db.dialect.name == "postgresql":
        assert folded >= 12
    assert pending_deltas(db) == 0
    assert stats.ticket_stats() == before
    assert_counts_exact(db)
    assert counts.rebuild_counts().fixes == []


def test_a_read_folds_deltas_past_the_threshold(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stats and list totals both fold once more than FOLD_THRESHOLD deltas are pending."""
    monkeypatch.setattr(counts, "FOLD_THRESHOLD", 3)
    for n in range(5):
        tickets.create_ticket(TicketCreate(title=f"T{n}", description="d"), actor=SYSTEM)
    assert stats.ticket_stats().total_tickets == 5
    assert pending_deltas(db) == 0
    for n in range(5):
        tickets.create_ticket(TicketCreate(title=f"U{n}", description="d"), actor=SYSTEM)
    assert tickets.list_tickets(TicketFilters(), limit=1).total == 10
    assert pending_deltas(db) == 0
    assert tickets.list_tickets(TicketFilters(), limit=1).total == 10


def test_first_day_follows_a_ticket_moved_off_it(db: Engine) -> None:
    """The oldest day's only ticket moves to today in a delta not yet folded: the average per
    day counts from today, as the row aggregate does."""
    with db.begin() as connection:
        old = connection.execute(
            sa.text(
                "INSERT INTO tickets (title, description, category, priority, created_at) "
                "VALUES ('Old', 'd', 'general', 'low', :at) RETURNING id"
            ),
            {"at": datetime(2025, 1, 10, 12, tzinfo=UTC)},
        ).scalar_one()
    tickets.create_ticket(TicketCreate(title="New", description="d"), actor=SYSTEM)
    counts.fold_count_deltas()
    with db.begin() as connection:
        connection.execute(
            sa.text("UPDATE tickets SET created_at = :at WHERE id = :id"),
            {"at": datetime.now(UTC), "id": old},
        )
    counted = stats.ticket_stats()
    aggregated = stats.ticket_stats(TicketFilters(created_since=datetime(2000, 1, 1, tzinfo=UTC)))
    assert counted == aggregated
    assert counted.avg_tickets_per_day == 2.0


def test_counts_exact_after_a_bulk_import(db: Engine) -> None:
    """A bulk import (staging table and one INSERT ... SELECT per batch on PostgreSQL): every
    count exact, one audit event per new ticket, open ones marked for the SLA check, and a
    re-run skips every row."""
    rng = random.Random(11)
    records = [
        (
            line,
            {
                "external_id": f"bulk-{line}",
                "description": f"Imported {line}",
                "created_at": (
                    datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=line)
                ).isoformat(),
                **random_labels(rng),
            },
        )
        for line in range(1, 301)
    ]
    report = import_records(records, classify=False, batch_size=120)
    assert (report.inserted, report.already_present) == (300, 0)
    assert_counts_exact(db)
    with db.connect() as connection:
        imported = connection.execute(
            sa.text("SELECT count(DISTINCT ticket_id) FROM ticket_events WHERE kind = 'imported'")
        ).scalar_one()
        unmarked = connection.execute(
            sa.text("SELECT status FROM tickets WHERE sla_next_check_at IS NULL")
        ).scalars()
        assert set(unmarked) <= {"closed"}
    assert imported == 300
    again = import_records(records, classify=False, batch_size=120)
    assert (again.inserted, again.already_present) == (0, 300)
    assert_counts_exact(db)
    assert counts.rebuild_counts().fixes == []
    assert stats.ticket_stats().total_tickets == 300
