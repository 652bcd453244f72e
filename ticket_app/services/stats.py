"""Ticket statistics: what the tickets matching a list filter add up to.

`ticket_stats` aggregates the tickets matching any list filter (with the dashboard's workload
on request): from the trigger-kept counts (`services.counts`) when the filters allow, else by
one aggregate SELECT. `created_and_resolved_per_day` is the dashboard's flow chart and
`triage_override_stats` how often staff overrode the classifier.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ticket_app.models import (
    Category,
    Priority,
    StaffUser,
    Status,
    Ticket,
    TicketEvent,
    utc_now,
)
from ticket_app.models.audit import RESOLVED_EVENT_PREDICATE
from ticket_app.schemas import AssigneeLoad, TicketFilters, TicketStats, TriageOverrideStats
from ticket_app.services.counts import (
    OVERRIDDEN,
    SUGGESTED,
    counted_tag_breakdown,
    counted_triage_overrides,
    reads_counts,
    stats_from_counts,
)
from ticket_app.services.database import service_session
from ticket_app.services.errors import InvalidInputError
from ticket_app.services.tags import tag_counts
from ticket_app.services.ticket_query import filter_clauses


def _utc_date(value: datetime | str | None) -> date | None:
    """A calendar date (UTC) from an aggregate value, which SQLite returns as text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.date()


UNASSIGNED_NAME = "Unassigned"


def _open_by_assignee(
    session: Session, clauses: list[sa.ColumnElement[bool]]
) -> list[AssigneeLoad]:
    """Open tickets among those matching `clauses`, per assignee: most first, then by name."""
    query = (
        sa.select(Ticket.assignee_id, StaffUser.name, sa.func.count().label("open"))
        .select_from(Ticket)
        .outerjoin(StaffUser, StaffUser.id == Ticket.assignee_id)
        .where(*clauses, Ticket.status == Status.OPEN.value)
        .group_by(Ticket.assignee_id, StaffUser.name)
    )
    loads = [
        AssigneeLoad(assignee_id=assignee_id, name=name or UNASSIGNED_NAME, open=int(count))
        for assignee_id, name, count in session.execute(query).all()
    ]
    return sorted(loads, key=lambda load: (-load.open, load.assignee_id is None, load.name))


def _median_first_reply_seconds(
    session: Session, clauses: list[sa.ColumnElement[bool]]
) -> float | None:
    """Median seconds from creation to first public reply, over matching tickets with a reply.

    Only tickets with a requester e-mail address count: on a ticket without one a public reply
    is recorded only (nobody is mailed), so it says nothing about how fast customers hear
    back. PostgreSQL reads the middle of the waits' partial index (migration 0031): one
    statement counts the matching waits once (a CTE) and averages the middle one (odd count)
    or two (even), which is what `percentile_cont(0.5)` gives, without sorting; for no filter
    or enum filters both reads are index-only scans.
    SQLite has no percentile function, so the waits are fetched and the median taken in
    Python. None when no matching ticket has a reply.
    """
    replied = [
        *clauses,
        Ticket.first_public_reply_at.is_not(None),
        Ticket.requester_email.is_not(None),
    ]
    if session.get_bind().dialect.name == "postgresql":
        wait = Ticket.first_public_reply_at - Ticket.created_at
        counted = sa.select(sa.func.count().label("n")).where(*replied).cte("counted")
        middle = (
            sa.select(sa.func.extract("epoch", wait).label("seconds"))
            .where(*replied)
            .order_by(wait)
            .offset(sa.select((counted.c.n - 1) // 2).scalar_subquery())
            .limit(sa.select(2 - counted.c.n % 2).scalar_subquery())
            .subquery()
        )
        median = session.execute(sa.select(sa.func.avg(middle.c.seconds))).scalar()
        return None if median is None else round(float(median), 3)
    rows = session.execute(
        sa.select(Ticket.created_at, Ticket.first_public_reply_at).where(*replied)
    ).all()
    if not rows:
        return None
    return round(statistics.median((reply - created).total_seconds() for created, reply in rows), 3)


def ticket_stats(
    filters: TicketFilters | None = None, *, today: date | None = None, workload: bool = False
) -> TicketStats:
    """Aggregate statistics over the tickets matching `filters` (every list filter applies).

    Enum-only filters (or none) are answered from the trigger-kept count tables in constant
    time (`stats_from_counts`). Any other filter: the database computes every count and the
    earliest creation time in a single aggregate SELECT; Python only divides. See TicketStats
    for the definition of avg_tickets_per_day. With `workload`, open tickets per assignee and
    the median time to first public reply are added, one query each (they grow with the
    number of open or replied tickets, so the dashboard asks for them and plain stats do not;
    on SQLite the median is computed in Python from the fetched durations). `today` (UTC) is
    a parameter so the arithmetic can be checked. `tag_breakdown` is one more query: from the
    tag counts for enum-only filters, else grouped on the tags' index.
    """
    filters = filters or TicketFilters()
    if reads_counts(filters):
        stats = _with_tags(stats_from_counts(filters, today=today or utc_now().date()), filters)
        return _with_workload(stats, filters) if workload else stats

    def count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    columns = [
        sa.func.count().label("total"),
        sa.func.min(Ticket.created_at).label("first_created"),
        *(count_where(Ticket.status == s.value).label(f"status_{s.value}") for s in Status),
        *(count_where(Ticket.priority == p.value).label(f"priority_{p.value}") for p in Priority),
        *(count_where(Ticket.category == c.value).label(f"category_{c.value}") for c in Category),
    ]
    with service_session() as session:
        clauses = filter_clauses(session, filters)
        row = session.execute(sa.select(*columns).select_from(Ticket).where(*clauses))
        row = row.mappings().one()
    total = int(row["total"])
    first_day = _utc_date(row["first_created"])
    today = today or utc_now().date()
    days = (max(today, first_day) - first_day).days + 1 if first_day else 0
    stats = TicketStats(
        total_tickets=total,
        open_tickets=int(row[f"status_{Status.OPEN.value}"]),
        avg_tickets_per_day=round(total / days, 2) if days else 0.0,
        status_breakdown={s: int(row[f"status_{s.value}"]) for s in Status},
        priority_breakdown={p: int(row[f"priority_{p.value}"]) for p in Priority},
        category_breakdown={c: int(row[f"category_{c.value}"]) for c in Category},
    )
    stats = _with_tags(stats, filters)
    return _with_workload(stats, filters) if workload else stats


def _with_tags(stats: TicketStats, filters: TicketFilters) -> TicketStats:
    """`stats` with the top tags of the tickets matching `filters`.

    Enum-only filters (`reads_counts`) read the trigger-kept tag counts; other filters group
    the matching tickets' tag rows.
    """
    if reads_counts(filters):
        breakdown = counted_tag_breakdown(filters)
    else:
        with service_session() as session:
            breakdown = tag_counts(session, filter_clauses(session, filters))
    return stats.model_copy(update={"tag_breakdown": breakdown})


def _with_workload(stats: TicketStats, filters: TicketFilters) -> TicketStats:
    """`stats` with open tickets per assignee and the median time to first public reply."""
    with service_session() as session:
        clauses = filter_clauses(session, filters)
        loads = _open_by_assignee(session, clauses)
        median = _median_first_reply_seconds(session, clauses)
    return stats.model_copy(
        update={"open_by_assignee": loads, "median_first_reply_seconds": median}
    )


# Statuses that end the work on a ticket: reaching one of them from another counts as resolving.
DONE_STATUSES = (Status.RESOLVED.value, Status.CLOSED.value)
# A status change into a done status, written as the partial index's predicate (literals, not
# bound values: SQLite uses a partial index only for a WHERE that repeats its terms).
RESOLVED_EVENT = (sa.text(RESOLVED_EVENT_PREDICATE),)
# The longest period the created-versus-resolved chart covers, in days.
MAX_FLOW_DAYS = 366


@dataclass(frozen=True)
class DayFlow:
    """One UTC day of the created-versus-resolved chart: tickets created, tickets resolved."""

    day: date
    created: int
    resolved: int


def _utc_day(session: Session, column: Any) -> sa.ColumnElement[Any]:
    """The UTC calendar day of a timestamp column (SQLite gives it as "YYYY-MM-DD" text)."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    return sa.func.date(column)


def created_and_resolved_per_day(
    filters: TicketFilters | None = None, *, days: int = 14, today: date | None = None
) -> list[DayFlow]:
    """Tickets created and resolved on each of the last `days` UTC days, oldest first.

    Every day of the period is listed, zeros included; the last is `today` (UTC, by default
    the current day). Both counts cover the tickets matching `filters` (as they are now: a
    status filter of `open` leaves none resolved). Resolved is read from the audit trail: a
    status change into resolved or closed from another status, so a ticket resolved, reopened
    and resolved again counts on both days, and resolved then closed counts once. Tickets
    imported as already resolved have no such event and are not counted. Two grouped queries;
    the events' side walks the partial index of status changes (migration 0024) over the
    period. Raises InvalidInputError for `days` outside 1..MAX_FLOW_DAYS, and
    DatabaseUnavailableError when the database is down.
    """
    if not 1 <= days <= MAX_FLOW_DAYS:
        raise InvalidInputError("days", f"days must be between 1 and {MAX_FLOW_DAYS}")
    last = today or utc_now().date()
    first = last - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    filters = filters or TicketFilters()
    with service_session() as session:
        clauses = filter_clauses(session, filters)
        created_day = _utc_day(session, Ticket.created_at)
        created = session.execute(
            sa.select(created_day, sa.func.count())
            .where(*clauses, Ticket.created_at >= start)
            .group_by(created_day)
        ).all()
        event_day = _utc_day(session, TicketEvent.created_at)
        resolved = session.execute(
            sa.select(event_day, sa.func.count())
            .select_from(TicketEvent)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(
                *clauses,
                *RESOLVED_EVENT,
                sa.or_(
                    TicketEvent.old_value.is_(None), TicketEvent.old_value.not_in(DONE_STATUSES)
                ),
                TicketEvent.created_at >= start,
            )
            .group_by(event_day)
        ).all()
    created_on = {_as_date(day): int(n) for day, n in created}
    resolved_on = {_as_date(day): int(n) for day, n in resolved}
    period = [first + timedelta(days=offset) for offset in range(days)]
    return [DayFlow(day, created_on.get(day, 0), resolved_on.get(day, 0)) for day in period]


def _as_date(value: date | str) -> date:
    """A grouped day as a date (SQLite's `date()` returns text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def triage_override_stats(filters: TicketFilters | None = None) -> TriageOverrideStats:
    """How many matching tickets carry a classifier suggestion and how many staff overrode.

    Enum-only filters (or none, `reads_counts`) read the trigger-kept totals
    (`counted_triage_overrides`, constant time); any other filter sums `SUGGESTED` and
    `OVERRIDDEN` over the matching tickets in one query. Raises DatabaseUnavailableError when
    the database is down.
    """
    filters = filters or TicketFilters()
    if reads_counts(filters):
        suggested, overridden_count = counted_triage_overrides(filters)
    else:
        with service_session() as session:
            query = sa.select(
                sa.func.coalesce(sa.func.sum(SUGGESTED), 0),
                sa.func.coalesce(sa.func.sum(OVERRIDDEN), 0),
            ).where(*filter_clauses(session, filters))
            suggested, overridden_count = session.execute(query).one()
    suggested, overridden_count = int(suggested), int(overridden_count)
    rate = round(overridden_count / suggested, 4) if suggested else 0.0
    return TriageOverrideStats(suggested=suggested, overridden=overridden_count, override_rate=rate)
