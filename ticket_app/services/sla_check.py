"""The service-level background check: tickets whose next check has come, and queued rechecks.

`check_due` (the every-minute job `sla.check`) refreshes (`services.sla.refresh_tickets_sla`)
every ticket whose `sla_next_check_at` has come, through the index on it, so at a million
tickets it reads only what is due; that records breaches and warnings once. Bulk changes and
imports mark their tickets for it (`mark_for_check`, one UPDATE), so their due times follow
within a minute. A policy or calendar edit may concern most open tickets, so it writes none of
them: it queues an `SlaRecheck` (`request_recheck`), which the same job works through in id
order, a batch per transaction, for at most RECHECK_SECONDS per run, resuming where it stopped.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import sqlalchemy as sa
from huey import crontab
from huey.exceptions import TaskLockedException
from sqlmodel import Session

from ticket_app.models import SlaPolicy, SlaRecheck, Status, Ticket, utc_now
from ticket_app.services.database import service_session
from ticket_app.services.sla import PolicyBook, refresh_tickets_sla
from ticket_app.services.task_queue import queue

logger = logging.getLogger(__name__)

CHECK_BATCH_SIZE = 500
"""Tickets refreshed per transaction by the background check."""
CHECK_LOCK = "sla-check"
RECHECK_SECONDS = 30.0
"""How long one run of the every-minute job works through queued rechecks (seconds): the rest
waits for the next minute, so warnings and breaches due meanwhile are not held up by a
recomputation of a million tickets."""


def mark_for_check(
    session: Session | sa.Connection, where: sa.ColumnElement[bool], now: datetime
) -> int:
    """Have the background check recompute the tickets matching `where` (not closed) soon.

    One UPDATE in the caller's transaction (a session or a connection): their
    `sla_next_check_at` becomes `now`. Returns how many were marked.
    """
    result = session.execute(
        sa.update(Ticket)
        .where(where, Ticket.status != Status.CLOSED.value)
        .values(sla_next_check_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def request_recheck(
    session: Session,
    reason: str,
    *,
    priority: str | None = None,
    category: str | None = None,
    calendar_id: int | None = None,
) -> None:
    """Queue the recomputation of the unclosed tickets in this scope, in the caller's transaction.

    The scope is every ticket matching all the given labels (`calendar_id`: the tickets of the
    policies counting in that calendar); none given means every unclosed ticket. One statement
    or two, whatever the number of tickets: `check_due` does the work. A recheck of the same
    scope still queued starts over instead (its walk so far predates this edit), so edits in
    quick succession cost one walk, not one each. `reason` (at most 200 characters) says which
    edit asked for it, for the log.
    """
    now = utc_now()
    restarted = session.execute(
        sa.update(SlaRecheck)
        .where(
            SlaRecheck.priority.is_not_distinct_from(priority),
            SlaRecheck.category.is_not_distinct_from(category),
            SlaRecheck.calendar_id.is_not_distinct_from(calendar_id),
        )
        .values(after_id=0, reason=reason, requested_at=now)
        .execution_options(synchronize_session=False)
    )
    if not restarted.rowcount:
        session.add(
            SlaRecheck(
                reason=reason,
                priority=priority,
                category=category,
                calendar_id=calendar_id,
                requested_at=now,
            )
        )


def _recheck_scope(recheck: SlaRecheck) -> sa.ColumnElement[bool]:
    conditions: list[sa.ColumnElement[bool]] = [Ticket.status != Status.CLOSED.value]
    if recheck.priority is not None:
        conditions.append(Ticket.priority == str(recheck.priority))
    if recheck.category is not None:
        conditions.append(Ticket.category == str(recheck.category))
    if recheck.calendar_id is not None:
        policies = sa.select(SlaPolicy.id).where(SlaPolicy.calendar_id == recheck.calendar_id)
        conditions.append(Ticket.sla_policy_id.in_(policies))
    return sa.and_(*conditions)


def run_rechecks(
    now: datetime,
    *,
    batch_size: int = CHECK_BATCH_SIZE,
    seconds: float | None = None,
) -> int:
    """Work through the queued rechecks, oldest first; returns how many tickets were refreshed.

    Each batch (`batch_size` tickets of one recheck, in id order) is refreshed and the
    recheck's `after_id` moved past it in one transaction, so a stopped worker loses nothing
    and repeats nothing; a finished recheck is deleted. The policies are read after the
    recheck in each batch's transaction, so they include the edit that queued it. With
    `seconds`, no new batch starts once that many seconds have passed since the call (None:
    until the queue is empty).
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    refreshed = 0
    while deadline is None or time.monotonic() < deadline:
        with service_session() as session:
            # Locked until the batch commits: an edit restarting this recheck waits for it
            # rather than have its reset overwritten by this batch's progress.
            recheck = session.execute(
                sa.select(SlaRecheck).order_by(SlaRecheck.id).limit(1).with_for_update()
            ).scalar_one_or_none()
            if recheck is None:
                return refreshed
            ids = (
                session.execute(
                    sa.select(Ticket.id)
                    .where(Ticket.id > recheck.after_id, _recheck_scope(recheck))
                    .order_by(Ticket.id)
                    .limit(batch_size)
                )
                .scalars()
                .all()
            )
            if not ids:
                logger.info("sla recheck %s done: %s", recheck.id, recheck.reason)
                session.delete(recheck)
                continue
            refresh_tickets_sla(session, ids, now, quiet_before=recheck.requested_at)
            recheck.after_id = ids[-1]
            session.add(recheck)
            refreshed += len(ids)
    return refreshed


def check_due(
    now: datetime | None = None,
    *,
    batch_size: int = CHECK_BATCH_SIZE,
    recheck_seconds: float | None = None,
) -> int:
    """The background check: the tickets whose next check has come, then queued rechecks.

    First every ticket whose next check instant is at or before `now` is refreshed, then the
    tickets of queued rechecks (`run_rechecks`, for at most `recheck_seconds`). In batches of
    `batch_size` tickets, one transaction each, soonest first; the policies are loaded once for
    the due tickets. Returns how many tickets were refreshed. A refreshed ticket's next check is
    always after `now`, so each ticket is looked at once per call.
    """
    now = now or utc_now()
    refreshed = 0
    after: tuple[datetime, int] | None = None
    with service_session() as session:
        book = PolicyBook.load(session)
    while True:
        with service_session() as session:
            query = (
                sa.select(Ticket.sla_next_check_at, Ticket.id)
                .where(Ticket.sla_next_check_at <= now)
                .order_by(Ticket.sla_next_check_at, Ticket.id)
                .limit(batch_size)
            )
            if after is not None:
                query = query.where(
                    sa.tuple_(Ticket.sla_next_check_at, Ticket.id) > sa.tuple_(*after)
                )
            rows = session.execute(query).all()
            if not rows:
                break
            refresh_tickets_sla(session, [row.id for row in rows], now, book=book)
            refreshed += len(rows)
            after = (rows[-1].sla_next_check_at, rows[-1].id)
    return refreshed + run_rechecks(now, batch_size=batch_size, seconds=recheck_seconds)


def clear_check_lock() -> None:
    """Release the check's lock (at a worker's start: a killed worker may have held it)."""
    queue.lock_task(CHECK_LOCK).clear()


@queue.periodic_task(crontab(minute="*"), name="sla.check")
def check_job() -> None:
    """Every minute: `check_due` (breaches and warnings recorded, due times recomputed).

    Queued rechecks get RECHECK_SECONDS of each run. One worker at a time: a check still
    running when the next minute starts lets it pass.
    """
    try:
        with queue.lock_task(CHECK_LOCK):
            refreshed = check_due(recheck_seconds=RECHECK_SECONDS)
    except TaskLockedException:
        return
    if refreshed:
        logger.info("sla check: %s tickets refreshed", refreshed)
