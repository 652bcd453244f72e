"""Fetch new mail from every active mailbox, on the task queue's schedule.

Each fetch reads the messages after the mailbox's cursor (UIDVALIDITY and last UID), takes
each in (`mail_inbound.ingest`) and moves the cursor on. A crash between taking a message in
and moving the cursor re-reads that message next time, which is harmless: messages are stored
once by Message-ID. One fetcher per mailbox at a time, across workers and instances: a lock
in the queue's storage (Redis or PostgreSQL when shared). A worker that starts clears locks
left by a killed one (`clear_fetch_locks`); the worst case of that, two fetchers for a moment,
is again only a re-read.

Every minute the schedule job queues each active mailbox's fetches for that minute, one every
MAIL_FETCH_INTERVAL_SECONDS; a fetch that filled its batch queues the next one at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from huey import crontab
from huey.api import TaskLock
from huey.exceptions import TaskLockedException

from ticket_app.mail.transport import MailTransportError, fetch_after
from ticket_app.models import Mailbox, utc_now
from ticket_app.services.database import service_session
from ticket_app.services.mail_inbound import ingest
from ticket_app.services.mailboxes import (
    MailKeyMissingError,
    active_mailbox_ids,
    imap_endpoint,
    own_addresses,
)
from ticket_app.services.task_queue import enqueue, queue
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

CURSOR_EVERY = 25
"""The cursor is saved after this many messages (and at the end of a fetch)."""


@dataclass
class FetchReport:
    """What one fetch did: messages read, what each became, whether more are waiting, the error."""

    fetched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    more: bool = False
    error: str | None = None


def _save_cursor(mailbox_id: int, uidvalidity: int, last_uid: int, error: str | None) -> None:
    with service_session() as session:
        session.execute(
            sa.update(Mailbox)
            .where(Mailbox.id == mailbox_id)
            .values(
                uidvalidity=uidvalidity,
                last_uid=last_uid,
                last_fetch_at=utc_now(),
                last_fetch_error=error,
            )
        )


def _record_error(mailbox_id: int, error: str) -> None:
    with service_session() as session:
        session.execute(
            sa.update(Mailbox)
            .where(Mailbox.id == mailbox_id)
            .values(last_fetch_at=utc_now(), last_fetch_error=error[:2000])
        )


def fetch_mailbox(mailbox_id: int) -> FetchReport:
    """Read and take in the mailbox's new messages (at most MAIL_FETCH_BATCH).

    A server or key problem is recorded on the mailbox (`last_fetch_error`) and reported, not
    raised. Raises DatabaseUnavailableError or OSError when the database or the disk fails
    mid-way (the cursor then stands after the last message taken in).
    """
    report = FetchReport()
    with service_session() as session:
        mailbox = session.get(Mailbox, mailbox_id)
        if mailbox is None or not mailbox.active:
            report.error = "mailbox removed or inactive"
            return report
        uidvalidity, last_uid = mailbox.uidvalidity, mailbox.last_uid
        own = own_addresses(session)
        try:
            endpoint = imap_endpoint(mailbox)
        except MailKeyMissingError as error:
            report.error = str(error)
    if report.error:
        _record_error(mailbox_id, report.error)
        return report
    batch = get_settings().mail_fetch_batch
    try:
        current, messages = fetch_after(endpoint, uidvalidity, last_uid, limit=batch)
    except MailTransportError as error:
        report.error = f"{error.step}: {error.detail}"
        _record_error(mailbox_id, report.error)
        return report
    cursor = last_uid if current == uidvalidity else 0
    try:
        for message in messages:
            result = ingest(message.raw, mailbox_id=mailbox_id, own=own, fetched=True)
            report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
            report.fetched += 1
            cursor = message.uid
            if report.fetched % CURSOR_EVERY == 0:
                _save_cursor(mailbox_id, current, cursor, None)
    except MailTransportError as error:
        report.error = f"{error.step}: {error.detail}"
    finally:
        if report.fetched or report.error or current != uidvalidity:
            _save_cursor(mailbox_id, current, cursor, report.error)
    report.more = report.fetched >= batch
    return report


def _fetch_lock(mailbox_id: int) -> TaskLock:
    return queue.lock_task(f"mail-fetch-{mailbox_id}")


def clear_fetch_locks() -> None:
    """Release every mailbox's fetch lock (at a worker's start: a killed worker held them)."""
    with service_session() as session:
        mailbox_ids = list(session.execute(sa.select(Mailbox.id)).scalars())
    for mailbox_id in mailbox_ids:
        _fetch_lock(mailbox_id).clear()


@queue.task(name="mail.fetch")
def fetch_job(mailbox_id: int) -> None:
    """The queue's job: fetch one mailbox unless another worker is fetching it right now."""
    try:
        with _fetch_lock(mailbox_id):
            report = fetch_mailbox(mailbox_id)
    except TaskLockedException:
        return
    if report.fetched:
        logger.info("mailbox %s: %s", mailbox_id, report.outcomes)
    if report.more:
        enqueue(fetch_job, mailbox_id)


def schedule_fetches(seconds_left: float = 60.0) -> int:
    """Queue the fetches of every active mailbox for the next `seconds_left` seconds.

    One fetch per MAIL_FETCH_INTERVAL_SECONDS (the first now). Returns how many were queued.
    """
    interval = get_settings().mail_fetch_interval_seconds
    queued = 0
    for mailbox_id in active_mailbox_ids():
        offset = 0.0
        while offset < seconds_left:
            enqueue(fetch_job, mailbox_id, delay=offset or None)
            queued += 1
            offset += interval
    return queued


@queue.periodic_task(crontab(minute="*"), name="mail.schedule")
def schedule_job() -> None:
    """Every minute: `schedule_fetches` for that minute."""
    schedule_fetches()
