"""The SLA report on both databases: met / breached / on time per target from tickets whose
history is set to controlled instants, percentiles against hand-computed answers, the list's
filters, and business hours of a calendar with a lunch break; and migration 0025's backfill."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.auth import add_ticket, add_user
from ticket_app.enums import ActorKind, EventKind, Role
from ticket_app.models import Ticket, TicketComment, TicketEvent, utc_now
from ticket_app.schemas import SlaCalendarWrite, SlaPolicyWrite, TicketFilters
from ticket_app.services import sla, sla_policies
from ticket_app.services.database import service_session
from ticket_app.services.migrations import downgrade_database, upgrade_database
from ticket_app.services.sla_report import sla_report

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MEASURES = (
    "first_response_business_minutes",
    "resolution_business_minutes",
    "next_responses_met",
    "next_responses_breached",
)


def ticket_with_history(
    *,
    priority: str,
    created: datetime,
    staff: int,
    replies: Sequence[datetime] = (),
    customer: Sequence[datetime] = (),
    resolved: datetime | None = None,
    assignee: int | None = None,
) -> int:
    """A ticket whose creation, public staff replies, customer messages and resolution happened
    at these instants (written straight into its rows); not refreshed yet."""
    ticket_id = add_ticket(priority=priority, assignee_id=assignee)
    with service_session() as session:
        ticket = session.get(Ticket, ticket_id)
        ticket.created_at = created
        for at in replies:
            session.add(
                TicketComment(
                    ticket_id=ticket_id,
                    author_user_id=staff,
                    author_label="agent@example.com",
                    body="On it",
                    public=True,
                    created_at=at,
                )
            )
        for at in customer:
            session.add(
                TicketComment(
                    ticket_id=ticket_id,
                    author_label="customer@example.com",
                    body="Any news?",
                    public=True,
                    created_at=at,
                )
            )
        if resolved is not None:
            ticket.status = "resolved"
            session.add(
                TicketEvent(
                    ticket_id=ticket_id,
                    actor_kind=ActorKind.SYSTEM,
                    actor_label="tests",
                    kind=EventKind.CHANGED,
                    field="status",
                    old_value="open",
                    new_value="resolved",
                    created_at=resolved,
                )
            )
    return ticket_id


def refresh(ids: Sequence[int], now: datetime) -> None:
    with service_session() as session:
        sla.refresh_tickets_sla(session, ids, now)


def figures(report, target: str, priority: str | None) -> tuple[int, int, int]:
    (row,) = [
        row
        for row in report.compliance
        if row.target == target and (row.priority and row.priority.value) == priority
    ]
    return row.met, row.breached, row.on_time


def build_scenario(now: datetime) -> dict[str, int]:
    """High (first response 4 h, next 8 h, resolution 24 h) and critical (1 h, 2 h, 8 h)
    tickets on the seeded 24/7 policies; see each ticket's comment for its verdicts."""
    staff = add_user(Role.AGENT).id
    alice = add_user(Role.AGENT, "alice@example.com").id
    bob = add_user(Role.AGENT, "bob@example.com").id
    high = {"priority": "high", "staff": staff}
    ids = {
        # replied after 60 min: first response met; resolution running (10 h of 24): on time
        "a": ticket_with_history(**high, created=now - 10 * HOUR, replies=[now - 9 * HOUR]),
        # replied after 6 h: first response breached (missed)
        "b": ticket_with_history(
            **high, created=now - 10 * HOUR, replies=[now - 4 * HOUR], assignee=alice
        ),
        # no reply for 5 h: first response breached (overdue)
        "c": ticket_with_history(**high, created=now - 5 * HOUR, assignee=alice),
        # no reply for 2 h: first response open and on time
        "d": ticket_with_history(**high, created=now - 2 * HOUR),
        # replied after 60 min, resolved after 5 h: both met
        "e": ticket_with_history(
            **high, created=now - 30 * HOUR, replies=[now - 29 * HOUR], resolved=now - 25 * HOUR
        ),
        # resolved after 29 h without a reply: both breached
        "f": ticket_with_history(
            **high, created=now - 30 * HOUR, resolved=now - HOUR, assignee=bob
        ),
        # critical: replied after 30 min; one customer message answered in 1 h (met), one
        # unanswered for 10 h (breached); resolution breached (20 h of 8)
        "g": ticket_with_history(
            priority="critical",
            staff=staff,
            created=now - 20 * HOUR,
            replies=[now - 19.5 * HOUR, now - 17 * HOUR],
            customer=[now - 18 * HOUR, now - 10 * HOUR],
            assignee=bob,
        ),
        # critical: replied after 20 min; a customer message waiting 1 h of 2 (on time)
        "h": ticket_with_history(
            priority="critical",
            staff=staff,
            created=now - 3 * HOUR,
            replies=[now - 3 * HOUR + 20 * MINUTE],
            customer=[now - HOUR],
        ),
    }
    refresh(list(ids.values()), now)
    return ids


def test_compliance_per_target_and_priority_follows_each_clock(db: Engine) -> None:
    now = utc_now()
    build_scenario(now)

    report = sla_report(now=now)

    assert figures(report, "first_response", "high") == (2, 3, 1)
    assert figures(report, "resolution", "high") == (1, 1, 4)
    assert figures(report, "next_response", "high") == (0, 0, 0)
    assert figures(report, "first_response", "critical") == (2, 0, 0)
    assert figures(report, "next_response", "critical") == (1, 1, 1)
    assert figures(report, "resolution", "critical") == (0, 1, 1)
    assert figures(report, "first_response", None) == (4, 3, 1)
    assert figures(report, "first_response", "low") == (0, 0, 0)
    (everything,) = [
        row for row in report.compliance if row.target == "first_response" and not row.priority
    ]
    assert everything.met_percent == round(100 * 4 / 7, 1)


def test_an_overdue_target_counts_as_breached_before_the_check_records_it(db: Engine) -> None:
    now = utc_now()
    staff = add_user(Role.AGENT).id
    ticket_id = ticket_with_history(priority="critical", staff=staff, created=now - 30 * MINUTE)
    refresh([ticket_id], now)

    assert figures(sla_report(now=now), "first_response", "critical") == (0, 0, 1)
    assert figures(sla_report(now=now + HOUR), "first_response", "critical") == (0, 1, 0)


def test_percentiles_match_the_hand_computed_answer(db: Engine) -> None:
    now = utc_now()
    build_scenario(now)

    report = sla_report(TicketFilters(priority="high"), now=now)

    # first responses of a, b and e: 60, 360 and 60 minutes. Sorted [60, 60, 360]: the
    # median is 60 min; the 90th percentile sits at 0.9 x 2 = 1.8: 60 + 0.8 x 300 = 300 min.
    assert report.first_response_time.model_dump() == {
        "tickets": 3,
        "median_hours": 1.0,
        "p90_hours": 5.0,
    }
    # resolutions of e and f: 300 and 1740 minutes: median 1020 min, p90 300 + 0.9 x 1440.
    assert report.resolution_time.model_dump() == {
        "tickets": 2,
        "median_hours": 17.0,
        "p90_hours": 26.6,
    }


def test_the_list_filters_apply_and_breaches_are_counted_per_assignee(db: Engine) -> None:
    now = utc_now()
    build_scenario(now)

    everyone = sla_report(now=now).breaches_by_assignee
    critical = sla_report(TicketFilters(priority="critical"), now=now)

    assert [
        (row.name, row.first_response, row.next_response, row.resolution, row.total)
        for row in everyone
    ] == [("bob", 1, 1, 2, 4), ("alice", 2, 0, 0, 2)]
    assert figures(critical, "first_response", None) == (2, 0, 0)
    assert figures(critical, "first_response", "high") == (0, 0, 0)
    assert critical.first_response_time.tickets == 2
    assert [(row.name, row.total) for row in critical.breaches_by_assignee] == [("bob", 2)]
    searched = sla_report(TicketFilters(search="no such words anywhere"), now=now)
    assert figures(searched, "resolution", None) == (0, 0, 0)
    assert searched.first_response_time.median_hours is None


def lunch_break_policy() -> None:
    """The low priority's policy counts Monday-Friday 09:00-12:00 and 13:00-17:00 UTC."""
    day = [("09:00", "12:00"), ("13:00", "17:00")]
    calendar = sla_policies.create_calendar(
        SlaCalendarWrite(
            name="Office with lunch",
            time_zone="UTC",
            weekly_hours={
                "monday": day,
                "tuesday": day,
                "wednesday": day,
                "thursday": day,
                "friday": day,
                "saturday": [],
                "sunday": [],
            },
        ),
        actor=SYSTEM,
    )
    (policy,) = [
        p
        for p in sla_policies.list_policies(actor=SYSTEM)
        if p.priority.value == "low" and p.category is None
    ]
    sla_policies.update_policy(
        policy.id,
        SlaPolicyWrite(
            name=policy.name,
            calendar_id=calendar.id,
            first_response_minutes=policy.first_response_minutes,
            next_response_minutes=policy.next_response_minutes,
            resolution_minutes=policy.resolution_minutes,
        ),
        actor=SYSTEM,
    )


def test_times_are_business_hours_skipping_lunch_and_the_night(db: Engine) -> None:
    lunch_break_policy()
    staff = add_user(Role.AGENT).id
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    ticket_id = ticket_with_history(
        priority="low",
        staff=staff,
        created=monday + 11 * HOUR,
        replies=[monday + 14 * HOUR],
        resolved=monday + 34 * HOUR,  # Tuesday 10:00
    )
    refresh([ticket_id], monday + 3 * 24 * HOUR)

    report = sla_report(TicketFilters(priority="low"), now=monday + 3 * 24 * HOUR)

    # 11-12 and 13-14: 2 hours; to resolution also 14-17 and Tuesday 9-10: 6 hours
    assert report.first_response_time.median_hours == 2.0
    assert report.resolution_time.median_hours == 6.0
    assert figures(report, "first_response", "low") == (1, 0, 0)
    assert figures(report, "resolution", "low") == (1, 0, 0)


def stored_measures(ids: Sequence[int]) -> dict[int, tuple]:
    with service_session() as session:
        rows = session.execute(
            sa.select(Ticket.id, *(getattr(Ticket, name) for name in MEASURES)).where(
                Ticket.id.in_(ids)
            )
        )
        return {row[0]: tuple(row[1:]) for row in rows}


def test_migration_0025_backfills_the_measures_and_goes_down(db: Engine, database_url: str) -> None:
    now = utc_now()
    ids = build_scenario(now)
    expected = stored_measures(list(ids.values()))
    assert expected[ids["e"]] == (60.0, 300.0, 0, 0)
    assert expected[ids["g"]] == (30.0, None, 1, 1)
    try:
        downgrade_database(database_url, "0024")
        db.dispose()
        columns = {c["name"] for c in sa.inspect(db).get_columns("tickets")}
        assert not columns & set(MEASURES)
    finally:
        upgrade_database(database_url)
        db.dispose()
    assert stored_measures(list(ids.values())) == expected
