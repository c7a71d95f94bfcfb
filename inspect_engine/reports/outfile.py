"""Writing a report to ``--out``: whole or not at all, and never a half-made file.

Reports are built in memory first; only a finished document reaches the disk, through
:func:`inspect_engine.fsio.atomic_write` (temporary file in the same folder, ``fsync``, rename,
``fsync`` of the folder). An error before the rename leaves the target as it was, an existing
file included. New files get the ledger's private mode (0600): a hazard list or a notice names
people and their telephone numbers.
"""

from __future__ import annotations

from pathlib import Path

from inspect_engine.errors import InputError
from inspect_engine.fsio import FileOps, atomic_write


def write_out(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically; :class:`InputError` naming the path on failure."""
    if path.is_dir():
        raise InputError(f"--out {path}: is a directory, not a file")
    if not path.parent.is_dir():
        raise InputError(f"--out {path}: the folder {path.parent} does not exist")
    try:
        atomic_write(path, data, FileOps())
    except OSError as err:
        raise InputError(f"--out {path}: cannot write: {err.strerror or err}") from err
