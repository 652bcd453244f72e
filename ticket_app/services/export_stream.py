"""API exports that hold a database connection while the database reads, not while clients do.

**Why.** An export used to stream straight from its snapshot transaction, so it held a pooled
connection for as long as the client took to read the file. Twenty raw sockets that asked for an
export and never read pinned all twenty pooled connections "idle in transaction" for five
minutes, and every other request failed. Here a thread reads the snapshot (`exporter`: one
REPEATABLE READ transaction, so the file is still the table at one instant) into a temporary
file as fast as the database produces rows, then gives its connection back; the response sends
that file at the client's pace, starting while it is still being written. The connection is
held for the seconds the database needs, whatever the client does.

Chosen over keyset pages with a short transaction each (the file would mix moments: an edit made
mid-export shows in pages not yet read) and over a send timeout alone (a stalled client would
still pin a connection until it fired). The price is disk: a running export keeps a temporary
file the size of its CSV until its download ends.

**Bounded.** At most a quarter of the pool's connections read exports at once (the others
wait their turn before their response starts), so exports started together by many users
leave the rest of the pool to everyone else's requests. While other requests are in flight, a
reader works only `EXPORT_READ_SHARE` (a quarter) of its time and rests the rest after each
chunk; alone, it reads at full speed. Turning rows into CSV holds the interpreter lock: with two
30,000-ticket exports reading at full speed an agent's list took 19.8 ms at p50 against 6.4 ms
idle (3.1x); with the rest, 11.8 against 7.2 (tests/limits/test_limits_load.py).
The price: an API export takes up to four times as long while the process also serves others.

**Per user.** One user (all their tokens and sessions together) runs at most
`EXPORT_CONCURRENCY_PER_USER` exports at once in this process; another one is refused with
TooManyExportsError (the API: 429 with Retry-After) before anything is read.

**Audit.** An export is recorded when it ends: `exported` when the whole file was handed to the
server for the client, `export_interrupted` when the download stopped part-way (the database
failed mid-read, the client stalled past the send timeout, or the server reported the client
gone). Only what the server reports can be seen: granian (ASGI spec 2.3) silently drops data
sent after the client has gone and reports the disconnect only once the response has ended
(emmett-framework/granian#650), so behind it a client that closes mid-download is recorded as
`exported`; a server that raises on such a send (ASGI 2.4, uvicorn) gets `export_interrupted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator

import anyio

from ticket_app.schemas import TicketFilters, TicketSort
from ticket_app.services import exporter
from ticket_app.services.access import Action, Actor
from ticket_app.services.errors import ServiceError, TooManyAttemptsError
from ticket_app.services.tickets import record_export
from ticket_app.settings import get_settings

logger = logging.getLogger(__name__)

# Bytes sent per body message: large enough for few sends, small enough to follow a slow client.
_READ_BYTES = 256 * 1024

# A refused export is worth retrying once a running one has likely finished.
RETRY_AFTER_SECONDS = 10


class TooManyExportsError(TooManyAttemptsError):
    """The user already runs EXPORT_CONCURRENCY_PER_USER exports; `retry_after` in seconds."""

    def __init__(self, limit: int, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        ServiceError.__init__(
            self,
            f"You already have {limit} export(s) running; wait for one to finish and try "
            f"again in {retry_after} seconds.",
        )
        self.retry_after = retry_after


class _Slots:
    """Running exports per owner in this process (thread-safe counters)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def acquire(self, owner: str, limit: int) -> bool:
        """Take a slot for `owner` unless it already holds `limit`; whether one was taken."""
        with self._lock:
            if self._running.get(owner, 0) >= limit:
                return False
            self._running[owner] = self._running.get(owner, 0) + 1
            return True

    def release(self, owner: str) -> None:
        """Give back one of `owner`'s slots."""
        with self._lock:
            left = self._running.get(owner, 0) - 1
            if left > 0:
                self._running[owner] = left
            else:
                self._running.pop(owner, None)

    def running(self, owner: str) -> int:
        """How many exports `owner` runs now."""
        with self._lock:
            return self._running.get(owner, 0)


_slots = _Slots()


_other_requests = 0


@contextlib.contextmanager
def other_request() -> Iterator[None]:
    """Mark a request other than an export as in flight in this process while the block runs.

    Export readers rest (`EXPORT_READ_SHARE`) only while at least one is; the API marks every
    request but exports (`api.export_response.YieldToRequestsMiddleware`).
    """
    global _other_requests
    _other_requests += 1
    try:
        yield
    finally:
        _other_requests -= 1


def _reader_count() -> int:
    """How many exports may read the database at once: a quarter of the pool, at least one."""
    settings = get_settings()
    return max(1, (settings.database_pool_size + settings.database_max_overflow) // 4)


# Exports of many users started at once read their snapshots in turn, so together they never
# take more than a quarter of the connections from everyone else's requests.
_readers = threading.BoundedSemaphore(_reader_count())
_STOP_POLL_SECONDS = 0.2


def _owner(actor: Actor) -> str:
    """Whose budget an export uses: the staff user behind a session or token, else the actor."""
    if actor.user_id is not None:
        return f"user:{actor.user_id}"
    return f"{actor.kind.value}:{actor.label}"


def running_exports(actor: Actor) -> int:
    """How many exports the user behind `actor` runs now in this process."""
    return _slots.running(_owner(actor))


class RunningExport:
    """One export: its snapshot spooled to a temporary file by a thread, sent from that file.

    Made by `open_export`. `body()` yields the CSV as bytes while the spool grows; `finish()`
    must be called exactly once when the response ends (sent or not), from the event loop that
    opened the export: it stops the reader, deletes the file, frees the user's slot and writes
    the audit event.
    """

    def __init__(
        self, actor: Actor, filters: TicketFilters, sort: TicketSort, owner: str, chunk_rows: int
    ) -> None:
        self._actor = actor
        self._filters = filters
        self._sort = sort
        self._owner = owner
        self._chunk_rows = chunk_rows
        # Lives as long as the download, past this call: `finish` closes (and so deletes) it.
        self._file = tempfile.TemporaryFile(prefix="triage-export-")  # noqa: SIM115
        self._lock = threading.Lock()
        self._size = 0
        self._version = 0
        self._done = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._fill, name="export-spool", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        """The reader thread: snapshot -> temporary file, until done, failed or stopped."""
        while not _readers.acquire(timeout=_STOP_POLL_SECONDS):
            if self._stop.is_set():
                self._changed(done=True)
                return
        try:
            self._spool()
        finally:
            _readers.release()

    def _spool(self) -> None:
        chunks = exporter.ticket_chunks(self._filters, self._chunk_rows, self._sort)
        rest_per_work = 1 / get_settings().export_read_share - 1
        try:
            started = time.perf_counter()
            for text, _count in chunks:
                if self._stop.is_set():
                    return
                data = text.encode("utf-8")
                os.pwrite(self._file.fileno(), data, self._size)
                self._changed(grew=len(data))
                # Building rows is Python work that holds the interpreter lock: while other
                # requests are in flight, rest in proportion to it so they keep most of the
                # process's time; alone, read at full speed.
                if _other_requests:
                    time.sleep(rest_per_work * (time.perf_counter() - started))
                started = time.perf_counter()
        except Exception as exc:  # handed to the sender, which raises it mid-stream
            self._changed(error=exc)
        finally:
            chunks.close()  # stopped early: the snapshot's connection goes back now
            self._changed(done=True)

    def _changed(
        self, *, grew: int = 0, error: BaseException | None = None, done: bool = False
    ) -> None:
        with self._lock:
            self._size += grew
            self._error = error or self._error
            self._done = done or self._done
            self._version += 1
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def _state(self) -> tuple[int, int, bool, BaseException | None]:
        with self._lock:
            return self._version, self._size, self._done, self._error

    async def _next_change(self, seen_version: int) -> None:
        self._wakeup.clear()
        if self._state()[0] == seen_version:
            await self._wakeup.wait()

    async def started(self) -> None:
        """Wait until the snapshot's query has answered (the header is spooled).

        Raises the reader's DatabaseUnavailableError (or QueryTimeoutError) when the database
        fails before that, so the caller can still answer 503 instead of starting a file.
        """
        while True:
            version, size, done, error = self._state()
            if size > 0 or done:
                if error is not None and size == 0:
                    raise error
                return
            await self._next_change(version)

    async def body(self) -> AsyncIterator[bytes]:
        """The CSV as it is spooled, up to 256 KiB per piece.

        Raises the reader's error (DatabaseUnavailableError) after the bytes read before it, so
        a consumer that has sent part of the file aborts instead of ending it cleanly.
        """
        offset = 0
        while True:
            version, size, done, error = self._state()
            if offset < size:
                # The spool was just written: this read comes from the page cache, microseconds.
                data = os.pread(self._file.fileno(), min(size - offset, _READ_BYTES), offset)
                offset += len(data)
                yield data
            elif error is not None:
                raise error
            elif done:
                return
            else:
                await self._next_change(version)

    async def finish(self, *, sent: bool, started: bool = True) -> None:
        """End the export: stop the reader, delete the spool, free the slot, write the audit.

        `sent`: the whole file was handed to the client (`exported`); otherwise, if the response
        had `started`, the export is recorded as `export_interrupted`; an export refused before
        its response started (503) is not recorded. Never raises: a failed audit write is
        logged, as the response is already over.
        """
        if self._finished:
            return
        self._finished = True
        self._stop.set()
        with anyio.CancelScope(shield=True):
            try:
                await anyio.to_thread.run_sync(self._thread.join)
            finally:
                self._file.close()
                _slots.release(self._owner)
            if not started:
                return
            try:
                await anyio.to_thread.run_sync(self._record, not sent)
            except ServiceError:
                logger.exception("the export by %s could not be audited", self._actor.label)

    def _record(self, interrupted: bool) -> None:
        record_export(self._filters, actor=self._actor, interrupted=interrupted)


async def open_export(
    actor: Actor,
    filters: TicketFilters,
    sort: TicketSort = TicketSort.NEWEST,
    *,
    chunk_rows: int = exporter.DEFAULT_CHUNK_ROWS,
) -> RunningExport:
    """Start exporting the tickets matching `filters` in `sort` order for `actor`.

    Returns once the snapshot's query has answered, so a database that is down is an error
    here, before any byte is sent. Raises PermissionDeniedError when `actor` may not export,
    TooManyExportsError when their user already runs EXPORT_CONCURRENCY_PER_USER exports, and
    DatabaseUnavailableError (or QueryTimeoutError). The caller owns the result: it must call
    `finish()` on it once, whatever happens.
    """
    actor.require(Action.TICKETS_EXPORT)
    owner = _owner(actor)
    limit = get_settings().export_concurrency_per_user
    if not _slots.acquire(owner, limit):
        raise TooManyExportsError(limit)
    try:
        export = RunningExport(actor, filters, sort, owner, chunk_rows)
    except BaseException:
        _slots.release(owner)
        raise
    try:
        await export.started()
    except BaseException:
        await export.finish(sent=False, started=False)
        raise
    return export
