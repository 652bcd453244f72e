"""Command-line tools for operators: migrations, import/export, serving, demo data, staff, tokens.

Every command works on DATABASE_URL like the app unless `--database-url` says otherwise. Exit
codes: 0 success, 1 some rows were rejected (the good ones were imported), 2 bad usage or input
(an unreadable file, a weak password, an unknown role or user, a taken email), 3 the database
refused or is unreachable.

The `users` and `tokens` commands act as the system actor "cli" (an operator with shell access
may do everything) through the service layer, so the audit trail records what they changed.
Passwords are read from a hidden prompt or `--password-stdin`, never from an argument; a new
token's secret is the only thing `tokens create` writes to standard output.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from typer.core import TyperCommand, TyperGroup, TyperOption

from ticket_app import log_redaction
from ticket_app.bench import format_table, run_bench
from ticket_app.models import ActorKind, Category, Priority, Role, Status
from ticket_app.schemas import TicketFilters, TokenRead, UserRead
from ticket_app.services import stats
from ticket_app.services.access import Actor
from ticket_app.services.database import use_database
from ticket_app.services.demo import (
    DEFAULT_DEMO_SEED,
    DEFAULT_DEMO_TICKETS,
    seed_demo,
    seed_demo_staff,
)
from ticket_app.services.errors import (
    ConflictError,
    ConstraintViolationError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
)
from ticket_app.services.export_files import export_to_file
from ticket_app.services.exporter import export_csv
from ticket_app.services.identity import setup
from ticket_app.services.identity import tokens as identity_tokens
from ticket_app.services.identity import users as identity_users
from ticket_app.services.import_runs import fail_stale_runs
from ticket_app.services.importer import (
    DEFAULT_BATCH_SIZE,
    ImportFileError,
    ImportReport,
    SchemaOutOfDateError,
    check_schema,
    import_file,
    parse_column_map,
)
from ticket_app.services.migrations import SchemaUpgrade, table_exists, upgrade_database
from ticket_app.services.tickets import record_export
from ticket_app.services.triage_signals import (
    BACKFILL_BATCH_SIZE,
    BackfillReport,
    backfill_signals,
)
from ticket_app.settings import PROJECT_ROOT, get_settings


def _untyped_flags(params: list) -> list:
    """`params` with every flag's type column left empty in the help (changed in place).

    Typer's rich help prints a type for every option, so flags (`--quiet`, `--help`,
    `--classify/--no-classify`) showed `<bool>` as if they took a value. An empty metavar is
    what its help renders instead of the type.
    """
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class _Command(TyperCommand):
    """A command whose help shows flags without a value type."""

    def get_params(self, ctx: typer.Context) -> list:
        """The command's parameters (the help option included), flags without a type."""
        return _untyped_flags(super().get_params(ctx))


class _Group(TyperGroup):
    """A command group whose help shows flags without a value type."""

    def get_params(self, ctx: typer.Context) -> list:
        """The group's parameters (the help option included), flags without a type."""
        return _untyped_flags(super().get_params(ctx))


app = typer.Typer(help="Triage Desk command-line tools.", no_args_is_help=True, cls=_Group)
users_app = typer.Typer(
    help="Staff accounts: create, list, deactivate, change role or password.", cls=_Group
)
tokens_app = typer.Typer(
    help="API tokens: create (the secret is printed once), list, revoke.", cls=_Group
)
app.add_typer(users_app, name="users", no_args_is_help=True)
counts_app = typer.Typer(
    help="The ticket counts behind the stats and list totals: rebuild.", cls=_Group
)
app.add_typer(tokens_app, name="tokens", no_args_is_help=True)
app.add_typer(counts_app, name="counts", no_args_is_help=True)
signals_app = typer.Typer(
    help="Triage signals (language, sentiment, frustration) of stored tickets: backfill.",
    cls=_Group,
)
app.add_typer(signals_app, name="signals", no_args_is_help=True)

# An operator with shell access to the server: allowed every action, recorded as "cli".
CLI_ACTOR = Actor.process(ActorKind.SYSTEM, "cli")
DEMO_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'triage_desk_demo.db'}"
MAX_ERRORS_SHOWN = 50
BACKFILL_PROGRESS_EVERY = 10  # batches between progress lines on standard error

EXIT_REJECTED_ROWS = 1
EXIT_BAD_INPUT = 2
EXIT_DATABASE = 3

_database_option = typer.Option(
    None, "--database-url", help="SQLAlchemy database URL (default: DATABASE_URL)."
)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _connect(database_url: str | None) -> str:
    """Point the process at `database_url` (or the settings' URL) and return the URL used.

    Connects once first, so an unreachable or missing database ends the command with one line
    (exit 3) before any work starts.
    """
    url = database_url or get_settings().database_url
    try:
        with use_database(url).connect():
            pass
    except (OperationalError, InterfaceError) as exc:
        raise _unreachable(exc, url) from exc
    return url


def _connect_migrated(database_url: str | None, table: str) -> str:
    """`_connect`, then make sure `table` exists (exit 3 if unreachable or unmigrated).

    `table` is one the command needs that a migration added, so a database that predates it
    gets a clear message instead of a driver error.
    """
    url = _connect(database_url)
    try:
        # Schema introspection only: no data is read.
        migrated = table_exists(table)
    except (OperationalError, InterfaceError) as exc:
        raise _unreachable(exc, url) from exc
    if not migrated:
        raise _fail(
            "the database schema is not up to date; run `python -m ticket_app migrate` first",
            EXIT_DATABASE,
        )
    return url


def _connect_identity(database_url: str | None) -> str:
    """`_connect_migrated` for the staff tables."""
    return _connect_migrated(database_url, "staff_users")


_OPTION_OF_FIELD = {"expires_days": "--expires-days", "scopes": "--scopes", "name": "--name"}


def _input_message(exc: InvalidInputError) -> str:
    """The error for the user: "password must be at least ...", or the message alone."""
    message = str(exc)
    if message.startswith(("must ", "is ")):
        return f"{_OPTION_OF_FIELD.get(exc.field, exc.field)} {message}"
    return message


# PostgreSQL refuses the connection with this when the server runs but the database is not
# there; psycopg reports no SQLSTATE for connection failures, so the message is all there is.
_MISSING_DATABASE = re.compile(r'database ".*" does not exist')


def _unreachable(exc: OperationalError | InterfaceError, url: str) -> typer.Exit:
    """Exit 3 with the driver's reason on one line (psycopg's spans several).

    A PostgreSQL database that does not exist yet gets its own message saying how to create it.
    """
    reason = " ".join(str(exc.orig).split())
    missing = getattr(exc.orig, "sqlstate", None) == "3D000" or _MISSING_DATABASE.search(reason)
    if missing and url.startswith("postgresql"):
        return _fail(_missing_database_message(url), EXIT_DATABASE)
    return _fail(f"the database is unreachable: {reason}", EXIT_DATABASE)


def _missing_database_message(url: str) -> str:
    """The one-line error for a PostgreSQL database that does not exist, with its createdb line.

    'database "x" does not exist on the PostgreSQL server at H:P; create it with `createdb ...`
    and run this again'. The createdb line names the URL's host (or `?host=` socket directory),
    port and user, never its password.
    """
    parts = make_url(url)
    host = parts.host or parts.query.get("host")
    if isinstance(host, tuple):  # a repeated query parameter
        host = host[0]
    server = "the local PostgreSQL server"
    if host:
        server = f"the PostgreSQL server at {host}:{parts.port or 5432}"
    args = ["createdb"]
    if host:
        args += ["-h", host]
    if parts.port:
        args += ["-p", str(parts.port)]
    if parts.username:
        args += ["-U", parts.username]
    args.append(parts.database or "")
    return (
        f'database "{parts.database}" does not exist on {server}; '
        f"create it with `{shlex.join(args)}` and run this again"
    )


@contextmanager
def _service_errors() -> Iterator[None]:
    """Turn service errors into one-line messages and the exit-code convention."""
    try:
        yield
    except ConflictError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from exc
    except InvalidInputError as exc:
        raise _fail(_input_message(exc), EXIT_BAD_INPUT) from exc
    except (NotFoundError, ConstraintViolationError) as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from exc
    except ServiceError as exc:
        raise _fail(str(exc), EXIT_DATABASE) from exc


def _when(value: datetime | None) -> str:
    """A stored time as `YYYY-MM-DD HH:MM` in UTC, or "-" when there is none."""
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M")


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Plain columns separated by two spaces (no wrapping or cutting, so grep and awk work)."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    for row in [headers, *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        typer.echo(line.rstrip())


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more detail.")) -> None:
    """Triage Desk command-line tools; every command uses DATABASE_URL like the app."""
    log_redaction.install()
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)


@app.command(cls=_Command)
def migrate(database_url: str | None = _database_option) -> None:
    """Apply all pending schema migrations."""
    url = database_url or get_settings().database_url
    typer.echo(_upgrade(url).describe())
    use_database(url)
    _fail_stale_imports()


def _fail_stale_imports() -> None:
    """Mark import runs that were killed mid-way failed (services.import_runs), and say so."""
    with _service_errors():
        stale = fail_stale_runs()
    if stale:
        ids = ", ".join(str(run_id) for run_id in stale)
        typer.echo(f"marked interrupted import run(s) {ids} failed", err=True)


def _upgrade(url: str) -> SchemaUpgrade:
    """Apply pending migrations and return what was done.

    Exits 3 with one line when the database cannot be reached or does not exist.
    """
    try:
        return upgrade_database(url)
    except (OperationalError, InterfaceError) as exc:
        raise _unreachable(exc, url) from exc


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
RUN_REFLEX = "from ticket_app.cli import run_reflex; run_reflex()"

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


def run_reflex(argv: Sequence[str] | None = None) -> None:
    """Run Reflex's command line: `reflex` with `argv` (default sys.argv[1:]); exits with it.

    Changed: two things Reflex does when it starts in a new web folder and "initializes" the
    project. It touches requirements.txt (same content, new time), which made the next
    `make run` reinstall every package; and it logs advice to use `uv pip install` and
    `uv run reflex run`, which does not apply here. Reflex has no setting for either, so this
    leaves requirements.txt alone (skipped if a later Reflex lacks the function) and cuts the
    advice with a stdlib logging filter, the way Reflex documents for tuning its logging.
    """
    from reflex.reflex import cli as reflex_cli

    quiet_reflex_init()
    args = list(sys.argv[1:] if argv is None else argv)
    reflex_cli.main(args=args, prog_name="reflex")


def quiet_reflex_init() -> None:
    """Install `run_reflex`'s two changes in this process (idempotent)."""
    from reflex.utils import frontend_skeleton

    if hasattr(frontend_skeleton, "initialize_requirements_txt"):
        frontend_skeleton.initialize_requirements_txt = _requirements_untouched
    logger = logging.getLogger("reflex.reflex")
    if not any(isinstance(f, _DropPackagingAdvice) for f in logger.filters):
        logger.addFilter(_DropPackagingAdvice())


@app.command(cls=_Command)
def serve(
    port: int = typer.Option(3000, envvar="PORT", help="Port for the UI and the API."),
    host: str = typer.Option("0.0.0.0", envvar="HOST", help="Address to listen on."),
    database_url: str | None = _database_option,
) -> None:
    """Apply pending migrations, then replace this process with the production server.

    Runs `reflex run --env prod` in the project directory (through `run_reflex`), so the
    frontend is built (or refreshed) and served together with the REST API on one port. bun
    must be on PATH. Each port builds in its own folder (`reflex_workdirs`), so servers on
    different ports from one checkout are independent.

    While no active admin exists it prints the first-admin setup URL and its one-time token
    (SETUP_TOKEN when configured, else generated now and handed to the server's workers).
    """
    url = database_url or get_settings().database_url
    upgrade = _upgrade(url)
    typer.echo(f"{upgrade.describe()}; serving on {host}:{port}")
    env = {**os.environ, "DATABASE_URL": url}
    engine = use_database(url)
    _fail_stale_imports()
    with _service_errors():
        admin_exists = setup.has_admin()
    engine.dispose()  # the server opens its own connections; none leak across exec
    if not admin_exists:
        configured = get_settings().setup_token
        token = setup.setup_token()
        if configured is None or not configured.get_secret_value():
            env["SETUP_TOKEN"] = token
        typer.echo(
            f"No admin yet: open {_setup_url(host, port)} and enter the setup token: {token}"
        )
    env.update(reflex_workdirs(port, env))
    args = [sys.executable, "-c", RUN_REFLEX, "run", "--env", "prod"]
    args += ["--frontend-port", str(port), "--backend-port", str(port), "--backend-host", host]
    os.chdir(PROJECT_ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, args, env)


def _report_import(report: ImportReport) -> None:
    for error in report.errors[:MAX_ERRORS_SHOWN]:
        typer.echo(str(error), err=True)
    if len(report.errors) > MAX_ERRORS_SHOWN:
        typer.echo(f"... and {len(report.errors) - MAX_ERRORS_SHOWN} more errors", err=True)
    typer.echo(
        f"read {report.rows} rows: imported {report.inserted}, "
        f"already present {report.already_present}, rejected {report.rejected}, "
        f"classified {report.classified}"
    )


@app.command("import", cls=_Command)
def import_command(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or JSON Lines file."),
    ],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="FIELD=COLUMN",
            help="Read FIELD from COLUMN (repeatable), e.g. --map description=instruction.",
        ),
    ] = None,
    file_format: str | None = typer.Option(
        None, "--format", help="csv or jsonl (default: from the extension)."
    ),
    classify: bool = typer.Option(
        True,
        "--classify/--no-classify",
        help="Ask the classifier for missing or unknown category/priority "
        "(--no-classify: general/medium).",
    ),
    batch_size: int = typer.Option(
        DEFAULT_BATCH_SIZE, min=1, help="Rows per transaction; a batch is stored whole or not."
    ),
    line_ids: bool = typer.Option(
        False,
        "--line-ids",
        help="Give rows without an external_id the id FILENAME:LINE, so a re-run skips them.",
    ),
    allow_duplicates: bool = typer.Option(
        False,
        "--allow-duplicates",
        help="Import a file again even though an earlier import of the same bytes wrote "
        "tickets and rows without an external_id would be stored twice.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    database_url: str | None = _database_option,
) -> None:
    """Import tickets from a CSV or JSON Lines file; bad rows are reported by line and skipped."""
    try:
        columns = parse_column_map(mapping or [])
    except ValueError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from exc
    _connect(database_url)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    )
    task = progress.add_task("importing", total=file.stat().st_size or 1)

    def on_progress(position: int, report: ImportReport) -> None:
        progress.update(task, completed=position, description=f"{report.rows} rows")

    try:
        check_schema()
        with progress:
            report = import_file(
                file,
                file_format=file_format,
                columns=columns,
                classify=classify,
                batch_size=batch_size,
                line_ids=line_ids,
                on_progress=on_progress,
                allow_duplicates=allow_duplicates,
            )
    except ImportFileError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from exc
    except (ServiceError, SchemaOutOfDateError) as exc:
        raise _fail(str(exc), EXIT_DATABASE) from exc
    _report_import(report)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED_ROWS)


@app.command(cls=_Command)
def export(
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Case-insensitive text in title or description.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            dir_okay=False,
            help="Write to this file (default, or '-': stdout).",
        ),
    ] = None,
    database_url: str | None = _database_option,
) -> None:
    """Export the matching tickets, newest first, as CSV (the format `import` reads back).

    A file is written under a hidden temporary name and renamed when complete, so a failed or
    killed export never leaves a truncated file behind; a temporary file left by a killed
    export is removed by the next export to the same file. The export is recorded in the audit
    trail (actor `cli`).
    """
    _connect(database_url)
    filters = TicketFilters(category=category, priority=priority, status=status, search=search)
    try:
        record_export(filters, actor=CLI_ACTOR)
        if output is None or str(output) == "-":
            for chunk in export_csv(filters):
                typer.echo(chunk, nl=False)
            return
        count = export_to_file(output, filters)
    except ServiceError as exc:
        raise _fail(str(exc), EXIT_DATABASE) from exc
    typer.echo(f"exported {count} tickets to {output}", err=True)


@app.command(cls=_Command)
def demo(
    count: int = typer.Option(DEFAULT_DEMO_TICKETS, min=1, help="How many tickets to generate."),
    seed: int = typer.Option(
        DEFAULT_DEMO_SEED, help="Random seed; the same seed on the same UTC day, the same data."
    ),
    database_url: str = typer.Option(
        DEMO_DATABASE_URL,
        "--database-url",
        help="Database to fill (default: its own SQLite file, never DATABASE_URL).",
    ),
) -> None:
    """Migrate a database, fill it with demo tickets and add demo staff with printed passwords.

    The tickets are generated for the 90 days before today (UTC), the same ones for the same
    seed all day; the staff are an admin, an agent and a viewer, each with a generated password
    printed once.

    Idempotent: tickets carry external ids demo-NNNNN and demo accounts are looked up by email,
    so running it again adds nothing (and leaves existing passwords as they are).
    """
    _upgrade(database_url)
    use_database(database_url)
    try:
        report = seed_demo(count, seed=seed)
        accounts = seed_demo_staff(CLI_ACTOR)
    except ServiceError as exc:
        raise _fail(str(exc), EXIT_DATABASE) from exc
    typer.echo(
        f"demo database {database_url}: added {report.inserted} tickets "
        f"({report.already_present} were already there)"
    )
    for number, account in enumerate(accounts):
        label = "Demo sign-in" if number == 0 else f"Demo {account.role.value}"
        password = account.password or "(already there; password unchanged)"
        typer.echo(f"{label}: {account.email} / {password}")
    if any(account.password is None for account in accounts):
        typer.echo(
            "a forgotten demo password can be replaced with `python -m ticket_app users "
            f"reset-password EMAIL --database-url {database_url}`"
        )


# Staff users ---------------------------------------------------------------------------------

_password_stdin_option = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from standard input (one trailing newline is dropped) "
    "instead of prompting.",
)


def _parse_role(value: str) -> Role:
    """The role named `value` (any case); exit 2 naming the allowed roles otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(role.value for role in Role)
        raise _fail(f"unknown role {value!r}; use one of {allowed}", EXIT_BAD_INPUT) from None


def _read_password(password_stdin: bool) -> str:
    """The new password: all of standard input (minus one trailing newline) or two prompts."""
    if password_stdin:
        text = sys.stdin.read()
        if text.endswith("\n"):
            text = text[:-1]
            if text.endswith("\r"):
                text = text[:-1]
        return text
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _known_emails() -> set[str]:
    with _service_errors():
        return {user.email for user in identity_users.list_users()}


def _normalized_email(email: str) -> str:
    with _service_errors():
        return identity_users.normalize_email(email)


@users_app.command("create", cls=_Command)
def users_create(
    email: Annotated[str, typer.Argument(help="Sign-in email of the new staff user.")],
    role: Annotated[str, typer.Option("--role", help="admin, agent or viewer.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: the email's local part).")
    ] = None,
    password_stdin: bool = _password_stdin_option,
    database_url: str | None = _database_option,
) -> None:
    """Create an active staff user; the password is prompted for twice unless --password-stdin.

    Passwords need at least 12 characters and must not be one of the most common ones.
    """
    new_role = _parse_role(role)
    address = _normalized_email(email)
    _connect_identity(database_url)
    # Ask before the password prompt, so a taken email does not cost typing a password twice.
    if address in _known_emails():
        raise _fail(f"a staff user with email {address} already exists", EXIT_BAD_INPUT)
    password = _read_password(password_stdin)
    with _service_errors():
        user = identity_users.create_user(address, new_role, password, name=name, actor=CLI_ACTOR)
    typer.echo(f"created {user.role.value} {user.email} (id {user.id})")


@users_app.command("list", cls=_Command)
def users_list(database_url: str | None = _database_option) -> None:
    """List staff users, active first: id, email, name, role, active, created, last login (UTC)."""
    _connect_identity(database_url)
    with _service_errors():
        users = identity_users.list_users()
    if not users:
        typer.echo("no staff users yet; add one with `users create EMAIL --role admin`", err=True)
        return
    _print_table(
        ("id", "email", "name", "role", "active", "created", "last login"),
        [_user_row(user) for user in users],
    )


def _user_row(user: UserRead) -> list[str]:
    return [
        str(user.id),
        user.email,
        user.name,
        user.role.value,
        "yes" if user.is_active else "no",
        _when(user.created_at),
        _when(user.last_login_at),
    ]


@users_app.command("deactivate", cls=_Command)
def users_deactivate(
    email: Annotated[str, typer.Argument(help="Email of the staff user.")],
    database_url: str | None = _database_option,
) -> None:
    """Deactivate a user: their sessions end and their API tokens stop working at once.

    The last active admin cannot be deactivated.
    """
    _connect_identity(database_url)
    with _service_errors():
        user = identity_users.set_active(email, False, actor=CLI_ACTOR)
    typer.echo(f"deactivated {user.email}; their sessions and API tokens no longer work")


@users_app.command("activate", cls=_Command)
def users_activate(
    email: Annotated[str, typer.Argument(help="Email of the staff user.")],
    database_url: str | None = _database_option,
) -> None:
    """Reactivate a deactivated user (their unrevoked, unexpired tokens work again)."""
    _connect_identity(database_url)
    with _service_errors():
        user = identity_users.set_active(email, True, actor=CLI_ACTOR)
    typer.echo(f"activated {user.email}")


@users_app.command("set-role", cls=_Command)
def users_set_role(
    email: Annotated[str, typer.Argument(help="Email of the staff user.")],
    role: Annotated[str, typer.Argument(help="admin, agent or viewer.")],
    database_url: str | None = _database_option,
) -> None:
    """Change a user's role; their sessions end. The last active admin cannot be demoted."""
    new_role = _parse_role(role)
    _connect_identity(database_url)
    with _service_errors():
        user = identity_users.set_role(email, new_role, actor=CLI_ACTOR)
    typer.echo(f"{user.email} is now {user.role.value}")


@users_app.command("reset-password", cls=_Command)
def users_reset_password(
    email: Annotated[str, typer.Argument(help="Email of the staff user.")],
    password_stdin: bool = _password_stdin_option,
    keep_tokens: Annotated[
        bool,
        typer.Option(
            "--keep-tokens",
            help="Leave their API tokens working (by default a reset revokes them too).",
        ),
    ] = False,
    database_url: str | None = _database_option,
) -> None:
    """Set a new password (prompted for twice unless --password-stdin).

    Their sessions end and their API tokens are revoked, unless --keep-tokens.
    """
    address = _normalized_email(email)
    _connect_identity(database_url)
    if address not in _known_emails():
        raise _fail(f"no staff user with email {address}", EXIT_BAD_INPUT)
    password = _read_password(password_stdin)
    with _service_errors():
        user = identity_users.reset_password(
            address, password, actor=CLI_ACTOR, revoke_tokens=not keep_tokens
        )
    ended = "their sessions ended" if keep_tokens else "their sessions ended, tokens revoked"
    typer.echo(f"password of {user.email} changed; {ended}")


# API tokens ----------------------------------------------------------------------------------


@tokens_app.command("create", cls=_Command)
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="Email of the token's owner.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. ci-export.")],
    scopes: Annotated[
        str | None,
        typer.Option(
            "--scopes", help="Comma-separated: tickets:read,tickets:write (default: both)."
        ),
    ] = None,
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", help="Expire after N days (default: never).")
    ] = None,
    database_url: str | None = _database_option,
) -> None:
    """Create an API token acting for USER with their role, limited to its scopes.

    The secret is printed alone on standard output (one line, shown only this once; it is not
    stored, only its hash); everything else goes to standard error.
    """
    _connect_identity(database_url)
    with _service_errors():
        secret, info = identity_tokens.create_token(
            user, name, scopes=scopes, expires_days=expires_days, actor=CLI_ACTOR
        )
    expiry = f"expires {_when(info.expires_at)} UTC" if info.expires_at else "never expires"
    typer.echo(
        f"created API token {info.id} {info.name!r} for {info.user_email} "
        f"(scopes {','.join(info.scopes)}; {expiry}); the secret below is shown only once",
        err=True,
    )
    typer.echo(secret)


@tokens_app.command("list", cls=_Command)
def tokens_list(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this owner's tokens (email).")
    ] = None,
    database_url: str | None = _database_option,
) -> None:
    """List API tokens, newest first (times in UTC); secrets are never shown, only prefixes."""
    _connect_identity(database_url)
    with _service_errors():
        tokens = identity_tokens.list_tokens(actor=CLI_ACTOR, owner_email=user)
    if not tokens:
        typer.echo("no API tokens", err=True)
        return
    _print_table(
        (
            "id",
            "owner",
            "name",
            "prefix",
            "scopes",
            "created",
            "expires",
            "last used",
            "revoked",
        ),
        [_token_row(token) for token in tokens],
    )


def _token_row(token: TokenRead) -> list[str]:
    expires = "never"
    if token.expires_at is not None:
        expires = _when(token.expires_at)
        if identity_tokens.expires_in(token.expires_at) == "expired":
            expires += " (expired)"
    return [
        str(token.id),
        token.user_email,
        token.name,
        f"{token.prefix}…",
        ",".join(token.scopes),
        _when(token.created_at),
        expires,
        _when(token.last_used_at),
        _when(token.revoked_at),
    ]


@tokens_app.command("revoke", cls=_Command)
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="Token id (see `tokens list`).")],
    database_url: str | None = _database_option,
) -> None:
    """Revoke an API token; it stops working at once. Revoking it again changes nothing."""
    _connect_identity(database_url)
    with _service_errors():
        token = identity_tokens.revoke_token(token_id, actor=CLI_ACTOR)
    typer.echo(f"revoked API token {token.id} {token.name!r} of {token.user_email}")


# Ticket counts -------------------------------------------------------------------------------


@counts_app.command("rebuild", cls=_Command)
def counts_rebuild(database_url: str | None = _database_option) -> None:
    """Recompute the ticket counts behind the stats and list totals, and say what was wrong.

    Database triggers keep the counts exact, so normally nothing is: each count that differed
    is printed (table, key, stored, actual). Ticket writes wait while it runs (about a second
    per million tickets); reads go on.
    """
    _connect_migrated(database_url, "ticket_counts")
    with _service_errors():
        result = stats.rebuild_counts()
    if result.fixes:
        _print_table(
            ["TABLE", "KEY", "STORED", "ACTUAL"],
            [
                [fix.table, "/".join(fix.key), str(fix.stored), str(fix.actual)]
                for fix in result.fixes
            ],
        )
    verdict = f"fixed {len(result.fixes)} counts" if result.fixes else "every count was exact"
    typer.echo(
        f"{verdict}; {result.rows} (day, status, category, priority) rows now, "
        f"{result.empty_rows_removed} empty rows removed"
    )


# Triage signals ------------------------------------------------------------------------------


@signals_app.command("backfill", cls=_Command)
def signals_backfill(
    batch_size: int = typer.Option(
        BACKFILL_BATCH_SIZE, "--batch-size", min=1, help="Tickets per transaction."
    ),
    database_url: str | None = _database_option,
) -> None:
    """Read the language, sentiment and frustration of tickets that have none yet.

    Tickets stored before these columns existed, or imported by an older version, have empty
    signals, so the language and frustrated-customer filters do not find them. Each batch is
    committed with one audit event; run it again after an interruption and it continues. No
    network: about a millisecond a ticket.
    """
    _connect_migrated(database_url, "ticket_counts")

    def progress(report: BackfillReport) -> None:
        if report.batches % BACKFILL_PROGRESS_EVERY == 0:
            typer.echo(f"{report.filled:,} tickets so far", err=True)

    with _service_errors():
        report = backfill_signals(actor=CLI_ACTOR, batch_size=batch_size, on_batch=progress)
    if not report.filled:
        typer.echo("every ticket already has its signals")
        return
    typer.echo(
        f"read the signals of {report.filled:,} tickets in {report.batches:,} batches: "
        f"{report.frustrated:,} frustrated, {report.without_language:,} too short to tell "
        "the language"
    )


# Benchmark -----------------------------------------------------------------------------------


def _client_counts(value: str) -> list[int]:
    """`1,4` as [1, 4]; exit 2 unless every part is a whole number from 1 to 64."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or not all(part.isascii() and part.isdigit() for part in parts):
        raise _fail(
            f"--clients must be comma-separated numbers such as 1,4, not {value!r}", EXIT_BAD_INPUT
        )
    counts_ = [int(part) for part in parts]
    if not all(1 <= count <= 64 for count in counts_):
        raise _fail("--clients must be between 1 and 64", EXIT_BAD_INPUT)
    return counts_


@app.command(cls=_Command)
def bench(
    tickets: int = typer.Option(100_000, "--tickets", min=1, help="Tickets to measure with."),
    database_url: str = typer.Option(
        ...,
        "--database-url",
        help="A database of its own (generated tickets are added and stay); PostgreSQL for "
        "meaningful figures.",
    ),
    clients: str = typer.Option("1,4", "--clients", help="Concurrent clients, e.g. 1,4."),
    seconds: float = typer.Option(5.0, "--seconds", min=0.5, help="Run time per row."),
) -> None:
    """Measure every kind of API request through the real HTTP stack, as a table.

    Migrates the database, tops it up to TICKETS generated tickets (COPY on PostgreSQL),
    starts the API under granian and runs: first page, enum filters, deep page, rare and common
    search, stats (all and filtered), ticket by id, create (classified offline) and PATCH, at
    each client count. Prints p50/p95 latency, requests per second, errors and the load average.
    """
    client_counts = _client_counts(clients)
    _upgrade(database_url)
    with _service_errors():
        run = run_bench(
            database_url,
            tickets,
            clients=client_counts,
            seconds=seconds,
            progress=lambda line: typer.echo(line, err=True),
        )
    loaded = f", {run.loaded:,} loaded in {run.load_seconds:.1f} s" if run.loaded else ""
    typer.echo(
        f"{run.tickets:,} tickets on {make_url(database_url).get_backend_name()}{loaded}; "
        f"API under granian (1 worker), {os.cpu_count()} CPUs; {seconds:g} s per row"
    )
    typer.echo(format_table(run.results))
