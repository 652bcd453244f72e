"""What every command shares: the help classes, exit codes, options, actor and output helpers.

Flags are shown without a value type (`Command`, `Group`); service errors become one line and
an exit code (`service_errors`); tables are plain columns (`print_table`). CLI_ACTOR is the system
actor "cli" the commands act as, so the audit trail records what they changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from ticket_app.models import ActorKind
from ticket_app.services.access import Actor
from ticket_app.services.errors import (
    ConflictError,
    ConstraintViolationError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
)


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


class Command(TyperCommand):
    """A command whose help shows flags without a value type."""

    def get_params(self, ctx: typer.Context) -> list:
        """The command's parameters (the help option included), flags without a type."""
        return _untyped_flags(super().get_params(ctx))


class Group(TyperGroup):
    """A command group whose help shows flags without a value type."""

    def get_params(self, ctx: typer.Context) -> list:
        """The group's parameters (the help option included), flags without a type."""
        return _untyped_flags(super().get_params(ctx))


# An operator with shell access to the server: allowed every action, recorded as "cli".
CLI_ACTOR = Actor.process(ActorKind.SYSTEM, "cli")

EXIT_REJECTED_ROWS = 1
EXIT_BAD_INPUT = 2
EXIT_DATABASE = 3

database_option = typer.Option(
    None, "--database-url", help="SQLAlchemy database URL (default: DATABASE_URL)."
)


def fail(message: str, code: int) -> typer.Exit:
    """`error: MESSAGE` on standard error, and the exit with `code` for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


_OPTION_OF_FIELD = {"expires_days": "--expires-days", "scopes": "--scopes", "name": "--name"}


def _input_message(exc: InvalidInputError) -> str:
    """The error for the user: "password must be at least ...", or the message alone."""
    message = str(exc)
    if message.startswith(("must ", "is ")):
        return f"{_OPTION_OF_FIELD.get(exc.field, exc.field)} {message}"
    return message


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn service errors into one-line messages and the exit-code convention."""
    try:
        yield
    except ConflictError as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from exc
    except InvalidInputError as exc:
        raise fail(_input_message(exc), EXIT_BAD_INPUT) from exc
    except (NotFoundError, ConstraintViolationError) as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from exc
    except ServiceError as exc:
        raise fail(str(exc), EXIT_DATABASE) from exc


def when(value: datetime | None) -> str:
    """A stored time as `YYYY-MM-DD HH:MM` in UTC, or "-" when there is none."""
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Plain columns separated by two spaces (no wrapping or cutting, so grep and awk work)."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    for row in [headers, *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        typer.echo(line.rstrip())
