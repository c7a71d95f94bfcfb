"""The saved projection (``state.db``): open a city ledger without replaying its history.

Replaying 500,000 events costs seconds (docs/ledger.md, "Reading fast and small"); the state
those events build changes far less than they grow. So a writable ledger saves its projection,
with what it needs to go on from it (each device's chain head, the largest Lamport time, the
last event in the projection's order, the ids of the events it summarises), after the folds that
make the saved one useless: a seal, a rebuild out of order, a first open without one. The next
open reads this file instead of the sealed segments and applies only the events the state does
not cover (``ledger.db``'s newer events, the journal), provided every one of them sorts after
the state's last event (then applying them equals a replay of everything).

What makes this safe:

* **It is never the source of truth.** It summarises an exact set of events named by its
  :class:`Basis`: the SHA-256 of ``ledger.db``'s segment references (each reference carries the
  segment's own SHA-256) and a digest of the first ``main`` events of ``ledger.db``, whose events
  table only grows between seals. The ledger uses the state only when the basis matches what is
  on disk, and otherwise replays as before (and saves a new state when it may write).
* **Damage is found, not trusted.** The file is in the ledger's line format (CRC32 per line, end
  marker with a SHA-256): a damaged, truncated or foreign file, an older or newer encoding
  (:data:`CODEC`), reads as "no state" and the ledger replays. The sealed segments are still
  checked at every open (size and modification time against what the state recorded, and when
  those changed their SHA-256 against ``ledger.db``'s references), so a damaged segment is
  refused as before even though its events are not parsed.
* **Not executable.** JSON, decoded field by field into the projection's own types (pydantic
  validates sites, 五落实 plans and evidence); never ``pickle``.
* **Written like every file of the ledger**: temporary file, ``fsync``, rename, directory
  ``fsync`` (:func:`~inspect_engine.fsio.atomic_write`). A kill during the write leaves the old
  state (or none) and a temporary file removed at the next writable open.

``ledger verify`` rebuilds the projection from the events and compares it with the saved state
field by field (:func:`dump_projection`), so a wrong state cannot pass unnoticed.

Two parts, most of the file and seldom read, are its last tables (:data:`TAIL`), which the open
does not read at all (the SHA-256 covers them): each finding's document (``fdata``) and the
answers of each submitted or cancelled inspection (``answers``). A record is found, checked and
decoded the first time it is read (:attr:`FindingState.data`, :attr:`InspectionState.answers`),
and a state saved again writes those never read as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json, to_json

from inspect_engine.events import DeviceEnrolled, Event, Evidence, Head
from inspect_engine.fsio import FileOps, atomic_write
from inspect_engine.projection import (
    Answer,
    Conflict,
    Enrollment,
    FindingState,
    InspectionState,
    OrderState,
    Projection,
    Rejected,
    SiteState,
    SiteVersion,
    Step,
)
from inspect_engine.rectification import FiveImplementations, Status
from inspect_engine.site import Site
from inspect_engine.storage import SegmentRef, encode_chunks, gc_paused, parse_file

SegStat = tuple[int, int]
"""A sealed segment's size and modification time (:func:`seg_stat`)."""

STATE_FILE = "state.db"
"""The saved projection, in the data directory."""
STATE_KIND = "state"
"""The ``kind`` in its header."""
CODEC = 8
"""The encoding of the projection in the file: a state of another codec is not read (the ledger
replays and saves a new one). Bump it whenever a projection type gains, loses or changes a
field."""

IDS_PER_LINE = 4096


@dataclass(frozen=True)
class Basis:
    """The events a saved state summarises, as ``ledger.db`` names them."""

    refs: str
    """SHA-256 over every segment reference (name, record count, SHA-256), in order."""
    main: int
    """How many of ``ledger.db``'s own events (its first ones) are included."""
    main_digest: str
    """SHA-256 over those events' hashes, in file order."""


def refs_digest(refs: Sequence[SegmentRef]) -> str:
    """The :attr:`Basis.refs` of these segment references."""
    h = hashlib.sha256(b"inspect-engine/segments/v1\n")
    for ref in refs:
        h.update(f"{ref.name} {ref.records} {ref.sha256}\n".encode())
    return h.hexdigest()


def events_digest(events: Iterable[Event]) -> str:
    """The :attr:`Basis.main_digest` of these events (their hashes, in order)."""
    h = hashlib.sha256(b"inspect-engine/events/v1\n")
    for ev in events:
        h.update(ev.hash.encode())
    return h.hexdigest()


def covers(state: SavedState, refs: Sequence[SegmentRef], main_events: Sequence[Event]) -> bool:
    """Whether ``state`` summarises the ledger whose ``ledger.db`` names ``refs`` and holds
    ``main_events`` (in file order): the same sealed segments and the first of these events."""
    b = state.basis
    sealed = sum(r.records for r in refs)
    return (
        b.refs == refs_digest(refs)
        and state.sealed == sealed
        and b.main <= len(main_events)
        and state.events == sealed + b.main
        and b.main_digest == events_digest(main_events[: b.main])
    )


def basis_of(refs: Sequence[SegmentRef], main_events: Sequence[Event]) -> Basis:
    """The basis of a state covering ``refs`` and all of ``main_events``."""
    return Basis(refs_digest(refs), len(main_events), events_digest(main_events))


class SortedIds:
    """Event ids (32 hex digits each) as one sorted byte string: membership without holding
    half a million strings (import asks "is this event here already?" of a few hundred)."""

    __slots__ = ("_blob_", "_n", "_rows")

    def __init__(self, blob: bytes) -> None:
        if len(blob) % 16:
            raise ValueError("an id blob holds 16-byte ids")
        self._blob_: bytes | None = blob
        self._rows: list[bytes] = []
        self._n = len(blob) // 16

    @classmethod
    def lazy(cls, rows: Sequence[bytes]) -> SortedIds:
        """From the ``ids`` records of a state file as read (``{"x":"<hex>"}``), decoded the first
        time they are searched (an open that imports nothing never does)."""
        n = 0
        for row in rows:
            if not (row.startswith(b'{"x":"') and row.endswith(b'"}')) or (len(row) - 8) % 32:
                raise ValueError("an ids record is not hex ids")
            n += (len(row) - 8) // 32
        ids = cls(b"")
        ids._blob_, ids._rows, ids._n = None, list(rows), n
        return ids

    @property
    def _blob(self) -> bytes:
        blob = self._blob_
        if blob is None:
            blob = self._blob_ = b"".join(bytes.fromhex(r[6:-2].decode()) for r in self._rows)
            self._rows = []
        return blob

    @classmethod
    def of(cls, ids: Iterable[str]) -> SortedIds:
        """From hex ids (``ValueError`` if one is not 32 lowercase hex digits)."""
        raw = []
        for i in ids:
            if len(i) != 32 or i.lower() != i:
                raise ValueError(f"not a 32-digit lowercase hex id: {i!r}")
            raw.append(bytes.fromhex(i))
        raw.sort()
        return cls(b"".join(raw))

    def __len__(self) -> int:
        return self._n

    def __contains__(self, event_id: object) -> bool:
        if not isinstance(event_id, str) or len(event_id) != 32:
            return False
        try:
            key = bytes.fromhex(event_id)
        except ValueError:
            return False
        blob = self._blob
        lo, hi = 0, self._n
        while lo < hi:
            mid = (lo + hi) // 2
            if blob[mid * 16 : mid * 16 + 16] < key:
                lo = mid + 1
            else:
                hi = mid
        return lo < self._n and blob[lo * 16 : lo * 16 + 16] == key and event_id.lower() == event_id

    def union(self, ids: Iterable[str]) -> SortedIds:
        """These ids and ``ids`` (as :meth:`of`)."""
        extra = SortedIds.of(i for i in ids if i not in self)
        if not len(extra):
            return self
        a, b = self._blob, extra._blob  # noqa: SLF001 - same class
        chunks = [a[i : i + 16] for i in range(0, len(a), 16)]
        chunks += [b[i : i + 16] for i in range(0, len(b), 16)]
        chunks.sort()
        return SortedIds(b"".join(chunks))

    def hex_lines(self) -> Iterator[str]:
        """The ids as hex text, :data:`IDS_PER_LINE` per line."""
        step = IDS_PER_LINE * 16
        for start in range(0, len(self._blob), step):
            yield self._blob[start : start + step].hex()


@dataclass
class SavedState:
    """A projection and what the ledger needs to go on from it (see the module docstring)."""

    basis: Basis
    events: int
    """How many events it summarises (sealed and ``ledger.db``'s first :attr:`Basis.main`)."""
    sealed: int
    """How many of them are in sealed segments."""
    heads: dict[str, Head]
    max_order: tuple[int, str, int] | None
    ids: SortedIds
    projection: Projection
    segments: dict[str, SegStat] = field(default_factory=dict)
    """Size and modification time (:func:`seg_stat`) of each sealed segment when saved: an open
    finding them unchanged need not hash the segments again."""


def seg_stat(st: os.stat_result) -> SegStat:
    """What tells a sealed segment unchanged since the state was saved: size and mtime (kept
    by hard links and ``cp -p``; any write changes them)."""
    return (st.st_size, st.st_mtime_ns)


# --------------------------------------------------------------------------------- encoding


def _opt_date(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _plan(plan: FiveImplementations | None) -> dict[str, Any] | None:
    return None if plan is None else plan.model_dump(mode="json")


def _evidence(items: Sequence[Evidence]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in items]


def _answer(a: Answer) -> list[Any]:
    return [a.item_id, a.value, a.note, _evidence(a.evidence), a.time, a.actor, a.event_id]


def _site_doc(s: SiteState) -> dict[str, Any]:
    """A whole site: its current record and the rest (:func:`dump_projection`)."""
    return {"site": s.site.model_dump(mode="json"), **_site_meta(s)}


def _site_records(sites: Sequence[SiteState]) -> Iterator[bytes]:
    """The ``site_records`` table: the registered records of :data:`CHUNK` sites a line, as
    ``{"s":[...]}``, kept apart from the rest of each site so that pydantic validates a line's
    records straight from its JSON (:data:`_SITE_LIST`; 0.05 s less than decoding the JSON, then
    validating the objects, for a city's 20,000)."""
    for start in range(0, len(sites), CHUNK):
        batch = [s.site.model_dump(mode="json") for s in sites[start : start + CHUNK]]
        yield b'{"s":%s}' % to_json(batch)


def _site_meta(s: SiteState) -> dict[str, Any]:
    """A site's record in the ``sites`` table: all but its current record (``site_records``)."""
    return {
        "version": s.version,
        "registered_at": s.registered_at,
        "updated_at": s.updated_at,
        "versions": [
            [v.time, v.event_id, None if v.site is s.site else v.site.model_dump(mode="json")]
            for v in s.versions
        ],
    }


def _inspection_doc(i: InspectionState, row: int = 0) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": i.id,
        "site_id": i.site_id,
        "pack_id": i.pack_id,
        "pack_version": i.pack_version,
        "method": i.method,
        "inspectors": i.inspectors,
        "started_at": i.started_at,
        "device_id": i.device_id,
        "actor": i.actor,
        "status": i.status,
        "current_item": i.current_item,
        "submitted_at": i.submitted_at,
        "finding_ids": i.finding_ids,
        "cancel_reason": i.cancel_reason,
        "recorded_at": i.recorded_at,
        "cancelled_at": i.cancelled_at,
    }
    if i.status == "open":
        doc["answers"] = [_answer(a) for a in i.answers.values()]
    else:
        doc["answers_row"] = row
    return doc


def _answers_doc(i: InspectionState) -> dict[str, Any] | bytes:
    """The ``answers`` record of a sealed inspection: as read if never decoded."""
    if not i.answers_loaded and isinstance(i._load_answers, _LazyAnswers):  # noqa: SLF001
        return i._load_answers.raw()  # noqa: SLF001
    return {"a": [_answer(a) for a in i.answers.values()]}


def _inspection_docs(proj: Projection) -> Iterator[dict[str, Any]]:
    row = 0
    for i in proj.inspections.values():
        if i.status != "open":
            row += 1
        yield _inspection_doc(i, row)


def _step(s: Step) -> list[Any]:
    status = None if s.status is None else s.status.value
    return [s.time, s.actor, s.action, status, s.note, s.event_id, _evidence(s.evidence),
            _plan(s.plan), s.base]  # fmt: skip


def _data_doc(f: FindingState) -> dict[str, Any] | bytes:
    """The ``fdata`` record of a finding: its document, as read if never decoded."""
    if not f.data_loaded and isinstance(f._load_data, _LazyData):  # noqa: SLF001
        return f._load_data.raw()  # noqa: SLF001
    return f.data


def _finding_doc(f: FindingState) -> dict[str, Any]:
    """A finding's record, without its document (in the ``fdata`` table, row by row)."""
    return {
        "id": f.id,
        "inspection_id": f.inspection_id,
        "site_id": f.site_id,
        "pack_id": f.pack_id,
        "pack_version": f.pack_version,
        "rule_id": f.rule_id,
        "level": f.level,
        "hazard": f.hazard,
        "title": f.title,
        "rule_deadline": f.rule_deadline.isoformat(),
        "consequences": f.consequences,
        "raised_at": f.raised_at,
        "status": None if f.status is None else f.status.value,
        "plan": _plan(f.plan),
        "history": [_step(s) for s in f.history],
        "closed_at": f.closed_at,
    }


def _order_doc(o: OrderState) -> dict[str, Any]:
    return {
        "id": o.id,
        "site_id": o.site_id,
        "finding_id": o.finding_id,
        "kind": o.kind,
        "ordered_on": o.ordered_on.isoformat(),
        "issued_by": o.issued_by,
        "note": o.note,
        "event_id": o.event_id,
        "lifted_on": _opt_date(o.lifted_on),
        "lift_basis": o.lift_basis,
        "reinspection_id": o.reinspection_id,
        "ordered_at": o.ordered_at,
        "lifted_at": o.lifted_at,
    }


def _tables(state: SavedState) -> Iterator[tuple[str, Iterable[Any]]]:
    proj = state.projection
    b = state.basis
    yield (
        "state",
        [
            {
                "codec": CODEC,
                "refs": b.refs,
                "main": b.main,
                "main_digest": b.main_digest,
                "events": state.events,
                "sealed": state.sealed,
                "max_order": None if state.max_order is None else list(state.max_order),
                "applied": proj.applied,
                "segments": {k: list(v) for k, v in state.segments.items()},
            }
        ],
    )
    yield (
        "heads",
        [{"d": d, "s": h.seq, "h": h.hash, "l": h.lamport} for d, h in state.heads.items()],
    )
    yield ("ids", ({"x": x} for x in state.ids.hex_lines()))
    sites = list(proj.sites.values())
    yield ("site_records", _site_records(sites))
    yield ("sites", _chunks(_site_meta(s) for s in sites))
    yield ("inspections", _chunks(_inspection_docs(proj)))
    yield ("findings", _chunks(_finding_doc(f) for f in proj.findings.values()))
    yield ("orders", _chunks(_order_doc(o) for o in proj.orders.values()))
    yield (
        "rejected",
        _chunks(
            {
                "e": r.event_id,
                "d": r.device_id,
                "s": r.seq,
                "k": r.kind,
                "r": r.reason,
                "t": r.time,
            }  # fmt: skip
            for r in proj.rejected
        ),
    )
    yield (
        "conflicts",
        _chunks(
            {"n": c.entity, "w": c.winner, "l": c.loser, "r": c.reason, "t": c.time}
            for c in proj.conflicts
        ),
    )
    yield (
        "enrollments",
        _chunks(
            {
                "b": e.by_device,
                "e": e.event_id,
                "t": e.time,
                "p": e.enrolled.model_dump(mode="json"),
            }  # fmt: skip
            for e in proj.enrollments
        ),
    )
    # last: the open reads none of them (read_state, parse_file's tail_tables)
    yield ("fdata", (_data_doc(f) for f in proj.findings.values()))
    yield ("answers", (_answers_doc(i) for i in proj.inspections.values() if i.status != "open"))


CHUNK = 256
"""Objects per record line: the reader's cost is per line (checksum, lookup, record checks) as
much as per byte, and a city holds ~60,000 objects."""
CHUNKED = frozenset(("inspections", "findings", "orders", "rejected", "conflicts", "enrollments"))


def _chunks(docs: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """``docs`` as records of up to :data:`CHUNK` documents each (``{"c": [...]}``)."""
    batch: list[dict[str, Any]] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == CHUNK:
            yield {"c": batch}
            batch = []
    if batch:
        yield {"c": batch}


def encode_state(state: SavedState) -> Iterator[bytes]:
    """The file's bytes, in chunks (a city state is ~100 MB: never all in memory at once)."""
    return encode_chunks(STATE_KIND, _tables(state))


def write_state(path: Path, state: SavedState, ops: FileOps) -> None:
    """Save ``state`` to ``path`` atomically and durably (``OSError`` on failure)."""
    with gc_paused():
        atomic_write(path, encode_state(state), ops)


# --------------------------------------------------------------------------------- decoding


class _RowRef:
    """Placeholder for a sealed inspection's answers until the table they are in is read."""

    __slots__ = ("row",)

    def __init__(self, row: int) -> None:
        self.row = row

    def __call__(self) -> dict[str, Answer]:  # pragma: no cover - replaced by read_state
        raise ValueError(f"{STATE_FILE}: answers row {self.row} missing")


class _Bad(Exception):
    """The file decodes to something that is not a state of this codec."""


def _answers_of(rows: Any) -> dict[str, Answer]:
    out: dict[str, Answer] = {}
    for item_id, value, note, evidence, time, actor, event_id in rows:
        ev = [Evidence.model_validate(e) for e in evidence] if evidence else []
        out[item_id] = Answer(item_id, value, note, ev, time, actor, event_id)
    return out


TAIL = ("fdata", "answers")
"""The tables written last, in this order, that the open does not read (:class:`_Tail`): each
finding's document (``fdata``, row ``n`` for the ``n``-th finding) and the answers of each sealed
inspection (``answers``, row ``n`` for the ``n``-th sealed inspection)."""


class _Tail:
    """The state's last tables (:data:`TAIL`), kept as read: the open parses none of their lines
    (a city's 12,452 findings' documents and 25,000 inspections' answers: 68 MB, ~0.1 s to check
    and parse line by line, seldom read) and relies on the file's SHA-256, which covers them. A
    line is found, its CRC and shape checked, when its document is first read."""

    __slots__ = ("data", "counts", "_starts")

    def __init__(self, data: bytes, counts: Mapping[str, int]) -> None:
        self.data = data
        self.counts = dict(counts)
        """Lines per table, in :data:`TAIL` order."""
        self._starts: dict[str, list[int]] = {}

    def _index(self, table: str) -> list[int]:
        """Where each line of ``table`` starts (found once, table by table: the list of a
        report reads the findings' documents, and so never looks for the answers' lines)."""
        pos = 0
        for name in TAIL:
            starts = self._starts.get(name)
            if starts is None:
                data, starts = self.data, []
                find, append = data.find, starts.append
                for _ in range(self.counts[name]):
                    if pos >= len(data):  # pragma: no cover - parse_file counted these lines
                        raise ValueError(f"{STATE_FILE}: the {name} table is cut short")
                    append(pos)
                    pos = find(b"\n", pos) + 1
                self._starts[name] = starts
            elif starts:
                pos = self.data.find(b"\n", starts[-1]) + 1
            if name == table:
                return starts
        raise ValueError(f"{STATE_FILE}: no table {table} among the last ones")

    def doc(self, table: str, row: int) -> bytes:
        """The JSON document of ``table``'s row ``row`` (1-based), its line checked."""
        if not 1 <= row <= self.counts.get(table, 0):
            raise ValueError(f"{STATE_FILE}: no {table} row {row}")
        starts = self._starts.get(table) or self._index(table)
        start = starts[row - 1]
        end = self.data.find(b"\n", start)
        line = self.data[start:end]
        body = line[9:]
        if line[8:9] != b" " or line[:8] != b"%08x" % zlib.crc32(body):
            raise ValueError(f"{STATE_FILE}: {table} row {row}: checksum mismatch")
        prefix = b'{"t":"%s","id":%d,"doc":' % (table.encode(), row)
        if not body.startswith(prefix) or not body.endswith(b"}"):
            raise ValueError(f"{STATE_FILE}: {table} row {row}: not a {table} record")
        return body[len(prefix) : -1]


class _TailRow:
    """One row of the tail (:class:`_Tail`), decoded by the subclass when first read."""

    __slots__ = ("tail", "row")
    TABLE = ""

    def __init__(self, tail: _Tail, row: int) -> None:
        self.tail = tail
        self.row = row

    def raw(self) -> bytes:
        """The row's JSON document, as read."""
        return self.tail.doc(self.TABLE, self.row)


class _LazyAnswers(_TailRow):
    """Decodes one sealed inspection's answers when first read."""

    __slots__ = ()
    TABLE = "answers"

    def __call__(self) -> dict[str, Answer]:
        try:
            return _answers_of(from_json(self.raw())["a"])
        except (KeyError, TypeError, ValueError, ValidationError) as err:
            # The file's SHA-256 was right: written so by a bug.
            raise ValueError(f"{STATE_FILE}: answers do not decode ({err})") from err


class _LazyData(_TailRow):
    """Decodes one finding's document when first read."""

    __slots__ = ()
    TABLE = "fdata"

    def __call__(self) -> dict[str, Any]:
        try:
            data = from_json(self.raw())
        except ValueError as err:
            raise ValueError(f"{STATE_FILE}: a finding does not decode ({err})") from err
        if not isinstance(data, dict):
            raise ValueError(f"{STATE_FILE}: a finding is not a JSON object")
        return data


def _opt_plan(doc: Any) -> FiveImplementations | None:
    return None if doc is None else FiveImplementations.model_validate(doc)


def _decode(table: str, doc: dict[str, Any]) -> Any:
    """One record as the projection's objects (``convert`` of :func:`parse_file`): a list for
    the chunked tables, the document itself for the others."""
    if table not in CHUNKED:
        return doc
    items = doc.get("c")
    if type(items) is not list:
        raise _Bad(f"{table}: a record without its chunk")
    return [_decode_one(table, item) for item in items]


_SITE_LIST = TypeAdapter(list[Site])
"""Validates a ``site_records`` line's records from their JSON in one call."""
_STATUS = {st.value: st for st in Status}
_FIELDS = {
    cls: frozenset(f.name for f in fields(cls))
    for cls in (InspectionState, SiteState, FindingState)
}
"""What a decoded record must hold, exactly: the object is made from the record's own dict."""


def _decode_one(table: str, doc: dict[str, Any]) -> Any:
    """One object of a chunked table."""
    try:
        if table == "inspections":
            # The record's own dict becomes the object's: its keys are the fields (checked by
            # tests/test_statefile.py), and a dataclass __init__ per object cost more than the
            # JSON (25,000 of them in a city).
            row = doc.pop("answers_row", None)
            answers = doc.pop("answers", None)
            insp: InspectionState = object.__new__(InspectionState)
            if row is None:
                doc["_answers"], doc["_load_answers"] = _answers_of(answers), None
            else:  # set by read_state from the answers table
                doc["_answers"], doc["_load_answers"] = None, _RowRef(int(row))
            if doc.keys() != _FIELDS[InspectionState]:
                raise _Bad("inspections: not the fields of an inspection")
            insp.__dict__ = doc
            return insp
        if table == "findings":
            history = []
            for t, a, act, st, n, e, ev, pl, base in doc["history"]:
                step: Step = object.__new__(Step)
                step.__dict__ = {
                    "time": t,
                    "actor": a,
                    "action": act,
                    "status": None if st is None else _STATUS[st],
                    "note": n,
                    "event_id": e,
                    "evidence": [Evidence.model_validate(x) for x in ev] if ev else [],
                    "plan": _opt_plan(pl),
                    "base": base,
                }
                history.append(step)
            status = doc["status"]
            doc["_data"], doc["_load_data"] = None, None  # set by read_state: its fdata row
            doc["rule_deadline"] = dt.date.fromisoformat(doc["rule_deadline"])
            doc["status"] = None if status is None else _STATUS[status]
            doc["plan"] = _opt_plan(doc["plan"])
            doc["history"] = history
            finding: FindingState = object.__new__(FindingState)
            if doc.keys() != _FIELDS[FindingState]:
                raise _Bad("findings: not the fields of a finding")
            finding.__dict__ = doc
            return finding
        if table == "orders":
            lifted = doc["lifted_on"]
            return OrderState(
                id=doc["id"],
                site_id=doc["site_id"],
                finding_id=doc["finding_id"],
                kind=doc["kind"],
                ordered_on=dt.date.fromisoformat(doc["ordered_on"]),
                issued_by=doc["issued_by"],
                note=doc["note"],
                event_id=doc["event_id"],
                lifted_on=None if lifted is None else dt.date.fromisoformat(lifted),
                lift_basis=doc["lift_basis"],
                reinspection_id=doc["reinspection_id"],
                ordered_at=doc["ordered_at"],
                lifted_at=doc["lifted_at"],
            )
        if table == "rejected":
            return Rejected(doc["e"], doc["d"], doc["s"], doc["k"], doc["r"], doc["t"])
        if table == "conflicts":
            return Conflict(doc["n"], doc["w"], doc["l"], doc["r"], doc["t"])
        if table == "enrollments":
            return Enrollment(doc["b"], doc["e"], doc["t"], DeviceEnrolled.model_validate(doc["p"]))
    except (KeyError, TypeError, ValueError, ValidationError) as err:
        raise _Bad(f"{table}: {err}") from err
    raise _Bad(f"{table}: not a table of the saved state")  # pragma: no cover - CHUNKED


def _sites(records: Mapping[str, Any], metas: Mapping[str, Any]) -> dict[str, SiteState]:
    """The sites from their two tables, line by line (:func:`_site_records`)."""
    if records.keys() != metas.keys():
        raise _Bad("sites: the two site tables do not hold the same lines")
    out: dict[str, SiteState] = {}
    for key, raw in records.items():
        chunk = metas[key].get("c")
        if type(raw) is not bytes or not raw.startswith(b'{"s":') or type(chunk) is not list:
            raise _Bad("sites: a line not of the saved state's shape")
        try:
            sites = _SITE_LIST.validate_json(raw[5:-1])
        except ValidationError as err:
            raise _Bad(f"sites: {err}") from err
        if len(sites) != len(chunk):
            raise _Bad("sites: a line of records and a line of states of different lengths")
        for site, doc in zip(sites, chunk, strict=True):
            try:
                versions = [
                    SiteVersion(t, e, site if v is None else Site.model_validate(v))
                    for t, e, v in doc["versions"]
                ]
            except (KeyError, TypeError, ValueError, ValidationError) as err:
                raise _Bad(f"sites: {err}") from err
            state: SiteState = object.__new__(SiteState)
            doc["site"], doc["versions"] = site, versions
            if doc.keys() != _FIELDS[SiteState]:
                raise _Bad("sites: not the fields of a site")
            state.__dict__ = doc
            out[site.id] = state
    return out


def _flat(tables: Mapping[str, Mapping[str, Any]], name: str) -> list[Any]:
    return [obj for chunk in tables.get(name, {}).values() for obj in chunk]


def read_state(path: Path, ops: FileOps) -> tuple[SavedState | None, str]:
    """The state saved at ``path``, or ``None`` and why it cannot be used (missing, damaged, of
    another codec). Never raises for the file's content; ``OSError`` only if it cannot be
    read."""
    got = ops.read(path)
    if got is None:
        return None, "no saved state"
    try:
        with gc_paused():
            parsed = parse_file(
                got[0],
                str(path),
                STATE_KIND,
                convert=_decode,
                raw_tables=("ids", "site_records", *TAIL),
                tail_tables=TAIL,
            )
    except _Bad as err:
        return None, f"saved state does not decode: {err}"
    if parsed.problems:
        p = parsed.problems[0]
        return None, f"saved state damaged: line {p.line}: {p.message}"
    t = parsed.tables
    try:
        (head,) = t.get("state", {}).values()
        if head.get("codec") != CODEC:
            return None, f"saved state of another encoding ({head.get('codec')})"
        basis = Basis(str(head["refs"]), int(head["main"]), str(head["main_digest"]))
        heads = {
            str(h["d"]): Head(int(h["s"]), str(h["h"]), int(h["l"]))
            for h in t.get("heads", {}).values()
        }
        ids = SortedIds.lazy(list(t.get("ids", {}).values()))
        mo = head["max_order"]
        max_order = None if mo is None else (int(mo[0]), str(mo[1]), int(mo[2]))
        proj = Projection()
        proj.sites = _sites(t.get("site_records", {}), t.get("sites", {}))
        proj.inspections = {i.id: i for i in _flat(t, "inspections")}
        proj.findings = {f.id: f for f in _flat(t, "findings")}
        sealed = sum(1 for i in proj.inspections.values() if i.status != "open")
        if parsed.tail_records != len(proj.findings) + sealed:
            return None, (
                f"saved state holds {parsed.tail_records} documents for {len(proj.findings)} "
                f"findings and {sealed} sealed inspections"
            )
        tail = _Tail(parsed.tail, {"fdata": len(proj.findings), "answers": sealed})
        rows = 0
        for insp in proj.inspections.values():
            ref = insp._load_answers  # noqa: SLF001
            if isinstance(ref, _RowRef):
                rows += 1
                if ref.row != rows:
                    return None, f"saved state does not decode: answers row {ref.row} out of order"
                insp._load_answers = _LazyAnswers(tail, ref.row)  # noqa: SLF001
        for row, f in enumerate(proj.findings.values(), start=1):
            f._load_data = _LazyData(tail, row)  # noqa: SLF001
        proj.orders = {o.id: o for o in _flat(t, "orders")}
        proj.rejected = _flat(t, "rejected")
        proj.conflicts = _flat(t, "conflicts")
        proj.enrollments = _flat(t, "enrollments")
        proj.applied = int(head["applied"])
        state = SavedState(
            basis=basis,
            events=int(head["events"]),
            sealed=int(head["sealed"]),
            heads=heads,
            max_order=max_order,
            ids=ids,
            projection=proj,
            segments={str(k): (int(v[0]), int(v[1])) for k, v in dict(head["segments"]).items()},
        )
    except (KeyError, TypeError, ValueError, _Bad) as err:
        return None, f"saved state does not decode: {err}"
    if len(state.ids) != state.events:
        return None, f"saved state names {len(state.ids)} event ids for {state.events} events"
    return state, ""


# ----------------------------------------------------------------------- comparing states


def dump_projection(proj: Projection) -> bytes:
    """Every field of every object of ``proj`` as canonical JSON (answers decoded): equal for
    two projections iff they hold the same state (``ledger verify`` compares a saved state with
    a replay by this)."""
    doc = {
        "sites": [_site_doc(s) for s in proj.sites.values()],
        "inspections": [
            {
                **_inspection_doc(i),
                "answers": [_answer(a) for a in i.answers.values()],
                "answers_row": None,
            }  # fmt: skip
            for i in proj.inspections.values()
        ],
        "findings": [{**_finding_doc(f), "data": f.data} for f in proj.findings.values()],
        "orders": [_order_doc(o) for o in proj.orders.values()],
        "rejected": [
            [r.event_id, r.device_id, r.seq, r.kind, r.reason, r.time] for r in proj.rejected
        ],  # fmt: skip
        "conflicts": [[c.entity, c.winner, c.loser, c.reason, c.time] for c in proj.conflicts],
        "enrollments": [
            [e.by_device, e.event_id, e.time, e.enrolled.model_dump(mode="json")]
            for e in proj.enrollments
        ],  # fmt: skip
        "applied": proj.applied,
    }
    return to_json(doc)
