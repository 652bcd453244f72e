"""Names shared by the CLI tests (fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

Invoke = Callable[..., Result]
"""The `cli` fixture: `cli(*args, input=None)` runs a command on the test database."""

STRONG_PASSWORD = "violet lantern under snow"
"""A password the policy accepts."""
