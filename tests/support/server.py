"""How tests start a server process, wait for it, and stop it with everything it started.

Every app, API and HAProxy server the tests run goes through `start_server` (or
`running_server`, its context-manager form): the app under `reflex run` or `python -m ticket_app
serve`, the API under granian, HAProxy (`mail_servers` starts dovecot, which answers no HTTP, on
its own). Each gets its own process group, because granian's and Reflex's workers are
children that outlive a terminated parent; `Server.stop` ends the whole group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ticket_app.settings import PROJECT_ROOT

JS_BIN = PROJECT_ROOT / ".venv" / "js" / "node_modules" / ".bin"
"""Where `make install` puts bun and node, which Reflex runs to build the console."""

LOG_TAIL_CHARS = 4000


def free_port(candidates: Iterable[int] | None = None, taken: Iterable[int] = ()) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Without `candidates` the system picks one; with them, the first free one not in `taken`,
    and the test is skipped when none is free.
    """
    if candidates is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    ports = list(candidates)
    excluded = set(taken)
    for port in ports:
        if port in excluded:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {ports[0]}-{ports[-1]}")


def reflex_env(unset: Iterable[str] = (), **values: str) -> dict[str, str]:
    """This process's environment for a Reflex server, with `values` on top.

    The project's bun and node and this interpreter come first on PATH; Reflex sends no
    telemetry and does not look for a newer version; packages come from npm's public registry.
    Names in `unset` are left out of what this process inherited.
    """
    skipped = set(unset)
    env = {name: value for name, value in os.environ.items() if name not in skipped}
    env.update(
        PATH=os.pathsep.join([str(JS_BIN), str(Path(sys.executable).parent), env["PATH"]]),
        REFLEX_USE_SYSTEM_BUN="true",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        NPM_CONFIG_REGISTRY="https://registry.npmjs.org/",
    )
    env.update(values)
    return env


@dataclass
class Server:
    """A started server process, the leader of its own process group."""

    process: subprocess.Popen[bytes]
    log: Path | None

    def log_tail(self) -> str:
        """The end of what the server wrote (empty when its output was not captured)."""
        if self.log is None:
            return ""
        return self.log.read_text(errors="replace")[-LOG_TAIL_CHARS:]

    def wait_until_up(self, url: str, timeout: float) -> None:
        """Wait until `url` gives any HTTP answer but a 503.

        A server still warming up, whose `/ping` says "starting" (503), is not up yet.

        Raises RuntimeError, with the end of the log, when the process exits first or nothing
        answers within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.process.args} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(url, timeout=2).status_code != 503:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} not up after {timeout:g} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the process group (as `docker stop` would); SIGKILL it after `timeout` s.

        The group is signalled even when the leader has exited, since its workers may not have;
        stopping a stopped server does nothing.
        """
        if not _signal_group(self.process, signal.SIGTERM):
            self.process.wait()
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=10)


def _signal_group(process: subprocess.Popen[bytes], number: signal.Signals) -> bool:
    """Send `number` to the process group `process` leads; False when none of it is left."""
    try:
        os.killpg(process.pid, number)
    except ProcessLookupError:
        return False
    return True


def start_server(
    command: Sequence[str],
    *,
    log: Path | None,
    env: Mapping[str, str] | None = None,
    cwd: Path = PROJECT_ROOT,
) -> Server:
    """Start `command` in its own process group; its output goes to `log` (None: this one's).

    `env` is the whole environment (default: this process's).
    """
    with open(log, "wb") if log is not None else nullcontext() as output:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            start_new_session=True,
        )
    return Server(process, log)


@contextmanager
def running_server(
    command: Sequence[str],
    *,
    ready_url: str,
    timeout: float,
    log: Path | None,
    env: Mapping[str, str] | None = None,
    cwd: Path = PROJECT_ROOT,
    stop_timeout: float = 30,
) -> Iterator[Server]:
    """`start_server`, then wait until `ready_url` answers; stopped when the block ends."""
    server = start_server(command, log=log, env=env, cwd=cwd)
    try:
        server.wait_until_up(ready_url, timeout)
        yield server
    finally:
        server.stop(stop_timeout)
