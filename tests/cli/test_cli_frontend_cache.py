"""`serve` skips the frontend build when nothing that feeds it changed (issue 25, item 24)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ticket_app.cli import frontend_cache
from ticket_app.cli.frontend_cache import (
    STABLE_PROJECT_HASH,
    build_is_current,
    frontend_fingerprint,
    pin_build_identity,
    record_build,
    reuse_unchanged_build,
)

ARGV = ["run", "--env", "prod", "--frontend-port", "3000", "--backend-port", "3000"]


def _project(root: Path) -> Path:
    (root / "ticket_app" / "ui").mkdir(parents=True)
    (root / "ticket_app" / "ui" / "pages.py").write_text("TITLE = 'Triage Desk'\n")
    (root / "ticket_app" / "ui" / "__pycache__").mkdir()
    (root / "assets").mkdir()
    (root / "assets" / "favicon.ico").write_bytes(b"\x00\x01")
    (root / "rxconfig.py").write_text("config = None\n")
    (root / "requirements.txt").write_text("reflex==0.10.1\n")
    return root


def _print(root: Path, argv=ARGV, environ=None, version="0.10.1") -> str:
    return frontend_fingerprint(root, argv, environ or {"PATH": "/bin"}, version)


def test_the_fingerprint_changes_with_every_input_and_nothing_else(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = _print(root)
    assert _print(root) == before
    (root / "ticket_app" / "ui" / "__pycache__" / "pages.cpython-311.pyc").write_bytes(b"x")
    assert _print(root, environ={"PATH": "/usr/bin", "DATABASE_URL": "x"}) == before
    changed = {
        "a page": lambda: (root / "ticket_app" / "ui" / "pages.py").write_text("TITLE = 'x'\n"),
        "an asset": lambda: (root / "assets" / "logo.svg").write_text("<svg/>"),
        "rxconfig": lambda: (root / "rxconfig.py").write_text("config = 1\n"),
        "requirements": lambda: (root / "requirements.txt").write_text("reflex==0.10.2\n"),
    }
    seen = {before}
    for name, change in changed.items():
        change()
        now = _print(root)
        assert now not in seen, name
        seen.add(now)
    last = _print(root)
    assert _print(root, version="0.10.2") != last
    assert _print(root, argv=[*ARGV[:4], "3401"]) != last
    assert _print(root, environ={"REFLEX_API_URL": "https://desk.example"}) != last
    assert _print(root, environ={"PUBLIC_BASE_URL": "https://desk.example"}) != last


def test_a_build_is_current_only_with_its_fingerprint_and_its_site(tmp_path: Path) -> None:
    web, static = tmp_path / ".web", tmp_path / ".web" / "build" / "client"
    assert not build_is_current(web, static, "abc")
    record_build(web, "abc")
    assert not build_is_current(web, static, "abc")  # the site is missing
    static.mkdir(parents=True)
    (static / "index.html").write_text("<html></html>")
    assert build_is_current(web, static, "abc")
    assert not build_is_current(web, static, "abd")


@pytest.fixture
def reflex_steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Reflex's compile and build steps replaced by ones that note they ran and build a site."""
    import reflex.reflex as reflex_cli_module
    from reflex.utils import build

    ran: list[str] = []

    def fake_build(root: Path) -> None:
        ran.append("build")
        static = root / ".web" / "build" / "client"
        static.mkdir(parents=True, exist_ok=True)
        (static / "index.html").write_text("<html></html>")

    monkeypatch.setattr(reflex_cli_module, "_compile_app", lambda **_: ran.append("compile"))
    monkeypatch.setattr(build, "setup_frontend_prod", fake_build)
    monkeypatch.setattr(build, "setup_frontend", build.setup_frontend)  # restored afterwards
    monkeypatch.delenv("REFLEX_WEB_WORKDIR", raising=False)
    return ran


def test_serve_builds_once_then_reuses_the_build_until_an_input_changes(
    tmp_path: Path, reflex_steps: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import reflex.reflex as reflex_cli_module
    from reflex.utils import build

    root = _project(tmp_path)
    monkeypatch.chdir(root)
    originals = (reflex_cli_module._compile_app, build.setup_frontend_prod)

    def start() -> bool:
        reflex_cli_module._compile_app, build.setup_frontend_prod = originals
        reused = reuse_unchanged_build(root, ARGV, {})
        reflex_cli_module._compile_app(avoid_dirty_check=False)
        build.setup_frontend_prod(root)
        return reused

    assert start() is False and reflex_steps == ["compile", "build"]
    assert (root / ".web" / frontend_cache.FINGERPRINT_FILE).is_file()
    reflex_steps.clear()
    assert start() is True and reflex_steps == []
    (root / "ticket_app" / "ui" / "pages.py").write_text("TITLE = 'Help Desk'\n")
    assert start() is False and reflex_steps == ["compile", "build"]
    reflex_steps.clear()
    assert start() is True and reflex_steps == []
    assert reuse_unchanged_build(root, ["db", "migrate"], {}) is False


def test_two_web_folders_record_the_same_build_identity(tmp_path: Path) -> None:
    """What the bundle imports from reflex.json is the same for any two builds of a version."""
    recorded = [
        {"version": "0.10.1", "project_hash": 1234, "last_reflex_run_datetime": "2026-12-06 1"},
        {
            "version": "0.10.1",
            "project_hash": 98765,
            "last_reflex_run_datetime": "2026-12-06 2",
            "reflex_version_check_timestamp": "2026-12-06",
        },
    ]
    files = []
    for index, content in enumerate(recorded):
        path = tmp_path / f"web-{index}" / "reflex.json"
        path.parent.mkdir()
        path.write_text(json.dumps(content))
        pin_build_identity(path, "0.10.9")
        files.append(path.read_bytes())
    assert files[0] == files[1]
    assert json.loads(files[0]) == {"version": "0.10.1", "project_hash": STABLE_PROJECT_HASH}
    missing = tmp_path / "reflex.json"
    pin_build_identity(missing, "0.10.9")
    assert json.loads(missing.read_text())["version"] == "0.10.9"


def test_a_production_build_pins_the_identity_reflex_just_wrote(
    tmp_path: Path, reflex_steps: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reflex.utils import build

    root = _project(tmp_path)
    monkeypatch.chdir(root)
    reflex_json = root / ".web" / "reflex.json"

    def reflex_setup(_root: Path) -> None:  # what Reflex's setup_frontend writes before a build
        reflex_json.parent.mkdir(exist_ok=True)
        reflex_json.write_text(
            json.dumps({"version": "0.10.1", "project_hash": 42, "last_reflex_run_datetime": "now"})
        )

    monkeypatch.setattr(build, "setup_frontend", reflex_setup)
    assert reuse_unchanged_build(root, ARGV, {}) is False
    build.setup_frontend(root)
    pinned = {"version": "0.10.1", "project_hash": STABLE_PROJECT_HASH}
    assert json.loads(reflex_json.read_text()) == pinned
