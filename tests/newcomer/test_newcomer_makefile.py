"""The Makefile reinstalls packages when requirements.txt's content changes, not its time.

Reflex touches requirements.txt when it prepares a new web folder (every test server does), and
`make run` used to reinstall every package after that. The Makefile runs here in a scratch copy
with stand-ins for python, pip and npm that only record their calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ticket_app.settings import PROJECT_ROOT

pytestmark = [
    pytest.mark.newcomer,
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
]

# Records its call; as `python3 -m venv DIR` it also makes DIR, as the real one would.
RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3"; fi
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project with the Makefile and requirement files; tools/ holds the stand-ins."""
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "Makefile", root / "Makefile")
    shutil.copy2(PROJECT_ROOT / "requirements.txt", root / "requirements.txt")
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copy2(PROJECT_ROOT / "tests" / "requirements.txt", root / "tests" / "requirements.txt")
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("python3", "pip", "npm"):
        tool = tools / name
        tool.write_text(RECORDER.format(log=tmp_path / "calls.log"))
        tool.chmod(0o755)
    return root


def make(project: Path, *args: str) -> tuple[str, list[str]]:
    """Run make in `project` with the stand-ins; return its output and the tools it called."""
    log = project.parent / "calls.log"
    log.unlink(missing_ok=True)
    tools = project.parent / "tools"
    result = subprocess.run(
        ["make", *args, f"PYTHON={tools / 'python3'}", f"BIN={tools}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAKEFLAGS": ""},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    return result.stdout, calls


def pip_installs(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith("pip install --quiet -r")]


def test_a_touched_requirements_file_does_not_reinstall(project: Path) -> None:
    _, calls = make(project, "install")
    assert pip_installs(calls) == ["pip install --quiet -r requirements.txt"]
    requirements = project / "requirements.txt"

    # What Reflex did: same content, newer time.
    later = time.time() + 10
    os.utime(requirements, (later, later))
    output, calls = make(project, "-n", "install")
    assert "pip install" not in output
    _, calls = make(project, "install")
    assert pip_installs(calls) == []

    # A real change still installs.
    requirements.write_text(requirements.read_text() + "example-package==1.0\n")
    output, _ = make(project, "-n", "install")
    assert "pip install --quiet -r requirements.txt" in output
    _, calls = make(project, "install")
    assert pip_installs(calls) == ["pip install --quiet -r requirements.txt"]
    _, calls = make(project, "install")
    assert calls == []


def test_the_test_requirements_follow_the_same_rule(project: Path) -> None:
    _, calls = make(project, "install-test")
    assert pip_installs(calls) == [
        "pip install --quiet -r requirements.txt",
        "pip install --quiet -r tests/requirements.txt",
    ]
    later = time.time() + 10
    os.utime(project / "requirements.txt", (later, later))
    _, calls = make(project, "install-test")
    assert calls == []


def test_install_puts_the_command_in_the_virtualenv_once(project: Path) -> None:
    _, calls = make(project, "install")
    assert "pip install --quiet --no-deps -e ." in calls
    _, calls = make(project, "install")
    assert calls == []

    # A changed pyproject.toml (say, a new command) installs it again; requirements are kept.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n")
    later = time.time() + 10
    os.utime(pyproject, (later, later))
    _, calls = make(project, "install")
    assert calls == ["pip install --quiet --no-deps -e ."]
