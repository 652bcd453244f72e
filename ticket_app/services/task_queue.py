"""The background job queue: `huey`, on SQLite (embedded), Redis or PostgreSQL.

Why huey: it is maintained, small, has durable jobs, retries with a delay, periodic schedules,
and locks held in the queue's own storage, and it runs on an embedded SQLite file (the default
`make run` needs no other server) as well as on Redis or PostgreSQL (several app instances and
workers share one queue). Jobs are defined beside the services they call (`mail_fetch`,
`mail_outbound`); `python -m ticket_app worker` runs the consumer.

`TASK_QUEUE_URL` chooses the storage: `sqlite:///FILE`, `redis://host:port/db`, or
`postgresql://...`. The storage is opened on first use (`enqueue`, or `configure` at a
process's start), not at import, so importing a service never touches the queue's server.
Tests may switch to immediate mode (`use_immediate_mode`), in which a job runs in the caller's
thread as soon as it is enqueued.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from huey import Huey
from huey.api import Result, TaskWrapper
from huey.storage import MemoryStorage, PostgresStorage, RedisStorage, SqliteStorage
from sqlalchemy.engine import make_url

from ticket_app.settings import PROJECT_ROOT, get_settings

QUEUE_NAME = "triage-desk"


def _storage_options(url: str) -> tuple[type, dict[str, Any]]:
    """(storage class, its keyword arguments) for a TASK_QUEUE_URL; ValueError if unknown."""
    scheme = urlsplit(url).scheme.split("+", 1)[0]
    if scheme == "sqlite":
        path = url.split("sqlite:///", 1)[1] if "sqlite:///" in url else ""
        if not path:
            raise ValueError(f"TASK_QUEUE_URL {url!r}: a SQLite queue needs sqlite:///FILE")
        return SqliteStorage, {"filename": path}
    if scheme in ("redis", "rediss"):
        return RedisStorage, {"url": url}
    if scheme in ("postgresql", "postgres"):
        return PostgresStorage, {"dsn": url.replace("postgresql+psycopg://", "postgresql://")}
    raise ValueError(f"TASK_QUEUE_URL {url!r}: use sqlite:///FILE, redis://... or postgresql://...")


queue = Huey(QUEUE_NAME, storage_class=MemoryStorage, results=False, utc=True)
"""The process's queue; jobs are registered on it when their modules are imported."""
_configured = threading.Event()
_configure_lock = threading.Lock()


def default_url() -> str:
    """The queue's URL: TASK_QUEUE_URL, else a SQLite file beside a SQLite database.

    Beside the database, so two databases served from one checkout never share jobs; for a
    server database without TASK_QUEUE_URL, `triage_desk_tasks.db` in the project directory.
    """
    settings = get_settings()
    if settings.task_queue_url:
        return settings.task_queue_url
    database = make_url(settings.database_url)
    if database.get_backend_name() == "sqlite" and database.database not in (None, "", ":memory:"):
        return f"sqlite:///{Path(database.database).with_suffix('')}-tasks.db"
    return f"sqlite:///{PROJECT_ROOT / 'triage_desk_tasks.db'}"


def configure(url: str | None = None) -> None:
    """Point the queue at `url` (default: `default_url()`), keeping its jobs.

    Used at process start after settings change (the CLI's `--database`, tests). Raises
    ValueError for a URL of an unknown kind.
    """
    storage_class, options = _storage_options(url or default_url())
    with _configure_lock:
        queue.immediate = False
        queue.storage_class = storage_class
        queue.storage_kwargs = options
        queue.storage = queue.create_storage()
        _configured.set()


def enqueue(task: TaskWrapper, *args: Any, delay: float | None = None) -> Result | None:
    """Queue `task(*args)` (after `delay` seconds), opening the configured storage on first use.

    Raises whatever the storage raises when its server is unreachable (callers that must not
    fail on that, such as saving a reply, catch it: a sweep queues the job again later).
    """
    if not _configured.is_set() and not queue.immediate:
        configure()
    if delay:
        return task.schedule(args=args, delay=delay)
    return task(*args)


def use_immediate_mode(enabled: bool = True) -> None:
    """Run every job at once in the enqueuing thread (tests without a worker), or stop doing so."""
    with _configure_lock:
        queue.immediate = enabled
        if not enabled:
            _configured.clear()
