"""Fixtures for the newcomer-path tests: `serve` with os.execve intercepted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ticket_app.cli import serve as cli_module
from ticket_app.settings import PROJECT_ROOT, get_settings

ExecCall = tuple[str, list[str], dict[str, str]]


@pytest.fixture
def exec_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ExecCall]]:
    """`serve`'s os.execve calls, recorded instead of made; the process's own settings are
    re-read without SETUP_TOKEN, PUBLIC_BASE_URL or REFLEX_* work directories."""
    calls: list[ExecCall] = []
    monkeypatch.setattr(
        cli_module.os, "execve", lambda path, args, env: calls.append((path, args, env))
    )
    # Not started either: a real worker would outlive the test, polling its dropped database.
    monkeypatch.setattr(cli_module, "start_worker", lambda env: None)
    monkeypatch.chdir(PROJECT_ROOT)  # serve changes directory; restored afterwards
    for name in ("SETUP_TOKEN", "PUBLIC_BASE_URL", "REFLEX_WEB_WORKDIR", "REFLEX_STATES_WORKDIR"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()
