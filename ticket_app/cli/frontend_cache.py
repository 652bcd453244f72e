"""Skip the production frontend build when nothing that feeds it changed (issue 25, item 24).

`reflex run --env prod` compiles the pages and rebuilds the frontend with bun on every start:
about 40 s on a loaded machine, although a restart rarely changes any of it. Before Reflex
runs, `serve` fingerprints what the build is made from (`frontend_fingerprint`): the app's
Python files and assets, `rxconfig.py`, `.env`, the requirements, `reflex.lock/`, the Reflex
version, Reflex's command line (port, host, mode) and the environment variables that reach
the build or its baked-in URLs. The fingerprint of the last good build is kept in the web
folder beside it; when it matches and the built site is there, Reflex's compile and build
steps are skipped and the server starts on the files already built.

A build is also the same on every instance (`pin_build_identity`): instances behind one
balancer must serve the same asset names, or a tab that fails over to another instance asks
it for a page's code under a name only the first one had (a 404, and Reflex reloads the page,
losing what the tab was about to show).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

# Kept in the web folder; its text is the fingerprint of the build beside it.
FINGERPRINT_FILE = "triage-desk-build.sha256"
# What the build is made from, relative to the project directory: files, and folders read whole.
INPUT_FILES = ("rxconfig.py", ".env", "requirements.txt", "pyproject.toml")
INPUT_FOLDERS = ("ticket_app", "assets", "reflex.lock")
# Environment variables that change the built frontend: Reflex's and Vite's own, and the
# settings rxconfig.py turns into Reflex configuration.
ENV_PREFIXES = ("REFLEX_", "VITE_")
ENV_NAMES = ("PUBLIC_BASE_URL", "CORS_ALLOWED_ORIGINS")
# Set by the server itself once it runs; not an input.
ENV_IGNORED = frozenset({"REFLEX_SKIP_COMPILE", "REFLEX_ENV_MODE"})
_SKIPPED_PARTS = frozenset({"__pycache__", "node_modules"})
# The project hash every build records (Reflex's is random per new web folder; with telemetry
# off, Reflex uses it for nothing else).
STABLE_PROJECT_HASH = int.from_bytes(hashlib.sha256(b"triage-desk").digest()[:8], "big")


def _input_paths(root: Path) -> Iterable[Path]:
    """Every input file under `root`, in a stable order (missing ones are left out)."""
    for name in INPUT_FILES:
        path = root / name
        if path.is_file():
            yield path
    for name in INPUT_FOLDERS:
        folder = root / name
        if folder.is_dir():
            yield from sorted(
                path
                for path in folder.rglob("*")
                if path.is_file()
                and not _SKIPPED_PARTS.intersection(path.relative_to(root).parts)
                and path.suffix != ".pyc"
            )


def frontend_fingerprint(
    root: Path, argv: Sequence[str], environ: Mapping[str, str], reflex_version: str
) -> str:
    """A SHA-256 hex digest of everything the production frontend is built from.

    `root` is the project directory, `argv` Reflex's command line (`run --env prod
    --frontend-port ...`), `environ` the server's environment and `reflex_version` the
    installed Reflex's. Any change to a file's path or content, to the command line, to the
    version or to a relevant environment variable gives another digest.
    """
    digest = hashlib.sha256()

    def add(*parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)

    add("reflex", reflex_version, "argv", *argv)
    for name in sorted(environ):
        relevant = name.startswith(ENV_PREFIXES) or name in ENV_NAMES
        if relevant and name not in ENV_IGNORED:
            add("env", name, environ[name])
    for path in _input_paths(root):
        add("file", path.relative_to(root).as_posix(), path.read_bytes())
    return digest.hexdigest()


def build_is_current(web_dir: Path, static_dir: Path, fingerprint: str) -> bool:
    """Whether `web_dir` holds a finished build of `fingerprint` (its site in `static_dir`)."""
    stored = web_dir / FINGERPRINT_FILE
    try:
        recorded = stored.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return recorded == fingerprint and (static_dir / "index.html").is_file()


def forget_build(web_dir: Path) -> None:
    """Drop the recorded fingerprint (before a build: a failed one must not look current)."""
    (web_dir / FINGERPRINT_FILE).unlink(missing_ok=True)


def record_build(web_dir: Path, fingerprint: str) -> None:
    """Remember that the build in `web_dir` was made from `fingerprint`."""
    web_dir.mkdir(parents=True, exist_ok=True)
    (web_dir / FINGERPRINT_FILE).write_text(fingerprint + "\n", encoding="ascii")


def reuse_unchanged_build(root: Path, argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Make this process's `reflex run --env prod` skip the build when its inputs are unchanged.

    Returns True when the previous build is reused: Reflex's compile and frontend build steps
    become no-ops. Otherwise the build runs as usual and its fingerprint is recorded when it
    succeeds. Does nothing (returns False) for any other command than a production run.
    """
    args = list(argv)
    if not args or args[0] != "run" or "prod" not in args:
        return False
    import reflex.reflex as reflex_cli_module
    from reflex.utils import build, prerequisites
    from reflex_base import constants

    fingerprint = frontend_fingerprint(root, args, environ, constants.Reflex.VERSION)
    web_dir = root / prerequisites.get_web_dir()
    static_dir = web_dir / constants.Dirs.STATIC
    if build_is_current(web_dir, static_dir, fingerprint):
        reflex_cli_module._compile_app = _skipped
        build.setup_frontend_prod = _skipped
        logger.warning("Frontend unchanged since its last build: reusing %s", static_dir)
        return True
    build.setup_frontend_prod = _recording(build.setup_frontend_prod, web_dir, fingerprint)
    build.setup_frontend = _pinning(build.setup_frontend, web_dir / constants.Dirs.REFLEX_JSON)
    return False


def pin_build_identity(reflex_json: Path, reflex_version: str) -> None:
    """Reduce the web folder's `reflex.json` to what is the same for every build of a version.

    Reflex writes a random project hash (per new web folder) and the time of each run into
    that file, and the frontend bundle imports the file whole, so two instances built from the
    same code got different asset names (a failed-over tab's next page was a 404). Kept:
    `version` (`reflex_version` if missing) and `project_hash` (STABLE_PROJECT_HASH). Dropped
    with the run time: Reflex's timestamps of its version checks, so a server that checks for
    new versions (REFLEX_CHECK_LATEST_VERSION) checks at each build.
    """
    try:
        recorded = json.loads(reflex_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = {}
    version = recorded.get("version") if isinstance(recorded, dict) else None
    pinned = {"version": version or reflex_version, "project_hash": STABLE_PROJECT_HASH}
    reflex_json.write_text(json.dumps(pinned), encoding="utf-8")


def _skipped(*_args: object, **_kwargs: object) -> None:
    """Stand-in for a compile or build step whose output is already there."""


def _pinning(setup: Callable[[Path], None], reflex_json: Path) -> Callable:
    """`setup` (Reflex's `setup_frontend`, run before each build), then `pin_build_identity`."""
    from reflex_base import constants

    def setup_then_pin(root: Path) -> None:
        setup(root)
        pin_build_identity(reflex_json, constants.Reflex.VERSION)

    return setup_then_pin


def _recording(setup: Callable[[Path], None], web_dir: Path, fingerprint: str) -> Callable:
    """`setup` (Reflex's `setup_frontend_prod`), recording `fingerprint` once it has built."""

    def setup_then_record(root: Path) -> None:
        forget_build(web_dir)
        setup(root)
        record_build(web_dir, fingerprint)

    return setup_then_record
