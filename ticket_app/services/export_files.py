"""CSV exports to a file that is either complete or absent, even when the process is killed.

The export is written to a hidden partial file next to the target, `.NAME.PID.partial`, and
renamed over the target only when complete, so a failed export never leaves a truncated file
under the target's name. The partial file itself is removed:

- when the export fails or is interrupted (Ctrl-C, or SIGTERM, which is turned into an exit
  while the file is written so the cleanup runs);
- by the next export to the same target, for a process killed with SIGKILL (which no process
  can catch): a partial file whose process id is no longer running is left over and deleted.
  Earlier versions named it `.NAME.partial`, without a process id; that name is removed too.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from ticket_app.schemas import TicketFilters
from ticket_app.services.exporter import write_csv

_SUFFIX = ".partial"


def partial_path(output: Path, pid: int | None = None) -> Path:
    """The hidden file an export to `output` by process `pid` (default: this one) writes first."""
    return output.with_name(f".{output.name}.{pid or os.getpid()}{_SUFFIX}")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_leftover_partials(output: Path) -> list[Path]:
    """Delete partial files of exports to `output` whose process is gone; the paths removed.

    A partial file of a live export (another process writing the same target) is kept.
    """
    removed = []
    prefix = f".{output.name}."
    for candidate in output.parent.glob(f"{prefix}*{_SUFFIX}"):
        middle = candidate.name[len(prefix) : -len(_SUFFIX)]
        if not middle.isdigit() or _running(int(middle)):
            continue
        candidate.unlink(missing_ok=True)
        removed.append(candidate)
    legacy = output.with_name(f".{output.name}{_SUFFIX}")
    if legacy.exists():
        legacy.unlink(missing_ok=True)
        removed.append(legacy)
    return removed


@contextmanager
def _terminate_as_exit() -> Iterator[Callable[[], None]]:
    """Within the block, SIGTERM raises SystemExit(143) so `finally` clauses run.

    The handler raises wherever the signal lands, and some libraries turn what is raised there
    into an error of their own (pydantic reports it as a ValidationError when it lands while
    a row's attribute is read): whatever leaves the block after a SIGTERM leaves it as the
    SystemExit, so the process still ends with 143. A SystemExit raised where Python only
    reports it (a finalizer, a callback) is lost: the block's value, a function, raises it
    again when called, and so does the end of the block. Only in the main thread (the only one
    that may install signal handlers); elsewhere the block runs unchanged.
    """
    received: list[int] = []

    def stop_if_terminated() -> None:
        if received:
            raise SystemExit(128 + received[0])

    if threading.current_thread() is not threading.main_thread():
        yield stop_if_terminated
        return

    def _exit(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        sys.exit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield stop_if_terminated
    except BaseException as exc:
        if received and not isinstance(exc, SystemExit):
            raise SystemExit(128 + received[0]) from exc
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    stop_if_terminated()


def export_to_file(output: Path, filters: TicketFilters | None = None) -> int:
    """Write the CSV export of the tickets matching `filters` to `output`; the ticket count.

    `output` is replaced only by a complete file (see the module docstring); its directory
    must exist. Raises DatabaseUnavailableError (output untouched, partial file removed) and
    OSError for a file that cannot be written.
    """
    remove_leftover_partials(output)
    partial = partial_path(output)
    try:
        with _terminate_as_exit() as stop_if_terminated:
            with partial.open("w", encoding="utf-8", newline="") as out:
                count = write_csv(out, filters)
            stop_if_terminated()
            partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return count
