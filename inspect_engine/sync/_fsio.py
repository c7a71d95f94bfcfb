"""Durable small-file writes for sync state: temp file, fsync, replace (or link), fsync the dir.

The pattern of reliability-plan.md §5. Used for key files, checkpoints, bundles and evidence
blobs; the ledger itself is written by :mod:`inspect_engine.storage`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a rename or link in ``path`` durable (no-op where directories cannot be opened)."""
    if os.name == "nt":  # pragma: no cover - no directory fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(target: Path, data: bytes, mode: int) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes 0600; widen only when asked
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def write_atomic(target: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``target`` with ``data``: readers see the old file or the new one, never a mix."""
    tmp = _write_temp(target, data, mode)
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)


def create_exclusive(target: Path, data: bytes, *, mode: int = 0o600) -> bool:
    """Create ``target`` with ``data`` durably unless it exists; True when this call created it.

    The content appears whole or not at all (written to a temp file, then hard-linked into place,
    which fails if the target exists: no race between the check and the write).
    """
    tmp = _write_temp(target, data, mode)
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(target.parent)
    return True
