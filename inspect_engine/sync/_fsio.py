"""Exclusive durable creation of a file (for key files); replacements use inspect_engine.fsio."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from inspect_engine.fsio import FileOps


def create_exclusive(target: Path, data: bytes, *, mode: int = 0o600) -> bool:
    """Create ``target`` with ``data`` durably unless it exists; True when this call created it.

    The content appears whole or not at all: it is written to a temp file (created with ``mode``,
    fsynced), then hard-linked into place, which fails if the target exists, so there is no race
    between the check and the write and an existing key is never replaced.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.tmp-")
    tmp = Path(name)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, target)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    FileOps().fsync_dir(target.parent)
    return True
