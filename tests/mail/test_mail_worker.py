"""The background worker as a real process: mail delivered to the support inbox becomes a ticket
within seconds, and 1,000 mails survive the worker being killed (SIGKILL) twice mid-fetch:
none lost, none duplicated. On both databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SYSTEM
from tests.support.mail_servers import Dovecot
from tests.support.mailboxes import dovecot_mailbox
from ticket_app.services import mailboxes
from ticket_app.settings import PROJECT_ROOT, get_settings

SUPPORT = "support@desk.test"
MAILS = 1000


@pytest.fixture
def worker_env(
    db: Engine, dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment of a worker on the test database, with a mailbox on the test dovecot."""
    env = {
        "DATABASE_URL": db.url.render_as_string(hide_password=False),
        "MAIL_SECRET_KEY": mailboxes.generate_key(),
        "STORAGE_DIR": str(tmp_path / "storage"),
        "MAIL_CA_FILE": str(dovecot.tls.ca_file),
        "MAIL_FETCH_INTERVAL_SECONDS": "1",
        "MAIL_SENDER_HOURLY_LIMIT": "100000",
        "TASK_QUEUE_URL": f"sqlite:///{tmp_path / 'tasks.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    mailboxes.create_mailbox(dovecot_mailbox(dovecot, SUPPORT), actor=SYSTEM)
    yield {**os.environ, **env}
    get_settings.cache_clear()


@pytest.fixture
def start_worker(
    worker_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts `python -m ticket_app worker` processes; any still running are killed at the end."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "ticket_app", "worker"],
            env=worker_env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        log_path = tmp_path / f"worker-{len(started) - 1}.log"
        _wait_until(lambda: b"worker ready" in log_path.read_bytes(), 60, "the worker to start")
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _mail(index: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {index} <customer{index}@example.org>"
    message["To"] = SUPPORT
    message["Subject"] = f"Order {index} arrived damaged"
    message["Message-ID"] = f"<order-{index}@example.org>"
    message.set_content(f"My order number {index} arrived damaged, please send a replacement.")
    return message.as_bytes()


def _stored(engine: Engine) -> tuple[int, int, int]:
    """(mail messages, distinct Message-IDs, tickets) in the database."""
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM mail_messages), "
                "(SELECT count(DISTINCT message_id) FROM mail_messages), "
                "(SELECT count(*) FROM tickets)"
            )
        ).one()


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def test_a_delivered_mail_becomes_a_ticket_within_seconds(
    db: Engine, dovecot: Dovecot, start_worker: Callable[[], subprocess.Popen]
) -> None:
    start_worker()
    delivered_at = time.monotonic()
    dovecot.deliver(SUPPORT, _mail(1))
    _wait_until(lambda: _stored(db)[2] == 1, 20, "the ticket")
    assert time.monotonic() - delivered_at < 5
    with db.connect() as connection:
        ticket = connection.execute(sa.text("SELECT title, requester_email FROM tickets")).one()
    assert tuple(ticket) == ("Order 1 arrived damaged", "customer1@example.org")


def test_mails_survive_two_worker_kills_without_loss_or_duplicates(
    db: Engine, dovecot: Dovecot, start_worker: Callable[[], subprocess.Popen]
) -> None:
    half = MAILS // 2
    dovecot.deliver_many(SUPPORT, [_mail(i) for i in range(half)])
    for killed_after in (100, half + 100):
        worker = start_worker()
        _wait_until(lambda n=killed_after: _stored(db)[0] >= n, 120, f"{killed_after} messages")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        if killed_after == 100:
            dovecot.deliver_many(SUPPORT, [_mail(i) for i in range(half, MAILS)])
    start_worker()
    _wait_until(lambda: _stored(db)[0] >= MAILS, 240, f"all {MAILS} messages")
    time.sleep(2)
    assert _stored(db) == (MAILS, MAILS, MAILS)
