"""The README's shell commands work as written in a fresh shell (issue 25, item 22).

`python -m ticket_app users list`, as the README wrote it, failed in a new terminal with
`ModuleNotFoundError: No module named 'typer'`: the system's python is not the virtualenv's.
`make install` now installs the `triage-desk` command into .venv/bin, and the README runs it as
`.venv/bin/triage-desk`. The command is installed here into a scratch virtualenv (on top of the
project's packages) exactly as the Makefile does, and the README's own line runs in a shell
without the project's PATH or virtualenv.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ticket_app.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"


def readme_shell_lines() -> list[str]:
    """Every line of the README's ```bash blocks, comments and blank lines left out."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_commands_do_not_depend_on_an_activated_virtualenv() -> None:
    lines = readme_shell_lines()
    assert any(line.startswith(".venv/bin/triage-desk users list") for line in lines)
    bare = [line for line in lines if re.search(r"(^|[|(\s])python3? -m ticket_app\b", line)]
    assert bare == []


@pytest.mark.newcomer
def test_the_readme_users_list_runs_in_a_fresh_shell(tmp_path: Path) -> None:
    venv = tmp_path / "checkout" / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "project-packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # The Makefile's step (`pip install --quiet --no-deps -e .`), with this pip for the scratch
    # virtualenv's python.
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    installed = subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "-e", str(PROJECT_ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr

    (command,) = [line for line in readme_shell_lines() if line.endswith("triage-desk users list")]
    fresh_shell = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
    }
    for line in (".venv/bin/triage-desk migrate", command):
        result = subprocess.run(
            ["bash", "-c", line],
            cwd=venv.parent,
            env=fresh_shell,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{line}: {result.stdout}{result.stderr}"
    assert "no staff users yet" in result.stderr
