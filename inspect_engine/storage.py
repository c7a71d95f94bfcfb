"""The ledger's files: TinyDB over an atomic, checksummed, cached storage, and the writer lock.

This is the only module that imports ``tinydb``. The rest of the code sees :class:`TableFile`
(records of named tables, appended or cleared in one durable write each) and
:class:`WriterLock`; nothing about TinyDB leaks out, so a different backend (PostgreSQL for a
province-wide office ledger) can replace this module alone.

Guarantees
==========
* **Atomic, durable writes.** :class:`LedgerStorage` never writes in place: each write is
  :func:`inspect_engine.fsio.atomic_write` (temp file, fsync, ``os.replace``, fsync of the
  directory). Stock ``JSONStorage`` and ``CachingMiddleware`` are never used: the first tears the
  file when killed mid-write, the second loses writes the caller was told were done
  (libraries.md §2.3).
* **Damage is found and located, never repaired.** The file format (below) carries a CRC32 on
  every line, a strictly increasing record id per table, and an end marker with the record count
  and the SHA-256 of everything before it. A truncated, byte-flipped, duplicated-line, reordered
  or foreign-version file raises :class:`LedgerDamaged` listing every problem with its line; the
  storage never rewrites a file it could not read.
* **No re-parse per query.** The parsed tables are cached and reused while the file's
  ``(device, inode, size, mtime_ns, ctime_ns)`` is unchanged; a write updates the cache, a failed
  write drops it.
* **One writer.** :class:`WriterLock` wraps ``filelock`` on ``ledger.lock``; a second writer gets
  :class:`LedgerLocked` naming the holder's pid, never a corrupt file.

File format (version 1)
=======================
UTF-8 text, one record a line, each line ``<crc32 of the JSON, 8 hex digits> <JSON>\\n``::

    1a2b3c4d {"format":"inspect-engine-ledger","version":1,"kind":"main"}
    5e6f7a8b {"t":"meta","id":1,"doc":{...}}
    9c0d1e2f {"t":"events","id":1,"doc":{...}}
    ...
    3a4b5c6d {"end":{"records":N,"sha256":"<hex of every byte before this line>"}}
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import socket
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import Storage

from inspect_engine.errors import LedgerError, Problem
from inspect_engine.fsio import FileOps, atomic_write

FORMAT_NAME = "inspect-engine-ledger"
"""The ``format`` value in the header line of every ledger file."""
FORMAT_VERSION = 1
"""The file format version this code reads and writes."""

Tables = dict[str, dict[str, dict[str, Any]]]
"""TinyDB's view of a file: table name → record id (as a string) → document."""
StatKey = tuple[int, int, int, int, int]


class LedgerDamaged(LedgerError):
    """A ledger file is damaged or not a ledger file; ``problems`` locates every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("LedgerDamaged needs at least one problem")
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"台账文件损坏 / damaged ledger: {problems[0].render()}{more}",
            hint="nothing was changed; run 'inspect-engine ledger verify' for every problem, "
            "and see docs/ledger.md ('When verify finds damage')",
        )


class LedgerWriteError(LedgerError):
    """A write failed (disk full, I/O error...). The file holds the old content or the new one."""


class LedgerLocked(LedgerError):
    """Another process holds the writer lock."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during bulk work.

    With a large ledger in memory, every collection rescans tens of thousands of live objects;
    parsing or encoding a file allocates enough to trigger many of them (measured: most of a
    fold's time). Reference counting still frees everything meanwhile.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def stat_key(st: os.stat_result) -> StatKey:
    """What identifies one version of a file for the parsed-data cache."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


# --------------------------------------------------------------------------------------------
# Encoding and parsing


def encode_line(obj: Mapping[str, Any]) -> bytes:
    """One line of a ledger file: CRC32 prefix, compact JSON, newline."""
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


@dataclass
class _LineCache:
    """Serialized lines of documents that are never changed in place, keyed by identity."""

    lines: dict[tuple[str, str], tuple[object, bytes]] = field(default_factory=dict)

    def get(self, table: str, doc_id: str, doc: object) -> bytes | None:
        hit = self.lines.get((table, doc_id))
        return hit[1] if hit is not None and hit[0] is doc else None


def encode_file(
    kind: str,
    tables: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    immutable: frozenset[str] = frozenset(),
    cache: _LineCache | None = None,
) -> bytes:
    """The bytes of a ledger file holding ``tables`` (header, records, end marker).

    Lines of tables named in ``immutable`` are reused from ``cache`` when the very same document
    object was written before (append-only tables; their documents are never changed in place).
    """
    out = [encode_line({"format": FORMAT_NAME, "version": FORMAT_VERSION, "kind": kind})]
    new_cache: dict[tuple[str, str], tuple[object, bytes]] = {}
    records = 0
    for name, table in tables.items():
        reuse = cache is not None and name in immutable
        for doc_id, doc in table.items():
            line = cache.get(name, doc_id, doc) if reuse and cache is not None else None
            if line is None:
                line = encode_line({"t": name, "id": int(doc_id), "doc": doc})
            if reuse:
                new_cache[(name, doc_id)] = (doc, line)
            out.append(line)
            records += 1
    body = b"".join(out)
    if cache is not None:
        cache.lines = new_cache
    end = {"end": {"records": records, "sha256": hashlib.sha256(body).hexdigest()}}
    return body + encode_line(end)


@dataclass
class ParsedFile:
    """The outcome of reading one ledger file: its tables, or the problems found."""

    tables: Tables
    problems: list[Problem]
    lines: dict[tuple[str, str], int]
    """(table, record id) → 1-based line number, for locating damage found later."""
    raw: dict[tuple[str, str], bytes] = field(default_factory=dict)
    """(table, record id) → the verified line as read (reused when the file is rewritten)."""
    sha256: str = ""
    """The content checksum recorded in the end marker (a digest of the file)."""


_HEX = frozenset(b"0123456789abcdef")


def decode_line(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """A line's JSON object, or None and why. The checksum prefix is exactly 8 lower-case hex
    digits: ``int()`` alone would also take ``A``-``F``, ``+`` or spaces, and a flipped bit that
    only changes the case of a digit would go unnoticed (on the end marker nothing else covers)."""
    if len(raw) < 10 or raw[8:9] != b" " or not _HEX.issuperset(raw[:8]):
        return None, "no checksum prefix"
    expected = int(raw[:8], 16)
    body = raw[9:]
    if zlib.crc32(body) != expected:
        return None, "checksum mismatch: the line is damaged"
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        return None, f"not valid JSON ({err})"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    return obj, ""


def parse_file(data: bytes, file: str, kind: str) -> ParsedFile:
    """Parse and check a ledger file's bytes; every problem is located by line."""
    problems: list[Problem] = []
    tables: Tables = {}
    where: dict[tuple[str, str], int] = {}
    result = ParsedFile(tables, problems, where)

    def bad(line: int, message: str, key: str = "") -> None:
        problems.append(Problem(file, key, message, line))

    if not data:
        bad(1, "empty file: expected a header line (truncated to nothing?)")
        return result
    lines = data.split(b"\n")
    partial = lines.pop()  # b"" when the file ends with a newline
    header, why = decode_line(lines[0] if lines else partial)
    if header is None:
        if data.lstrip()[:1] in (b"{", b"["):
            bad(1, "not an inspect-engine ledger: plain JSON (a stock TinyDB file?)")
        elif why == "no checksum prefix":
            bad(1, "not an inspect-engine ledger: no header line")
        else:
            bad(1, f"header line: {why}")
        return result
    if header.get("format") != FORMAT_NAME:
        bad(1, f"not an inspect-engine ledger (format {header.get('format')!r})")
        return result
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        bad(1, f"header: version {version!r} is not a number")
        return result
    if version > FORMAT_VERSION:
        bad(
            1,
            f"format version {version} is newer than this inspect-engine supports "
            f"({FORMAT_VERSION}): upgrade inspect-engine to read it",
        )
        return result
    if version < FORMAT_VERSION:
        bad(1, f"format version {version} is older than any this inspect-engine reads")
        return result
    if header.get("kind") != kind:
        bad(1, f"this is a {header.get('kind')!r} file; expected {kind!r}")
        return result

    end_at: int | None = None
    end: dict[str, Any] | None = None
    records = 0
    last_id: dict[str, int] = {}
    for index, raw in enumerate(lines[1:], start=2):
        obj, why = decode_line(raw)
        if obj is None:
            bad(index, why)
            continue
        if "end" in obj:
            if end_at is not None:
                bad(index, f"a second end marker (the first is at line {end_at})")
                continue
            end_at, end = index, obj
            continue
        if end_at is not None:
            bad(index, f"a record after the end marker at line {end_at} (duplicated line?)")
        table, doc_id, doc = obj.get("t"), obj.get("id"), obj.get("doc")
        if (
            set(obj) != {"t", "id", "doc"}
            or not isinstance(table, str)
            or not isinstance(doc_id, int)
            or isinstance(doc_id, bool)
            or not isinstance(doc, dict)
        ):
            bad(index, "malformed record (expected t, id, doc)")
            continue
        records += 1
        key = f"{table}#{doc_id}"
        previous = last_id.get(table)
        if previous is not None and doc_id <= previous:
            first = where.get((table, str(doc_id)))
            if first is not None:
                bad(index, f"duplicate record (first at line {first}; duplicated line?)", key)
            else:
                bad(index, f"out of order: after {table}#{previous} (lines swapped?)", key)
            continue
        last_id[table] = doc_id
        tables.setdefault(table, {})[str(doc_id)] = doc
        where[(table, str(doc_id))] = index
        result.raw[(table, str(doc_id))] = raw + b"\n"
    if partial:
        bad(len(lines) + 1, "the last line is cut short (no newline): the file is truncated")
    if end is None or end_at is None:
        if not partial:
            bad(len(lines), f"no end marker after line {len(lines)}: the file is truncated")
        return result
    info = end.get("end")
    if not isinstance(info, dict):
        bad(end_at, "malformed end marker")
        return result
    if info.get("records") != records:
        bad(
            end_at,
            f"the end marker counts {info.get('records')} records, the file holds {records} "
            "(a line deleted or duplicated?)",
        )
    content = b"\n".join(lines[: end_at - 1]) + b"\n"
    if not problems and hashlib.sha256(content).hexdigest() != info.get("sha256"):
        bad(end_at, "the content checksum in the end marker does not match the file")
    result.sha256 = str(info.get("sha256", ""))
    return result


# --------------------------------------------------------------------------------------------
# The TinyDB storage


class LedgerStorage(Storage):
    """A TinyDB storage: atomic durable writes, checksummed lines, parsed data cached.

    ``kind`` names the file's role (``main``, ``journal``); a file of another kind is refused.
    ``read()`` returns ``None`` for a missing file and never creates one. Documents handed out
    are shared with the cache: callers (here, :class:`TableFile`) copy before changing them.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        kind: str,
        ops: FileOps | None = None,
        readonly: bool = False,
        immutable: Iterable[str] = (),
    ) -> None:
        self.path = Path(path)
        self.kind = kind
        self.ops = ops or FileOps()
        self.readonly = readonly
        self._immutable = frozenset(immutable)
        self._cache: Tables | None = None
        self._cache_key: StatKey | None = None
        self._lines = _LineCache()
        self.parsed: ParsedFile | None = None
        """The last successful parse (line numbers of records, content checksum)."""
        self.reads = 0
        """How many times the file was actually read and parsed (for the tests)."""

    def current_key(self) -> StatKey | None:
        """The file's stat key now, or ``None`` when it does not exist."""
        st = self.ops.stat(self.path)
        return None if st is None else stat_key(st)

    def read(self) -> Tables | None:
        """The tables in the file (cached while the file is unchanged); ``None`` if absent."""
        key = self.current_key()
        if key is None:
            self._drop()
            return None
        if self._cache is not None and key == self._cache_key:
            return dict(self._cache)
        try:
            got = self.ops.read(self.path)
        except OSError as err:
            raise LedgerError(f"读取失败 / could not read {self.path}: {err}") from err
        if got is None:
            self._drop()
            return None
        data, st = got
        self.reads += 1
        with gc_paused():
            parsed = parse_file(data, str(self.path), self.kind)
        if parsed.problems:
            self._drop()
            raise LedgerDamaged(parsed.problems)
        self._cache, self._cache_key, self.parsed = parsed.tables, stat_key(st), parsed
        self._lines = _LineCache(
            {
                key: (parsed.tables[key[0]][key[1]], line)
                for key, line in parsed.raw.items()
                if key[0] in self._immutable
            }
        )
        parsed.raw = {}
        return dict(parsed.tables)

    def write(self, data: Tables) -> None:
        """Replace the file with ``data`` durably; :class:`LedgerWriteError` on any I/O error."""
        if self.readonly:
            raise LedgerError(f"{self.path} is open read-only")
        with gc_paused():
            payload = encode_file(self.kind, data, immutable=self._immutable, cache=self._lines)
        try:
            atomic_write(self.path, payload, self.ops)
            st = self.ops.stat(self.path)
        except OSError as err:
            self._drop()
            raise LedgerWriteError(
                f"保存失败 / could not save {self.path}: {err.strerror or err}",
                hint="the ledger holds either everything before this change or all of it, never "
                "a part; free disk space or fix the device, then reopen and check",
            ) from err
        if st is None:  # pragma: no cover - we just replaced it
            self._drop()
            return
        self._cache = {name: dict(table) for name, table in data.items() if table}
        self._cache_key = stat_key(st)
        self.parsed = None

    def _drop(self) -> None:
        self._cache = None
        self._cache_key = None
        self._lines = _LineCache()

    def close(self) -> None:
        """Nothing to flush: every write is already durable."""
        self._drop()


class TableFile:
    """One ledger file as named tables of records, held by TinyDB over :class:`LedgerStorage`.

    Each :meth:`append` or :meth:`clear` is one durable write of the whole file. Tables listed in
    ``immutable`` are append-only: their documents are never changed, which lets the storage
    reuse their serialized lines.
    """

    def __init__(
        self,
        path: Path,
        *,
        kind: str,
        ops: FileOps,
        readonly: bool = False,
        immutable: Iterable[str] = (),
    ) -> None:
        self.path = path
        self._args: dict[str, Any] = {
            "kind": kind,
            "ops": ops,
            "readonly": readonly,
            "immutable": tuple(immutable),
        }
        self._db: Any = TinyDB(path, storage=LedgerStorage, **self._args)

    @property
    def storage(self) -> LedgerStorage:
        """The storage under the TinyDB instance."""
        storage: LedgerStorage = self._db.storage
        return storage

    def reset(self) -> None:
        """Forget every cache (TinyDB's next ids, the parsed data); the next read re-reads."""
        self._db.close()
        self._db = TinyDB(self.path, storage=LedgerStorage, **self._args)

    def exists(self) -> bool:
        """Whether the file exists."""
        return self.storage.current_key() is not None

    def load(self) -> Tables | None:
        """All tables (read through the cache); ``None`` when the file does not exist."""
        data: Tables | None = self.storage.read()
        return data

    def records(self, table: str) -> list[dict[str, Any]]:
        """The documents of ``table`` in record-id order (shared: do not change them)."""
        data = self.storage.read()
        if data is None:
            return []
        return list(data.get(table, {}).values())

    def append(self, table: str, docs: list[dict[str, Any]]) -> None:
        """Add ``docs`` to ``table`` in one durable write."""
        with gc_paused():  # TinyDB rebuilds the whole table dict twice per write
            self._db.table(table, cache_size=0).insert_multiple(docs)

    def clear(self, table: str) -> None:
        """Remove every record of ``table`` in one durable write."""
        self._db.table(table, cache_size=0).truncate()

    def write_all(self, tables: Tables) -> None:
        """Replace the whole file with ``tables`` in one durable write (backups, salvage)."""
        self.storage.write(tables)
        self.reset()


# --------------------------------------------------------------------------------------------
# The writer lock


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown"


class WriterLock:
    """The one-writer-per-ledger lock: ``filelock`` on ``<data dir>/ledger.lock``.

    The holder writes its pid and host into the lock file when it gets the lock, so a second
    writer's error can name it. The operating system releases the lock when the holder dies,
    even by ``SIGKILL``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path, thread_local=False, on_acquired=self._stamp)

    @staticmethod
    def _stamp(fd: int) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)

    def acquire(self, timeout: float, what: Path) -> None:
        """Take the lock within ``timeout`` seconds, or raise :class:`LedgerLocked`."""
        try:
            self._lock.acquire(timeout=timeout)
        except Timeout:
            raise LedgerLocked(
                f"台账正被另一个进程使用 / ledger at {what} is in use by another "
                f"inspect-engine process ({_holder(self.path)})",
                hint="close the other inspect-engine (the app, or a running import) and retry",
            ) from None
        except OSError as err:
            raise LedgerError(f"cannot lock the ledger at {what}: {err}") from err

    def release(self) -> None:
        """Release the lock (idempotent)."""
        with contextlib.suppress(OSError):
            self._lock.release(force=True)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return bool(self._lock.is_locked)
