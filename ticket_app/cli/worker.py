"""The `worker` command: run the background jobs (mail, SLA check, count fold, index upkeep).

The index upkeep merges the search indexes' pending lists (`services.gin_pending`).

`serve` starts one itself unless WORKER_EMBEDDED is false (the compose set-up runs it as its
own service). The jobs run on the task queue (`services.task_queue`, huey) in worker threads.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import typer

from ticket_app.cli.common import database_option
from ticket_app.cli.database import connect_migrated
from ticket_app.services import (
    counts,
    gin_pending,
    mail_fetch,
    mail_inbound,
    mail_outbound,
    mailboxes,
    sla_check,
    task_queue,
)

PARENT_CHECK_SECONDS = 1.0


def _stop_with_parent(parent_pid: int) -> None:
    """Stop this worker (as Ctrl-C would) once `parent_pid` has exited."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def worker(
    threads: int = typer.Option(2, "--threads", min=1, max=32, help="Jobs run at once."),
    parent_pid: int | None = typer.Option(None, "--parent-pid", hidden=True),
    database_url: str | None = database_option,
) -> None:
    """Run the background jobs until stopped: mail fetch, sending and retries, SLA checks.

    Every active mailbox is fetched each MAIL_FETCH_INTERVAL_SECONDS; queued replies are sent
    and failed sends retried, and every minute the service-level check records breaches and
    warnings, the ticket count deltas are folded in and the search indexes' pending lists are
    merged, on the queue named by TASK_QUEUE_URL.
    Ctrl-C or SIGTERM let running jobs finish. Locks left by a killed worker are cleared at start.
    """
    connect_migrated(database_url, "mail_messages")
    task_queue.configure()
    logging.getLogger("huey").setLevel(logging.WARNING)
    if parent_pid is not None:
        _stop_with_parent(parent_pid)
    consumer = task_queue.queue.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=True,
        max_delay=1.0,
    )
    mail_fetch.clear_fetch_locks()
    sla_check.clear_check_lock()
    if mailboxes.active_mailbox_ids():
        mail_inbound.warm_up()
    mail_fetch.schedule_fetches(seconds_left=60 - time.gmtime().tm_sec)
    mail_outbound.sweep()
    counts.fold_count_deltas()
    gin_pending.clean_pending_lists()
    storage = type(task_queue.queue.storage).__name__
    typer.echo(f"worker ready: {threads} threads, jobs queued in {storage}", err=True)
    consumer.run()
