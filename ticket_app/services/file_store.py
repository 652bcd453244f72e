"""Files on disk under STORAGE_DIR: raw mail (`.eml`), quarantined mail and attachments.

Files are content-addressed (`<area>/<aa>/<bb>/<sha256><suffix>`), so storing the same bytes
twice (a re-fetched message, a retried job) writes one file, and a write is atomic (a temporary
file renamed into place): a crash never leaves half a file under a name the database points to.
Paths handed back are relative to STORAGE_DIR; reading refuses any path that would leave it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ticket_app.services.errors import NotFoundError
from ticket_app.settings import get_settings

AREAS = ("mail", "quarantine", "attachments")


@dataclass(frozen=True)
class StoredFile:
    """Where bytes were stored (relative to STORAGE_DIR), their size and SHA-256 (hex)."""

    path: str
    size: int
    sha256: str


def storage_root() -> Path:
    """The storage folder (created when missing)."""
    root = Path(get_settings().storage_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def store(area: str, data: bytes, suffix: str = "") -> StoredFile:
    """Store `data` in `area` (one of AREAS) and return where; the same bytes land once.

    Raises ValueError for an unknown area, OSError when the disk refuses the write.
    """
    if area not in AREAS:
        raise ValueError(f"unknown storage area {area!r}")
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(area) / digest[:2] / digest[2:4] / f"{digest}{suffix}"
    target = storage_root() / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as output:
                output.write(data)
                output.flush()
                os.fsync(output.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return StoredFile(path=relative.as_posix(), size=len(data), sha256=digest)


def read(path: str) -> bytes:
    """The bytes stored at `path` (as returned by `store`).

    Raises NotFoundError when the file is gone or `path` points outside the storage folder.
    """
    root = storage_root()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        raise NotFoundError(f"stored file {path!r} is missing")
    return target.read_bytes()
