"""The `serve` command: migrate, then run Reflex's production server for the UI and the API."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

import typer

from ticket_app.cli.common import database_option, service_errors
from ticket_app.cli.database import apply_migrations, fail_stale_imports
from ticket_app.cli.frontend_cache import reuse_unchanged_build
from ticket_app.services.database import use_database
from ticket_app.services.identity import setup
from ticket_app.settings import PROJECT_ROOT, get_settings


def _setup_url(host: str, port: int) -> str:
    """Where the first-admin page is: PUBLIC_BASE_URL's, else this server's address."""
    base = get_settings().public_base_url
    if base:
        return f"{base.rstrip('/')}/setup"
    if host in ("0.0.0.0", "::", ""):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/setup"


DEFAULT_PORT = 3000


def reflex_workdirs(port: int, env: Mapping[str, str]) -> dict[str, str]:
    """Reflex's web and states folders for a server on `port`: {env var name: absolute path}.

    Only the variables `env` does not set already (REFLEX_WEB_WORKDIR, REFLEX_STATES_WORKDIR)
    are returned; the folders are in the project directory.

    Reflex bakes the backend's address into the frontend it builds in its web folder, and
    empties its states folder on every start. Two servers sharing them (`make demo` on 3400,
    then `PORT=3401 make run` in the same checkout) took each other over: the console on 3400
    talked to the backend on 3401. So port 3000 keeps Reflex's own `.web` and `.states` (the
    container image prebuilds `.web` for it) and any other port gets `.web-<port>` and
    `.states-<port>`.
    """
    suffix = "" if port == DEFAULT_PORT else f"-{port}"
    folders = {"REFLEX_WEB_WORKDIR": ".web", "REFLEX_STATES_WORKDIR": ".states"}
    return {
        name: str(PROJECT_ROOT / f"{folder}{suffix}")
        for name, folder in folders.items()
        if not env.get(name)
    }


# What `serve` runs instead of `python -m reflex`: the same command line, through run_reflex.
RUN_REFLEX = "from ticket_app.cli.serve import run_reflex; run_reflex()"

# The end of the message Reflex logs after preparing a new web folder: advice for a project
# managed with uv (`uv pip install -r requirements.txt`, `uv run reflex run`), not this one.
_PACKAGING_ADVICE = re.compile(r"\s*(?:Install dependencies from|Run `uv run)\b.*", re.DOTALL)


class _DropPackagingAdvice(logging.Filter):
    """Cuts Reflex's uv advice off its "Initialized ticket_app." message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record; shorten the one that carries the advice."""
        if isinstance(record.msg, str) and "uv " in record.msg:
            record.msg = _PACKAGING_ADVICE.sub("", record.msg)
        return True


def _requirements_untouched(*_args: object, **_kwargs: object) -> bool:
    """Stand-in for Reflex's `initialize_requirements_txt`: leave requirements.txt alone.

    Returns False, "nothing for the user to add" (the file pins reflex already).
    """
    return False


# Set by `serve` while no admin exists: the setup page's URL, announced once the app runs.
SETUP_NOTICE_URL = "TRIAGE_DESK_SETUP_URL"


def setup_notice(url: str, token: str) -> str:
    """The first-admin line: where the setup page is and the one-time token it asks for."""
    return f"No admin yet: open {url} and enter the setup token: {token}"


def announce_setup_after_app_running(environ: MutableMapping[str, str]) -> None:
    """Print `setup_notice` right after Reflex's "App running at" line, if `serve` asked.

    Takes SETUP_NOTICE_URL out of `environ` (the server's workers need not see it). Printed
    by `serve` before Reflex started, the line ended up some 80 lines above "App running",
    under Reflex's compile output; Reflex prints that line from this process just before it
    starts the backend, through `reflex.utils.exec.notify_frontend`, which this wraps (if a
    later Reflex lacks it, the line is printed at once).
    """
    url = environ.pop(SETUP_NOTICE_URL, None)
    if not url:
        return
    from reflex.utils import exec as reflex_exec

    line = setup_notice(url, setup.setup_token())
    notify = getattr(reflex_exec, "notify_frontend", None)
    if notify is None:
        typer.echo(line)
        return

    def notify_then_announce(*args: object, **kwargs: object) -> None:
        notify(*args, **kwargs)
        typer.echo(line)

    reflex_exec.notify_frontend = notify_then_announce


def run_reflex(argv: Sequence[str] | None = None) -> None:
    """Run Reflex's command line: `reflex` with `argv` (default sys.argv[1:]); exits with it.

    Changed: two things Reflex does when it starts in a new web folder and "initializes" the
    project. It touches requirements.txt (same content, new time), which made the next
    `make run` reinstall every package; and it logs advice to use `uv pip install` and
    `uv run reflex run`, which does not apply here. Reflex has no setting for either, so this
    leaves requirements.txt alone (skipped if a later Reflex lacks the function) and cuts the
    advice with a stdlib logging filter, the way Reflex documents for tuning its logging. And
    the first-admin setup line, when `serve` asks for it, comes last
    (`announce_setup_after_app_running`). A production run whose frontend inputs are unchanged
    since its last build reuses that build (`frontend_cache.reuse_unchanged_build`).
    """
    from reflex.reflex import cli as reflex_cli

    quiet_reflex_init()
    announce_setup_after_app_running(os.environ)
    args = list(sys.argv[1:] if argv is None else argv)
    reuse_unchanged_build(Path.cwd(), args, os.environ)
    reflex_cli.main(args=args, prog_name="reflex")


def quiet_reflex_init() -> None:
    """Install `run_reflex`'s two changes in this process (idempotent)."""
    from reflex.utils import frontend_skeleton

    if hasattr(frontend_skeleton, "initialize_requirements_txt"):
        frontend_skeleton.initialize_requirements_txt = _requirements_untouched
    logger = logging.getLogger("reflex.reflex")
    if not any(isinstance(f, _DropPackagingAdvice) for f in logger.filters):
        logger.addFilter(_DropPackagingAdvice())


# Where Reflex keeps the UI state when several backend workers share it.
REDIS_URL_VARIABLE = "REFLEX_REDIS_URL"
# The backend worker count Reflex's production server (granian) reads.
WORKERS_VARIABLE = "GRANIAN_WORKERS"


def backend_workers(requested: int | None, env: Mapping[str, str]) -> int:
    """How many backend processes serve the UI and the API: `requested`, else the cores.

    Reflex keeps each tab's UI state in the memory of the worker its socket reached unless a
    Redis state manager is configured (REFLEX_REDIS_URL): without one, a tab's events could
    land on a worker that does not know it, so the answer is 1 and asking for more is a
    BadParameter. With one, the default is one worker per core (`os.cpu_count()`), not
    Reflex's 2 x cores + 1: each worker loads its own copy of the triage models (about
    250 MiB, `services.warmup`), and the API's requests are CPU-bound, so more processes
    than cores add memory, not throughput. A GRANIAN_WORKERS already set wins over the default.
    """
    has_redis = bool(env.get(REDIS_URL_VARIABLE))
    if requested is not None and requested > 1 and not has_redis:
        raise typer.BadParameter(
            f"several workers need a Redis state manager ({REDIS_URL_VARIABLE}): without one, "
            "each worker holds the UI state of its own tabs only",
            param_hint="--workers",
        )
    if requested is not None:
        return requested
    if not has_redis:
        return 1
    configured = env.get(WORKERS_VARIABLE, "")
    return int(configured) if configured.isdigit() else os.cpu_count() or 1


def start_worker(env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start `python -m ticket_app worker` beside the server (WORKER_EMBEDDED).

    It watches this process (whose pid the server keeps across `exec`) and stops when the
    server does; Ctrl-C in the terminal reaches it too.
    """
    command = [sys.executable, "-m", "ticket_app", "worker", "--parent-pid", str(os.getpid())]
    return subprocess.Popen(command, env=dict(env), cwd=PROJECT_ROOT)


def serve(
    port: int = typer.Option(3000, envvar="PORT", help="Port for the UI and the API."),
    host: str = typer.Option("0.0.0.0", envvar="HOST", help="Address to listen on."),
    database_url: str | None = database_option,
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=64,
        envvar="SERVE_WORKERS",
        help="Backend processes. Default: one per core with REFLEX_REDIS_URL, else 1 (more "
        "than one needs Redis for the UI state).",
    ),
) -> None:
    """Apply pending migrations, then replace this process with the production server.

    Runs `reflex run --env prod` in the project directory (through `run_reflex`), so the
    frontend is built (or refreshed) and served together with the REST API on one port. bun
    must be on PATH. Each port builds in its own folder (`reflex_workdirs`), so servers on
    different ports from one checkout are independent.

    Unless WORKER_EMBEDDED is false, a background worker (`worker`) starts beside it.
    While no active admin exists the server prints the first-admin setup URL and its one-time
    token (SETUP_TOKEN when configured, else generated now and handed to the server's workers)
    as its last start-up line, right after Reflex's "App running at" (`run_reflex`).
    The backend runs `backend_workers` processes (one per core when Redis holds the UI state).
    """
    worker_count = backend_workers(workers, os.environ)
    url = database_url or get_settings().database_url
    upgrade = apply_migrations(url)
    plural = "s" if worker_count > 1 else ""
    typer.echo(f"{upgrade.describe()}; serving on {host}:{port} ({worker_count} worker{plural})")
    env = {**os.environ, "DATABASE_URL": url, WORKERS_VARIABLE: str(worker_count)}
    engine = use_database(url)
    fail_stale_imports()
    with service_errors():
        admin_exists = setup.has_admin()
    engine.dispose()  # the server opens its own connections; none leak across exec
    if not admin_exists:
        configured = get_settings().setup_token
        token = setup.setup_token()
        if configured is None or not configured.get_secret_value():
            env["SETUP_TOKEN"] = token
        env[SETUP_NOTICE_URL] = _setup_url(host, port)
    env.update(reflex_workdirs(port, env))
    if get_settings().worker_embedded:
        start_worker(env)
    args = [sys.executable, "-c", RUN_REFLEX, "run", "--env", "prod"]
    args += ["--frontend-port", str(port), "--backend-port", str(port), "--backend-host", host]
    os.chdir(PROJECT_ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, args, env)
