"""Real mail servers for the tests in this folder (all marked `mail`): one private dovecot and
one SMTP server per session (tests/support/mail_servers.py), mailboxes emptied before each test.

Without dovecot the tests skip on a user's machine and fail under CI=true, since .ci/run
installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mail_servers import Dovecot, SMTPServer, missing_dovecot_parts

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `mail` (`pytest -m "not mail"` leaves them out)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.mail)


def require_dovecot() -> None:
    """Skip when dovecot is missing; under CI=true fail instead, since CI installs it."""
    missing = missing_dovecot_parts()
    if not missing:
        return
    reason = f"dovecot is not installed (apt-get install -y {' '.join(missing)})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must provide it (see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dovecot_session() -> Iterator[Dovecot]:
    """The session's private dovecot, started once; tests use `dovecot` instead."""
    require_dovecot()
    with Dovecot() as server:
        yield server


@pytest.fixture(scope="session")
def smtp_session(dovecot_session: Dovecot) -> Iterator[SMTPServer]:
    """The session's SMTP server, started once; tests use `smtp` instead."""
    with SMTPServer(dovecot_session) as server:
        yield server


@pytest.fixture
def dovecot(dovecot_session: Dovecot) -> Dovecot:
    """The private dovecot with every test account's mailboxes emptied for this test."""
    dovecot_session.clear_mailboxes()
    return dovecot_session


@pytest.fixture
def smtp(smtp_session: SMTPServer, dovecot: Dovecot) -> SMTPServer:
    """The SMTP server delivering into `dovecot`: listening (restarted if an earlier test left it
    stopped), AUTH required after STARTTLS, nothing recorded yet."""
    if not smtp_session.running:
        smtp_session.start()
    smtp_session.clear()
    return smtp_session
