"""Durable file replacement, with every file-system call behind one injectable object.

:func:`atomic_write` is the only way the ledger writes a file: a temporary file in the same
directory, written in full, ``fsync``-ed, closed, ``os.replace``-d over the target, then the
directory ``fsync``-ed so the rename itself survives a power cut. A reader (or a process started
after a crash) sees either the old file or the new one, never a mix.

Every call goes through a :class:`FileOps` instance. The reliability tests substitute one that
raises ``ENOSPC`` or ``EIO`` at the *k*-th call, the way SQLite's test VFS does, to prove that an
error at any step leaves the old file or the new one and is raised to the caller.

Temporary files are named ``.<target>.tmp-<random>``; :func:`cleanup_temp_files` removes the ones
a killed process left behind. Only a process holding the ledger lock may call it, since another
writer's temporary file is in use while it writes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

TEMP_MARK = ".tmp-"
"""Infix of temporary file names: ``.<target name>.tmp-<random>``."""

NEW_FILE_MODE = 0o600
"""Mode of a newly created ledger or evidence file: inspection records are private."""


class FileOps:
    """The file-system calls of the storage layer; override any to inject faults.

    The mutating calls (``mkstemp``, ``write``, ``fsync``, ``close``, ``replace``,
    ``fsync_dir``, ``unlink``, ``makedirs``) are the fault-injection points.
    """

    def read(self, path: Path) -> tuple[bytes, os.stat_result] | None:
        """The bytes of ``path`` and the ``fstat`` of the same open file; ``None`` if absent."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return None
        try:
            st = os.fstat(fd)
            chunks: list[bytes] = []
            # The whole file in one read (one more byte than its size sees the end, or that it
            # grew), then in pieces if it did: joining pieces copies a 100 MB state once more.
            want = st.st_size + 1
            while True:
                chunk = os.read(fd, want)
                if not chunk:
                    break
                chunks.append(chunk)
                want = 1 << 20
            return (chunks[0] if len(chunks) == 1 else b"".join(chunks)), st
        finally:
            os.close(fd)

    def stat(self, path: Path) -> os.stat_result | None:
        """``os.stat(path)``, or ``None`` when the file does not exist."""
        try:
            return os.stat(path)
        except FileNotFoundError:
            return None

    def makedirs(self, path: Path) -> None:
        """Create ``path`` and its parents (private to the user) if missing."""
        os.makedirs(path, mode=0o700, exist_ok=True)

    def mkstemp(self, directory: Path, prefix: str) -> tuple[int, str]:
        """Create a new temporary file in ``directory``; return its descriptor and path."""
        return tempfile.mkstemp(dir=directory, prefix=prefix)

    def fchmod(self, fd: int, mode: int) -> None:
        """Set the temporary file's mode (keeps the target's mode across replacements)."""
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        """One ``os.write``; returns the number of bytes written (may be fewer than asked)."""
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        """Flush the file's data to the device."""
        os.fsync(fd)

    def close(self, fd: int) -> None:
        """Close a descriptor."""
        os.close(fd)

    def replace(self, src: str, dst: Path) -> None:
        """Atomically rename ``src`` over ``dst`` (retried briefly on Windows sharing errors)."""
        if sys.platform != "win32":
            os.replace(src, dst)
            return
        for attempt in range(5):  # pragma: no cover - Windows only
            try:
                os.replace(src, dst)
                return
            except PermissionError:
                if attempt == 4:
                    raise
                time.sleep(0.25)

    def fsync_dir(self, directory: Path) -> None:
        """``fsync`` a directory so a rename in it is durable (a no-op on Windows)."""
        if sys.platform == "win32":  # pragma: no cover - no directory fsync there
            return
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def unlink(self, path: str | Path) -> None:
        """Remove a file."""
        os.unlink(path)

    def listdir(self, directory: Path) -> list[str]:
        """Names in ``directory`` (empty when it does not exist)."""
        try:
            return os.listdir(directory)
        except FileNotFoundError:
            return []


def temp_prefix(target: Path) -> str:
    """The temporary-file prefix used when replacing ``target``."""
    return f".{target.name}{TEMP_MARK}"


def atomic_write(path: Path, data: bytes | Iterable[bytes], ops: FileOps) -> None:
    """Replace ``path`` with ``data`` durably: temp file, fsync, replace, fsync of the directory.

    ``data`` may be an iterable of chunks (written in turn: a large file need not be held in
    memory whole). On an error before the replace, including one raised by the iterable, the
    temporary file is removed (best effort) and ``path`` is untouched. An error from the final
    directory ``fsync`` means the new content is in place but its durability across a power cut
    is unconfirmed; it is raised all the same. Every error is raised as the original ``OSError``.
    """
    directory = path.parent
    before = ops.stat(path)
    mode = (before.st_mode & 0o7777) if before is not None else NEW_FILE_MODE
    fd, tmp = ops.mkstemp(directory, temp_prefix(path))
    fd_open = True
    try:
        ops.fchmod(fd, mode)
        chunks = (data,) if isinstance(data, bytes | bytearray | memoryview) else data
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                written = ops.write(fd, view)
                if written <= 0:  # pragma: no cover - os.write never returns 0 for regular files
                    raise OSError("write returned 0 bytes")
                view = view[written:]
        ops.fsync(fd)
        fd_open = False
        ops.close(fd)
        ops.replace(tmp, path)
    except BaseException:
        if fd_open:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            ops.unlink(tmp)
        raise
    ops.fsync_dir(directory)


def cleanup_temp_files(directory: Path, targets: list[str], ops: FileOps) -> list[str]:
    """Remove leftover temporary files of ``targets`` (file names) in ``directory``.

    Returns the names removed. Call only while holding the ledger lock.
    """
    prefixes = tuple(f".{name}{TEMP_MARK}" for name in targets)
    removed = []
    for name in ops.listdir(directory):
        if name.startswith(prefixes):
            with contextlib.suppress(FileNotFoundError):
                ops.unlink(directory / name)
                removed.append(name)
    return removed
