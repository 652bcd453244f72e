"""Inbound mail throughput: messages per second from a real IMAP server into PostgreSQL (issue 21).

Usage: TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
       python tests/benchmarks/bench_mail.py [--messages 1000]

Starts a private dovecot (tests/support/mail_servers.py), delivers `--messages` distinct
customer mails (each from its own sender, a paragraph of support text, about 1 KB) into the
support inbox over LMTP, connects a mailbox to it in a scratch PostgreSQL database, and fetches
with one worker (`mail_fetch.fetch_mailbox`, the job's own code, batch after batch) until the
inbox is drained: each message is parsed, threaded, classified (offline), stored as a ticket
with its requester and `.eml`. Prints messages per second for the whole run and per batch.
The target is at least 50 messages/s on 2 cores.

Wall-clock rates follow whatever else the host runs, so it also prints the CPU time each
message cost the worker (this process) and the PostgreSQL backends serving the scratch
database (read from /proc, when the server runs on this host): the figure to compare
between versions on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.database import scratch_postgres_database
from tests.support.mail_servers import Dovecot
from tests.support.mailboxes import dovecot_mailbox
from ticket_app.enums import ActorKind
from ticket_app.services import mail_fetch, mailboxes
from ticket_app.services.access import Actor
from ticket_app.services.database import use_database
from ticket_app.services.migrations import upgrade_database
from ticket_app.settings import get_settings

SUPPORT = "support@desk.test"
PROBLEMS = [
    "I was charged twice for my subscription this month and need a refund for one payment.",
    "The app crashes every time I open the reports page since the last update.",
    "I cannot log in: the password reset e-mail never arrives in my inbox.",
    "Please change the billing address on our company account to the new office.",
    "Exporting invoices to CSV times out for our account with many customers.",
]


def _message(index: int, rng: random.Random) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {index} <customer{index}@example.org>"
    message["To"] = SUPPORT
    message["Subject"] = f"Request {index}: {rng.choice(PROBLEMS)[:40]}"
    message["Message-ID"] = f"<bench-{index}@example.org>"
    message.set_content(" ".join(rng.choices(PROBLEMS, k=3)) + "\n\nThanks,\nCustomer\n")
    return message.as_bytes()


def _backend_cpu_seconds(connection: sa.Connection) -> dict[int, float]:
    """CPU seconds (user + system) of each PostgreSQL backend connected to this database.

    Empty when the server's processes are not visible here (another host or container).
    """
    pids = connection.execute(
        sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    ).scalars()
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return seconds


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        sys.exit("set TEST_DATABASE_URL to a PostgreSQL database")
    rng = random.Random(21)
    with (
        tempfile.TemporaryDirectory() as storage,
        Dovecot() as dovecot,
        scratch_postgres_database(base_url) as url,
    ):
        os.environ.update(
            MAIL_SECRET_KEY=mailboxes.generate_key(),
            STORAGE_DIR=storage,
            MAIL_CA_FILE=str(dovecot.tls.ca_file),
            MAIL_SENDER_HOURLY_LIMIT="100000",
        )
        get_settings.cache_clear()
        upgrade_database(url)
        engine = use_database(url)
        started = time.perf_counter()
        delivered = dovecot.deliver_many(SUPPORT, [_message(i, rng) for i in range(args.messages)])
        print(f"delivered {delivered} messages over LMTP in {time.perf_counter() - started:.1f} s")
        mailbox = mailboxes.create_mailbox(
            dovecot_mailbox(dovecot, SUPPORT),
            actor=Actor.process(ActorKind.SYSTEM, "bench"),
        )
        rates = []
        total = 0
        with engine.connect() as connection:
            backends_before = _backend_cpu_seconds(connection)
        worker_before = time.process_time()
        started = time.perf_counter()
        while True:
            batch_start = time.perf_counter()
            report = mail_fetch.fetch_mailbox(mailbox.id)
            if report.error:
                sys.exit(f"fetch failed: {report.error}")
            if not report.fetched:
                break
            total += report.fetched
            rates.append(report.fetched / (time.perf_counter() - batch_start))
        elapsed = time.perf_counter() - started
        worker_cpu = time.process_time() - worker_before
        with engine.connect() as connection:
            backends = _backend_cpu_seconds(connection)
            tickets = connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one()
        # A backend that ended during the run is missed; one that started counts from zero.
        database_cpu = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends.items())
        print(f"fetched {total} messages -> {tickets} tickets in {elapsed:.1f} s")
        print(
            f"throughput: {total / elapsed:.1f} messages/s overall; per batch median "
            f"{statistics.median(rates):.1f}, min {min(rates):.1f}"
        )
        print(
            f"CPU per message: worker {1000 * worker_cpu / total:.2f} ms, PostgreSQL "
            f"{1000 * database_cpu / total:.2f} ms; "
            f"{total / (worker_cpu + database_cpu):.1f} messages per CPU-second; "
            f"load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}"
        )
        engine.dispose()
        use_database("sqlite://")


if __name__ == "__main__":
    main()
