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

File format (version 2; version 1 is read too)
==============================================
UTF-8 text, one record a line, each line ``<crc32 of the JSON, 8 hex digits> <JSON>\\n``::

    1a2b3c4d {"format":"inspect-engine-ledger","version":2,"kind":"main"}
    5e6f7a8b {"t":"meta","id":1,"doc":{...}}
    9c0d1e2f {"t":"events","id":1,"doc":{...}}
    ...
    3a4b5c6d {"end":{"records":N,"sha256":"<hex of every byte before this line>"}}

Sealed segments (``segments/*.db``, kind ``segment``) are files of the same format written once
by :func:`write_segment` and never changed; ``ledger.db`` references each in its ``segments``
table with its record count and SHA-256 (:class:`SegmentRef`), and :func:`read_segment` refuses
one that does not match. Version 2 added them; a version-1 reader would miss their events, so
it must refuse the file.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import hashlib
import json
import os
import re
import socket
import threading
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic_core import from_json
from tinydb import TinyDB
from tinydb.storages import Storage

from inspect_engine.errors import LedgerError, Problem
from inspect_engine.fsio import FileOps, atomic_write

FORMAT_NAME = "inspect-engine-ledger"
"""The ``format`` value in the header line of every ledger file."""
FORMAT_VERSION = 2
"""The file format version this code writes. Version 2 added sealed segment files referenced by
``ledger.db`` (its ``segments`` table): a version-1 reader would not see their events, so it
must refuse the file rather than read part of the ledger."""
OLDEST_VERSION = 1
"""The oldest file format version this code reads (version 1: every event in ``ledger.db``)."""

Tables = dict[str, dict[str, Any]]
"""TinyDB's view of a file: table name → record id (as a string) → document (or what a parse's
``convert`` made of it)."""
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

    After bulk work (:data:`FREEZE_FROM` new objects or more: loading, rebuilding), everything
    alive is frozen (``gc.freeze``): the first collection would otherwise traverse all the new
    objects (measured 1-2 s after loading 200,000 events), and later full collections all of
    them again. The price: an object alive now that is later dropped *inside a reference
    cycle* is never reclaimed (the ledger's events, documents and projection have no cycles;
    other code's may). Small pauses (an answer saved) freeze nothing, so a long session does
    not pin what its screens come and go with.
    """
    was = gc.isenabled()
    gc.disable()
    before = gc.get_count()[0]
    try:
        yield
    finally:
        if was:
            if gc.get_count()[0] - before >= FREEZE_FROM:
                gc.freeze()
            gc.enable()


FREEZE_FROM = 100_000
"""New objects a :func:`gc_paused` block must leave behind for them to be frozen."""


def stat_key(st: os.stat_result) -> StatKey:
    """What identifies one version of a file for the parsed-data cache."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


# --------------------------------------------------------------------------------------------
# Encoding and parsing


def encode_line(obj: Mapping[str, Any]) -> bytes:
    """One line of a ledger file: CRC32 prefix, compact JSON, newline."""
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def encode_chunks(
    kind: str,
    tables: Iterable[tuple[str, Iterable[Mapping[str, Any] | bytes]]],
    *,
    lines: int = 2000,
) -> Iterator[bytes]:
    """The bytes of a ledger file, in chunks of ``lines`` lines, never all in memory at once:
    the same file as :func:`encode_file` for tables given as ``(name, documents)`` with record
    ids 1, 2, ... (the SHA-256 of the end marker is computed as the chunks go). A document given
    as ``bytes`` is compact JSON written as it is (one kept encoded by ``raw_tables``)."""
    digest = hashlib.sha256()
    records = 0
    out = [encode_line({"format": FORMAT_NAME, "version": FORMAT_VERSION, "kind": kind})]
    for name, docs in tables:
        for doc_id, doc in enumerate(docs, start=1):
            if isinstance(doc, bytes):  # a document kept encoded (parse_file's raw_tables)
                body = b'{"t":%s,"id":%d,"doc":%s}' % (json.dumps(name).encode(), doc_id, doc)
                out.append(b"%08x %s\n" % (zlib.crc32(body), body))
            else:
                out.append(encode_line({"t": name, "id": doc_id, "doc": doc}))
            records += 1
            if len(out) >= lines:
                chunk = b"".join(out)
                digest.update(chunk)
                yield chunk
                out = []
    chunk = b"".join(out)
    digest.update(chunk)
    yield chunk + encode_line({"end": {"records": records, "sha256": digest.hexdigest()}})


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


class LineIndex:
    """(table, record id) → 1-based line number, stored as runs (ids grow within a table).

    A clean file stores each table's records on consecutive lines with consecutive ids: one run
    per table. A dict keyed by tuples cost ~150 bytes a record, which at city scale (700,000
    events) was 100 MB held only for the rare damage report.
    """

    def __init__(self) -> None:
        self._runs: dict[str, tuple[array[int], array[int], array[int]]] = {}
        """table → (first id, first line, length) of each run."""
        self._table = ""
        self._next: tuple[int, int] = (0, 0)
        self._len: array[int] | None = None

    def add(self, table: str, doc_id: int, line: int) -> None:
        """Record where ``table#doc_id`` is (ids must grow within a table)."""
        if table == self._table and (doc_id, line) == self._next and self._len is not None:
            self._len[-1] += 1
        else:
            runs = self._runs.get(table)
            if runs is None:
                runs = self._runs[table] = (array("q"), array("q"), array("q"))
            runs[0].append(doc_id)
            runs[1].append(line)
            runs[2].append(1)
            self._len = runs[2]
            self._table = table
        self._next = (doc_id + 1, line + 1)

    def get(self, key: tuple[str, str], default: int | None = None) -> int | None:
        """The line of ``(table, str(record id))``, or ``default``."""
        runs = self._runs.get(key[0])
        try:
            doc_id = int(key[1])
        except ValueError:
            return default
        if runs is None:
            return default
        i = bisect.bisect_right(runs[0], doc_id) - 1
        if i >= 0 and doc_id < runs[0][i] + runs[2][i]:
            return int(runs[1][i] + doc_id - runs[0][i])
        return default

    def __getitem__(self, key: tuple[str, str]) -> int:
        got = self.get(key)
        if got is None:
            raise KeyError(key)
        return got

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 2 and self.get(key) is not None


@dataclass
class ParsedFile:
    """The outcome of reading one ledger file: its tables, or the problems found."""

    tables: Tables
    problems: list[Problem]
    lines: LineIndex
    """(table, record id) → 1-based line number, for locating damage found later."""
    raw: dict[tuple[str, str], bytes] = field(default_factory=dict)
    """(table, record id) → the verified line as read (reused when the file is rewritten);
    filled only for files up to :data:`RAW_LINES_UP_TO` bytes (the head and the journal)."""
    sha256: str = ""
    """The content checksum recorded in the end marker (a digest of the file)."""
    version: int = FORMAT_VERSION
    """The format version in the header."""
    tail: bytes = b""
    """The lines of ``parse_file``'s ``tail_tables``, as read and unchecked (see there)."""
    tail_records: int = 0
    """How many lines :attr:`tail` holds (counted in the end marker's records)."""


_HEX = frozenset(b"0123456789abcdef")
RAW_LINES_UP_TO = 32 * 1024 * 1024
"""Files up to this size keep their verified lines for reuse when rewritten (see ParsedFile)."""
HASH_IN_THREAD_FROM = 4 * 1024 * 1024
"""Files from this size have their SHA-256 computed in a thread while the lines are parsed
(``hashlib`` releases the GIL on large buffers: the two run on two cores)."""


def _loads(body: bytes) -> Any:
    """JSON of one line body. ``pydantic_core.from_json`` (Rust, caching repeated strings such as
    keys, device ids, kinds and chained hashes: measured half the memory and twice the speed of
    ``json.loads`` on a ledger); any input it refuses is decided by ``json.loads``, so what a
    line means never depends on which parser read it."""
    try:
        return from_json(body, cache_strings=True)
    except ValueError:
        return json.loads(body.decode("utf-8"))


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
        obj = _loads(body)
    except (UnicodeDecodeError, ValueError) as err:
        return None, f"not valid JSON ({err})"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    return obj, ""


def _check_header(header: dict[str, Any] | None, why: str, data: bytes, kind: str) -> str | None:
    if header is None:
        if data.lstrip()[:1] in (b"{", b"["):
            return "not an inspect-engine ledger: plain JSON (a stock TinyDB file?)"
        if why == "no checksum prefix":
            return "not an inspect-engine ledger: no header line"
        return f"header line: {why}"
    if header.get("format") != FORMAT_NAME:
        return f"not an inspect-engine ledger (format {header.get('format')!r})"
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        return f"header: version {version!r} is not a number"
    if version > FORMAT_VERSION:
        return (
            f"format version {version} is newer than this inspect-engine supports "
            f"({FORMAT_VERSION}): upgrade inspect-engine to read it"
        )
    if version < OLDEST_VERSION:
        return f"format version {version} is older than any this inspect-engine reads"
    if header.get("kind") != kind:
        return f"this is a {header.get('kind')!r} file; expected {kind!r}"
    return None


def _raw_record(data: bytes, digits_from: int, end: int) -> tuple[int, bytes] | None:
    """``(id, document bytes)`` of a record line written by :func:`encode_chunks`
    (``{"t":…,"id":N,"doc":{…}}``) whose ``{"t":…,"id":`` ends at ``digits_from``, without
    parsing the document; ``None`` if the rest is not of that exact shape."""
    comma = data.find(b',"doc":{', digits_from, end)
    if comma < 0 or data[end - 1] != 0x7D or not data[digits_from:comma].isdigit():
        return None
    doc = data[comma + 7 : end - 1]
    if not doc.endswith(b"}"):
        return None
    return int(data[digits_from:comma]), doc


class _Hasher(threading.Thread):
    """SHA-256 of a large buffer on another core while the caller parses it."""

    def __init__(self, view: memoryview) -> None:
        super().__init__(daemon=True)
        self.view = view
        self.digest = ""

    def run(self) -> None:
        self.digest = hashlib.sha256(self.view).hexdigest()


def parse_file(
    data: bytes,
    file: str,
    kind: str,
    *,
    convert: Callable[[str, dict[str, Any]], Any] | None = None,
    raw_tables: Sequence[str] = (),
    tail_tables: Sequence[str] = (),
) -> ParsedFile:
    """Parse and check a ledger file's bytes; every problem is located by line.

    Records of the tables named in ``raw_tables`` keep their document as the bytes of its JSON
    (checked by the line's CRC, not parsed, not converted): for documents that are seldom read
    (the saved state's answers of sealed inspections), decoded by whoever reads them.

    ``convert(table, doc)``, when given, is applied to each record's document as it is read and
    its result stored in the tables instead (the ledger turns event documents into compact
    :class:`~inspect_engine.events.Event` objects at once, so 700,000 documents never coexist).

    ``tail_tables`` names tables written last (just before the end marker) whose lines are not
    read at all: from the first line of one of them to the end marker, the file's bytes are kept as
    :attr:`ParsedFile.tail` and its lines counted, nothing more. They are checked only by the end
    marker's SHA-256 (which covers them), so whoever reads a line of the tail later must check
    its CRC and shape itself (the saved state's answers: 46 MB in a city, seldom read).

    Lines are found in place (no copy of the file is made): each line's CRC is checked on a view
    of ``data``, and the end marker's SHA-256 over the bytes before it.
    """
    problems: list[Problem] = []
    tables: Tables = {}
    where = LineIndex()
    result = ParsedFile(tables, problems, where)

    def bad(line: int, message: str, key: str = "") -> None:
        problems.append(Problem(file, key, message, line))

    if not data:
        bad(1, "empty file: expected a header line (truncated to nothing?)")
        return result
    size = len(data)
    view = memoryview(data)
    first_nl = data.find(b"\n")
    header, why = decode_line(data[: first_nl if first_nl >= 0 else size])
    wrong = _check_header(header, why, data, kind)
    if wrong is not None or header is None:
        bad(1, wrong or "not an inspect-engine ledger")
        return result
    result.version = int(header["version"])
    if first_nl < 0:
        bad(1, "the last line is cut short (no newline): the file is truncated")
        return result

    # The end marker is normally the last line: hash everything before it meanwhile.
    last_start = data.rfind(b"\n", 0, size - 1) + 1 if data.endswith(b"\n") else -1
    hasher: _Hasher | None = None
    if size >= HASH_IN_THREAD_FROM and last_start > 0:
        hasher = _Hasher(view[:last_start])
        hasher.start()
    keep_raw = size <= RAW_LINES_UP_TO
    raw_lines = result.raw
    end_at: int | None = None
    end_pos = 0
    end: dict[str, Any] | None = None
    records = 0
    last_id: dict[str, int] = {}
    tables_get = tables.get
    hexdigits = _HEX
    crc32 = zlib.crc32
    loads = _loads
    pos = first_nl + 1
    index = 1
    partial = False
    raw_prefixes = tuple(b'{"t":%s,"id":' % json.dumps(t).encode() for t in raw_tables)
    raw_names = dict(zip(raw_prefixes, raw_tables, strict=True))
    tail_prefixes = tuple(b'{"t":%s,"id":' % json.dumps(t).encode() for t in tail_tables)
    try:
        while pos < size:
            if tail_prefixes and data.startswith(tail_prefixes, pos + 9) and last_start > pos:
                # The tail: up to the last line (the end marker, checked as any other line).
                count = data.count(b"\n", pos, last_start)
                result.tail, result.tail_records = data[pos:last_start], count
                records += count
                index += count
                pos = last_start
                tail_prefixes = ()
                continue
            index += 1
            nl = data.find(b"\n", pos)
            if nl < 0:
                partial = True
                # a cut line is still read, so the problem list names it as the truncation
                nl = size
            line_start = pos
            pos = nl + 1
            body_start = line_start + 9
            if (
                nl - line_start < 10
                or b"%08x " % crc32(view[body_start:nl]) != data[line_start:body_start]
            ):
                # The common case is one comparison; sort out which problem it is only here.
                if partial:
                    continue
                if (
                    nl - line_start < 10
                    or data[line_start + 8] != 0x20
                    or not hexdigits.issuperset(data[line_start : line_start + 8])
                ):
                    bad(index, "no checksum prefix")
                else:
                    bad(index, "checksum mismatch: the line is damaged")
                continue
            if partial:
                continue
            if raw_prefixes and data.startswith(raw_prefixes, body_start):
                prefix = next(p for p in raw_prefixes if data.startswith(p, body_start))
                raw = _raw_record(data, body_start + len(prefix), nl)
                if raw is not None:
                    obj = {"t": raw_names[prefix], "id": raw[0], "doc": raw[1]}
                    convert_this = False
                else:
                    bad(index, "malformed record (expected t, id, doc)")
                    continue
            else:
                convert_this = convert is not None
                try:
                    obj = loads(data[body_start:nl])
                except (UnicodeDecodeError, ValueError) as err:
                    bad(index, f"not valid JSON ({err})")
                    continue
            if type(obj) is not dict:
                bad(index, "not a JSON object")
                continue
            if "end" in obj:
                if end_at is not None:
                    bad(index, f"a second end marker (the first is at line {end_at})")
                    continue
                end_at, end, end_pos = index, obj, line_start
                continue
            if end_at is not None:
                bad(index, f"a record after the end marker at line {end_at} (duplicated line?)")
            table, doc_id, doc = obj.get("t"), obj.get("id"), obj.get("doc")
            if (
                len(obj) != 3
                or type(table) is not str
                or type(doc_id) is not int
                or (type(doc) is not dict and (convert_this or type(doc) is not bytes))
            ):
                bad(index, "malformed record (expected t, id, doc)")
                continue
            records += 1
            previous = last_id.get(table)
            if previous is not None and doc_id <= previous:
                key = f"{table}#{doc_id}"
                first = where.get((table, str(doc_id)))
                if first is not None:
                    bad(index, f"duplicate record (first at line {first}; duplicated line?)", key)
                else:
                    bad(index, f"out of order: after {table}#{previous} (lines swapped?)", key)
                continue
            last_id[table] = doc_id
            rows = tables_get(table)
            if rows is None:
                rows = tables[table] = {}
            sid = str(doc_id)
            if convert_this and convert is not None and type(doc) is dict:
                rows[sid] = convert(table, doc)
            else:
                rows[sid] = doc
            where.add(table, doc_id, index)
            if keep_raw:
                raw_lines[(table, sid)] = data[line_start:pos]
    finally:
        if hasher is not None:
            hasher.join()
    lines_count = index
    if partial:
        bad(lines_count, "the last line is cut short (no newline): the file is truncated")
    if end is None or end_at is None:
        if not partial:
            bad(lines_count, f"no end marker after line {lines_count}: the file is truncated")
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
    if not problems:
        if hasher is not None and end_pos == last_start:
            digest = hasher.digest
        else:
            digest = hashlib.sha256(view[:end_pos]).hexdigest()
        if digest != info.get("sha256"):
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
        convert: Callable[[str, dict[str, Any]], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.kind = kind
        self.ops = ops or FileOps()
        self.readonly = readonly
        if convert is not None and not readonly:
            raise ValueError("convert is for read-only storages (writes need the documents)")
        self._convert = convert
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
            parsed = parse_file(data, str(self.path), self.kind, convert=self._convert)
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
        convert: Callable[[str, dict[str, Any]], Any] | None = None,
    ) -> None:
        self.path = path
        self._args: dict[str, Any] = {
            "kind": kind,
            "ops": ops,
            "readonly": readonly,
            "immutable": tuple(immutable),
            "convert": convert,
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
# Sealed segments

SEGMENT_DIR = "segments"
"""Folder (in the data directory) of the sealed segment files ``ledger.db`` references."""
SEGMENT_KIND = "segment"
"""The ``kind`` in a segment file's header."""


@dataclass(frozen=True)
class SegmentRef:
    """What ``ledger.db`` records of one sealed segment: its file, record count and SHA-256."""

    name: str
    records: int
    sha256: str

    def to_doc(self) -> dict[str, Any]:
        """The record stored in ``ledger.db``'s ``segments`` table."""
        return {"name": self.name, "records": self.records, "sha256": self.sha256}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SegmentRef | None:
        """The reference in a ``segments`` record, or ``None`` if the record is malformed."""
        name, records, sha = doc.get("name"), doc.get("records"), doc.get("sha256")
        if (
            set(doc) != {"name", "records", "sha256"}
            or not isinstance(name, str)
            or not _SEGMENT_NAME.match(name)
            or type(records) is not int
            or records < 1
            or not isinstance(sha, str)
            or not _SHA_HEX.match(sha)
        ):
            return None
        return cls(name, records, sha)


_SEGMENT_NAME = re.compile(r"^[0-9]{6}-[0-9a-f]{16}\.db$")
_SHA_HEX = re.compile(r"^[0-9a-f]{64}$")


def segment_name(number: int, sha256: str) -> str:
    """A segment's file name: its number in the ledger and a prefix of its content checksum (a
    rewrite after a crash with other content can never reuse the name of a file in use)."""
    return f"{number:06d}-{sha256[:16]}.db"


def write_segment(
    directory: Path, number: int, docs: list[dict[str, Any]], ops: FileOps
) -> SegmentRef:
    """Write ``docs`` (event documents) as a sealed segment file durably; return its reference.

    The file is complete (end marker, SHA-256) and fsync'd, and the folder fsync'd, before this
    returns; it is not part of the ledger until ``ledger.db`` references it.
    :class:`LedgerWriteError` on any I/O error.
    """
    with gc_paused():
        data = encode_file(SEGMENT_KIND, {"events": {str(i + 1): d for i, d in enumerate(docs)}})
    sha = hashlib.sha256(data[: data.rindex(b"\n", 0, len(data) - 1) + 1]).hexdigest()
    ref = SegmentRef(segment_name(number, sha), len(docs), sha)
    try:
        ops.makedirs(directory)
        atomic_write(directory / ref.name, data, ops)
    except OSError as err:
        raise LedgerWriteError(
            f"保存失败 / could not save {directory / ref.name}: {err.strerror or err}",
            hint="the ledger holds either everything before this change or all of it, never "
            "a part; free disk space or fix the device, then reopen and check",
        ) from err
    return ref


def read_segment(
    directory: Path,
    ref: SegmentRef,
    ops: FileOps,
    *,
    convert: Callable[[str, dict[str, Any]], Any] | None = None,
    referenced_by: str = "ledger.db",
) -> ParsedFile:
    """Read and check one sealed segment against its reference; problems located by line.

    Besides every check of :func:`parse_file`, the segment must hold the record count and
    SHA-256 ``ledger.db`` recorded when it was sealed (a replaced, older or foreign file is
    damage). A missing file is a problem of ``ledger.db``'s reference.
    """
    path = directory / ref.name
    try:
        got = ops.read(path)
    except OSError as err:
        raise LedgerError(f"读取失败 / could not read {path}: {err}") from err
    if got is None:
        problem = Problem(
            str(path), "", f"missing: {referenced_by} references this sealed segment (deleted?)"
        )
        return ParsedFile({}, [problem], LineIndex())
    with gc_paused():
        parsed = parse_file(got[0], str(path), SEGMENT_KIND, convert=convert)
    if not parsed.problems and (parsed.sha256 != ref.sha256 or _count(parsed) != ref.records):
        parsed.problems.append(
            Problem(
                str(path),
                "",
                f"not the segment {referenced_by} sealed ({ref.records} records, SHA-256 "
                f"{ref.sha256[:16]}…): replaced or from another ledger?",
                1,
            )
        )
    return parsed


def _count(parsed: ParsedFile) -> int:
    return sum(len(t) for t in parsed.tables.values())


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
