"""The ledger: the one API the app, the CLI, the reports and sync use to read and change the record.

Who calls what
==============
* The terminal app opens one writable :class:`Ledger` per session (``Ledger.open(data_dir,
  clock=..., actor=...)``), lists sites, starts an inspection, records each answer
  (:meth:`Ledger.record_answer` returns only once the answer is durable), resumes the open
  inspection after a crash (:meth:`Ledger.open_inspections`), submits it with the engine's findings,
  and records the rectification loop and enforcement orders.
* Reports and read-only commands open with ``readonly=True``: no lock, no writes, and they see a
  consistent state even while a writer is at work.
* Sync (a later issue) uses :meth:`Ledger.heads`, :meth:`Ledger.events_since`,
  :meth:`Ledger.import_events` (idempotent, all-or-nothing, one write) and :meth:`Ledger.digest`.

Guarantees
==========
* Every change is an event (:mod:`inspect_engine.events`) appended durably before the call returns.
  What a call returned is on disk and survives ``SIGKILL`` or a power cut.
* One writer per data directory (:class:`~inspect_engine.storage.WriterLock`); a second gets a
  :class:`~inspect_engine.storage.LedgerLocked` error naming the holder.
* Answers are cheap: they go to ``journal.db``, which holds only the events since the last fold
  (in practice the open inspection), so saving one never rewrites the big ``ledger.db``. Submitting
  an inspection, importing sites or another device's events *folds* the journal and the new events
  into ``ledger.db`` in one write, then empties the journal. A crash between those two writes
  leaves journal events that are already in the ledger; opening recognises them (same ids, same
  hashes) and empties the journal — the second half of the fold, not a repair.
* ``ledger.db`` itself stays small: once it would hold :data:`SEAL_AT` events, a fold *seals* them
  into segment files (written completely and durably first, never rewritten) and replaces
  ``ledger.db`` by one that references them. A crash in between leaves unreferenced segments and
  the ledger as it was (docs/ledger.md, "Segments").
* A damaged or foreign file is refused with every problem located (file, line, device, seq);
  nothing is repaired or overwritten (``ledger rebuild --salvage`` is the explicit, user-invoked
  way out, and keeps the damaged files).
* Any I/O error (disk full, EIO) is raised as :class:`~inspect_engine.storage.LedgerWriteError`;
  the files then hold the state before the call or after it, never between, and the ledger
  re-reads them before the next call.
* Time comes from the injected clock; nothing here reads the system time directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from inspect_engine.asof import as_of, later_than
from inspect_engine.clock import Clock, SystemClock
from inspect_engine.conditions import AnswerValue
from inspect_engine.datadir import (
    BACKUP_DIR,
    EVIDENCE_DIR,
    JOURNAL_FILE,
    LEDGER_FILE,
    LOCK_FILE,
    resolve_data_dir,
)
from inspect_engine.errors import InputError, LedgerError, Problem, RefusedError
from inspect_engine.events import (
    ORDER_KEY,
    AnswerRecorded,
    DeviceEnrolled,
    EnforcementLifted,
    EnforcementOrdered,
    Event,
    Evidence,
    FindingClosed,
    FindingReopened,
    Head,
    InspectionCancelled,
    InspectionStarted,
    InspectionSubmitted,
    Payload,
    PlanSet,
    RectificationReported,
    RectificationStarted,
    SiteRegistered,
    SiteUpdated,
    SubmittedFinding,
    canonical,
    document_problem,
    link_problem,
    make_event,
    new_id,
    normalize_method,
)
from inspect_engine.findings import Finding
from inspect_engine.fsio import FileOps, atomic_write, cleanup_temp_files
from inspect_engine.ledger_files import (
    Part,
    check_events,
    check_journal,
    check_main,
    checked_bare,
    event_reader,
    lines_of,
    segment_refs,
    to_event,
)
from inspect_engine.ledger_repair import VerifyReport, verify_data_dir
from inspect_engine.projection import (
    FindingState,
    InspectionState,
    OrderState,
    Projection,
)
from inspect_engine.queries import (
    FindingRow,
    SiteRecord,
    SiteRow,
    StatusCounts,
    list_sites,
    open_findings,
    site_record,
    status_counts,
)
from inspect_engine.rectification import ORDER_KINDS, FiveImplementations
from inspect_engine.site import Site
from inspect_engine.statefile import (
    STATE_FILE,
    SavedState,
    SegStat,
    SortedIds,
    basis_of,
    covers,
    read_state,
    seg_stat,
    write_state,
)
from inspect_engine.storage import (
    FORMAT_VERSION,
    RAW_LINES_UP_TO,
    SEGMENT_DIR,
    LedgerDamaged,
    LedgerWriteError,
    SegmentRef,
    StatKey,
    TableFile,
    Tables,
    WriterLock,
    decode_line,
    encode_chunks,
    encode_line,
    gc_paused,
    parse_file,
    read_segment,
    stat_key,
    write_segment,
)

FOLD_AT = 1000
"""Fold the journal into the ledger on the next append once it holds this many events."""
SEAL_AT = max(1, int(os.environ.get("INSPECT_ENGINE_SEAL_AT", "") or 10_000))
"""A fold that would leave ``ledger.db`` holding this many events or more seals them instead:
they are written as sealed segment files of at most this many events each (never rewritten
again), and ``ledger.db`` keeps only the references (docs/ledger.md, "Segments"). The
environment variable ``INSPECT_ENGINE_SEAL_AT`` sets it (the tests seal every few events)."""
STATE_FROM = max(1, int(os.environ.get("INSPECT_ENGINE_STATE_FROM", "") or 2_000))
"""Save the projection (``state.db``, :mod:`inspect_engine.statefile`) only for ledgers of at
least this many events: replaying fewer costs less than reading a saved state (~10 µs an event).
``INSPECT_ENGINE_STATE_FROM`` sets it (the tests save from the first event)."""
MAX_EVIDENCE_BYTES = 200 * 1024 * 1024
"""Largest evidence file accepted (a long video would exceed it; photos do not)."""

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

P = ParamSpec("P")
R = TypeVar("R")


def _synchronized(fn: Callable[P, R]) -> Callable[P, R]:
    """Serialize calls on one ledger (the app saves from a worker thread)."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        self = args[0]
        assert isinstance(self, Ledger)
        with self._mutex:
            return fn(*args, **kwargs)

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


@dataclass(frozen=True)
class RegisterResult:
    """What registering a site list did."""

    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class ImportResult:
    """What :meth:`Ledger.import_events` did: events new to this ledger, and already present."""

    new: int
    present: int


@dataclass
class LedgerInfo:
    """``inspect-engine ledger info``."""

    data_dir: Path
    exists: bool
    device_id: str | None
    created: str | None
    format_version: int
    ledger_bytes: int
    journal_bytes: int
    events: int
    journal_events: int
    devices: dict[str, Head]
    sites: int
    inspections: dict[str, int]
    findings: dict[str, int]
    overdue: int
    orders_in_force: int
    rejected: int
    conflicts: int
    digest: str
    state_digest: str
    saved_state: str = ""
    """Whether the open used the saved projection (``state.db``), and if not why."""
    open_inspections: list[str] = field(default_factory=list)


class Ledger:
    """The record of one data directory (see the module docstring). Use :meth:`open`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Clock,
        actor: str,
        readonly: bool,
        ops: FileOps,
        lock: WriterLock | None,
    ) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.actor = actor
        self.readonly = readonly
        self.ops = ops
        self._lock = lock
        self._mutex = threading.RLock()
        self._main = TableFile(
            data_dir / LEDGER_FILE,
            kind="main",
            ops=ops,
            readonly=readonly,
            immutable=["events"],
            convert=to_event if readonly else None,
        )
        self._journal = TableFile(
            data_dir / JOURNAL_FILE,
            kind="journal",
            ops=ops,
            readonly=readonly,
            immutable=["events"],
        )
        self.device_id: str | None = None
        self.created: str | None = None
        self._meta: dict[str, Any] = {}
        self._events: list[Event] = []
        """The events in memory: all of them, except the first :attr:`_off` (sealed events
        covered by the saved state, read on demand: :meth:`_all_events`). Positions below
        (``_in_main``, ``_sealed``) count every event, read or not."""
        self._off = 0
        self._known: SortedIds | None = None
        """Ids of the events the saved state covers, while they are not read (:meth:`_id_hash`)."""
        self._in_main = 0
        self._sealed = 0
        """How many of the events (the first ones) are in sealed segments."""
        self._seg_ok: dict[str, SegStat] = {}
        """Segments whose SHA-256 this process checked against their reference (by name, with
        :func:`~inspect_engine.statefile.seg_stat` then)."""
        self._apply_later = False
        """Set by :meth:`import_events` while its batch folds: the projection is brought up to
        date after the fold, so the state is saved after that."""
        self._saved: tuple[int, tuple[int, str, int] | None] | None = None
        """What the saved state on disk covers, when this ledger read or wrote it: how many events
        (the first ones, sealed then ``ledger.db``'s) and the last of them in the projection's
        order. An import sorting after that can rebuild from it (:meth:`_rebuild_from_saved`)."""
        self._state_due = False
        """The saved state is missing or cannot be brought up to date by applying newer events:
        save one at the next chance (after a fold, the journal empty)."""
        self.state_note = ""
        """Why the last load replayed the events instead of using the saved state ("" if it
        used it): shown by ``ledger info``."""
        self._refs: list[SegmentRef] = []
        self._seg_cache: dict[str, tuple[StatKey | None, list[Event]]] = {}
        """Events of segments read already (immutable files), by name, with their stat key."""
        self._max_order: tuple[int, str, int] | None = None
        """The last event in the projection's order: later ones apply incrementally."""
        self._ids: dict[str, str] = {}
        self._heads: dict[str, Head] = {}
        self._lamport = 0
        self._proj = Projection()
        self._keys: tuple[object, object] = (None, None)
        self._dirty = True
        self._batch: list[Event] | None = None
        self._closed = False
        self._as_of: dict[tuple[dt.datetime, object], tuple[object, Projection]] = {}
        self.cleaned_temp: list[str] = []
        """Temporary files of killed writers removed when this ledger was opened."""

    # -- opening and closing ----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        data_dir: str | Path | None = None,
        *,
        clock: Clock | None = None,
        actor: str = "",
        readonly: bool = False,
        wait: float = 0.0,
        ops: FileOps | None = None,
    ) -> Ledger:
        """Open (and, when writable, create at first use) the ledger of ``data_dir``.

        ``data_dir`` defaults to :func:`~inspect_engine.datadir.resolve_data_dir`. A writable
        ledger takes the writer lock, waiting up to ``wait`` seconds, and removes temporary files
        left by a killed writer. A device identity (``device_id``) is made when the ledger is
        created. A read-only ledger on a directory without a ledger is empty.
        """
        path = resolve_data_dir(data_dir)
        ops = ops or FileOps()
        lock = None
        if not readonly:
            try:
                ops.makedirs(path)
            except OSError as err:
                raise LedgerError(f"cannot create the data directory {path}: {err}") from err
            lock = WriterLock(path / LOCK_FILE)
            lock.acquire(wait, path)
        ledger = cls(
            path, clock=clock or SystemClock(), actor=actor, readonly=readonly, ops=ops, lock=lock
        )
        try:
            if not readonly:
                ledger.cleaned_temp = cleanup_temp_files(
                    path, [LEDGER_FILE, JOURNAL_FILE, STATE_FILE], ops
                )
                ledger.cleaned_temp += ledger._cleanup_segment_temp()
                ledger.cleaned_temp += ledger._cleanup_evidence_temp()
            ledger._load()
        except BaseException:
            ledger.close()
            raise
        return ledger

    def close(self) -> None:
        """Release the writer lock. Nothing to flush: every change is already durable."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self._closed = True

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- loading ----------------------------------------------------------------------------

    def _file_keys(self) -> tuple[object, object]:
        return (self._main.storage.current_key(), self._journal.storage.current_key())

    def _ensure_current(self) -> None:
        if self._closed:
            raise LedgerError("the ledger is closed")
        if self._batch is not None:
            return
        if self._dirty or self._file_keys() != self._keys:
            self._load()

    def _read_files(self, head: TableFile) -> tuple[Tables | None, list[Event], Tables | None]:
        attempts = 1 if not self.readonly else 50
        for _ in range(attempts):
            before = head.storage.current_key()
            main = head.load()
            sealed = self._read_segments(main)
            journal = self._journal.load()
            if head.storage.current_key() == before:
                return main, sealed, journal
            time.sleep(0.01)  # a writer replaced the ledger while we read: read again
        raise LedgerError(f"the ledger at {self.data_dir} kept changing while being read")

    def _read_segments(self, main: Tables | None) -> list[Event]:
        """The events of every sealed segment ``ledger.db`` references, in order, each segment
        checked against its reference (count, SHA-256) and, when read for the first time, line by
        line. Segments never change, so one read already is reused while its file is unchanged."""
        refs, problems = segment_refs(main, str(self.data_dir / LEDGER_FILE))
        if problems:
            raise LedgerDamaged(problems)
        events = self._segment_events(refs)
        self._refs = refs
        return events

    def _segment_events(self, refs: Sequence[SegmentRef]) -> list[Event]:
        """The events of the segments ``refs``, each read and checked (cached by stat key)."""
        folder = self.data_dir / SEGMENT_DIR
        events: list[Event] = []
        cache: dict[str, tuple[StatKey | None, list[Event]]] = {}
        reader = event_reader()
        for ref in refs:
            st = self.ops.stat(folder / ref.name)
            key = None if st is None else stat_key(st)
            hit = self._seg_cache.get(ref.name)
            if hit is not None and key is not None and hit[0] == key:
                chunk = hit[1]
            else:
                parsed = read_segment(folder, ref, self.ops, convert=reader)
                if parsed.problems:
                    raise LedgerDamaged(parsed.problems)
                part = Part(str(folder / ref.name), parsed.tables.get("events", {}), parsed.lines)
                pairs, bad = check_events(part, full=False)
                if bad:
                    raise LedgerDamaged(bad)
                chunk = [ev for _, ev in pairs]
            cache[ref.name] = (key, chunk)
            events += chunk
        self._seg_cache = cache
        return events

    def _load(self) -> None:
        # An older ledger.db (format 1) holds every event: it is read as a read-only file is
        # (events made as the lines are read, not documents kept for TinyDB's next write), and
        # its events are sealed once, now.
        big = self._head_bytes() > RAW_LINES_UP_TO
        with gc_paused():
            if big or not self._load_saved():
                self._load_files(migrate=big and not self.readonly)
        if not self.readonly and self._in_main - self._sealed >= SEAL_AT:
            self._fold_batch([])

    def _head_bytes(self) -> int:
        st = self.ops.stat(self.data_dir / LEDGER_FILE)
        return 0 if st is None else st.st_size

    def _load_files(self, *, migrate: bool = False) -> None:
        self._dirty = True
        self._main.reset()
        self._journal.reset()
        head = self._main
        if migrate:
            head = TableFile(
                self._main.path, kind="main", ops=self.ops, readonly=True, convert=event_reader()
            )
        main, sealed, journal = self._read_files(head)
        if main is None:
            if journal is not None:
                raise LedgerDamaged(
                    [
                        Problem(
                            str(self.data_dir / LEDGER_FILE),
                            "",
                            f"missing, but {JOURNAL_FILE} exists (moved or deleted?)",
                        )
                    ]
                )
            self._reset_memory()
            if self.readonly:
                self._keys = self._file_keys()
                self._dirty = False
                return
            self._create()
            head = self._main
            main, sealed, journal = self._read_files(head)
            assert main is not None
        storage = head.storage
        tail = Part(str(storage.path), main.get("events", {}), lines_of(storage))
        ids: dict[str, str] = {}
        last: dict[str, Event] = {}
        events, problems, meta = check_main(
            main, [sealed, tail], full=False, file=tail.file, ids=ids, last=last
        )
        n_sealed = len(sealed)
        del sealed
        if problems:
            raise LedgerDamaged(problems)
        self._reset_memory()
        self._meta = meta
        self.device_id = str(meta["device_id"])
        self.created = str(meta.get("created", ""))
        self._events, self._ids = events, ids
        self._heads = {d: Head(e.seq, e.hash, e.lamport) for d, e in last.items()}
        self._lamport = max((h.lamport for h in self._heads.values()), default=0)
        self._in_main = len(self._events)
        self._sealed = n_sealed
        jpart = Part(str(self._journal.storage.path), {}, lines_of(self._journal.storage))
        if journal is not None:
            jpart.rows = journal.get("events", {})
        pending, stale, jproblems = check_journal(
            jpart if journal is not None else None, self.device_id, self._ids, self._heads
        )
        if jproblems:
            raise LedgerDamaged(jproblems)
        if stale and not self.readonly:
            # The previous fold wrote the ledger but was stopped before emptying the journal.
            self._journal.write_all(
                {"events": {str(i + 1): e.to_doc() for i, e in enumerate(pending)}}
            )
        for event in pending:
            self._remember(event)
        self._proj = Projection.build(self._events)
        self._max_order = max(map(ORDER_KEY, self._events), default=None)
        self._keys = self._file_keys()
        self._dirty = False
        self._state_due = True
        self._saved = None

    def _load_saved(self) -> bool:
        """Load from the saved state (:mod:`inspect_engine.statefile`) if it is usable: its basis
        is what ``ledger.db`` holds, every sealed segment is the one referenced (unchanged since
        the state was saved, else its SHA-256 checked: :meth:`_check_segments`), and every event
        it does not cover continues the chains and sorts after its last one. ``False`` sends the
        caller to the full replay, which also reports any damage precisely."""
        head = self._main
        before = head.storage.current_key()
        try:
            main = head.load()
        except LedgerDamaged:
            return False
        if main is None:
            return False
        refs, problems = segment_refs(main, str(self.data_dir / LEDGER_FILE))
        if problems:
            return False
        return self._use_saved(main, refs, before)

    def _use_saved(self, main: Tables, refs: list[SegmentRef], before: object) -> bool:
        """The checks of :meth:`_load_saved` on ``ledger.db``'s tables as read (``before``: its
        stat key then); the ledger's memory is replaced only once every check passed."""
        try:
            state, why = read_state(self.data_dir / STATE_FILE, self.ops)
        except OSError as err:
            state, why = None, f"saved state unreadable: {err}"
        if state is None:
            self.state_note = why
            return False
        tail = Part(
            str(self._main.storage.path), main.get("events", {}), lines_of(self._main.storage)
        )
        _, problems, meta = check_main(main, [], full=False, file=tail.file)
        pairs, bad = check_events(tail, full=False)
        if problems or bad:
            return False
        main_events = [ev for _, ev in pairs]
        covered = state.basis.main
        sealed = state.sealed
        if not covers(state, refs, main_events):
            self.state_note = "saved state is of other events (older or newer)"
            return False
        changed = self._check_segments(refs, state.segments)
        if changed:  # the replay reads the segment again and reports the damage precisely
            self.state_note = changed
            return False
        heads = dict(state.heads)
        newer = main_events[covered:]
        ids: dict[str, str] = {}
        for ev in newer:
            if link_problem(heads.get(ev.device_id), ev) is not None or ev.event_id in state.ids:
                return False
            heads[ev.device_id] = Head(ev.seq, ev.hash, ev.lamport)
            ids[ev.event_id] = ev.hash
        journal = self._journal.load()
        device = str(meta["device_id"])
        pending: list[Event] = []
        if journal is not None:
            jpart = Part(str(self._journal.storage.path), {}, lines_of(self._journal.storage))
            jpart.rows = journal.get("events", {})
            pending, stale, jproblems = check_journal(jpart, device, ids, heads)
            if stale or jproblems:
                return False  # the replay finishes an interrupted fold or reports the damage
        extra = sorted(newer + pending, key=ORDER_KEY)
        if extra and state.max_order is not None and extra[0].order <= state.max_order:
            self.state_note = "events newer than the saved state sort before its last one"
            return False
        if self._main.storage.current_key() != before:
            return False  # a writer replaced ledger.db meanwhile: the replay reads again
        self._reset_memory()
        self._meta = meta
        self.device_id = device
        self.created = str(meta.get("created", ""))
        self._events = main_events
        self._off = sealed
        self._sealed, self._in_main = sealed, sealed + len(main_events)
        self._known = state.ids
        self._ids = {ev.event_id: ev.hash for ev in main_events}
        self._heads = heads
        self._lamport = max((h.lamport for h in heads.values()), default=0)
        self._refs = refs
        for event in pending:
            self._remember(event)
        proj = state.projection
        for event in extra:
            proj.apply(event)
        self._proj = proj
        self._max_order = extra[-1].order if extra else state.max_order
        self._keys = self._file_keys()
        self._dirty = False
        self._state_due = False
        self._saved = (state.events, state.max_order)
        self.state_note = ""
        return True

    def _check_segments(self, refs: Sequence[SegmentRef], saved: dict[str, SegStat]) -> str:
        """Why a referenced segment is not the one sealed, or "". A segment with the size and
        modification time the saved state recorded is the file it was saved with (a rewrite,
        a truncation or a replacement changes them); any other is checked against its
        reference's SHA-256 (0.35 s for 307 MB). Bit rot that changes neither is found where the
        events are read: ``ledger verify``, sync, backup (docs/ledger.md, "The saved state")."""
        folder = self.data_dir / SEGMENT_DIR
        for ref in refs:
            path = folder / ref.name
            st = self.ops.stat(path)
            if st is None:
                return f"{path}: missing"
            key = seg_stat(st)
            if saved.get(ref.name) == key or self._seg_ok.get(ref.name) == key:
                continue
            try:
                got = self.ops.read(path)
            except OSError as err:
                return f"cannot read {path}: {err}"
            end = encode_line({"end": {"records": ref.records, "sha256": ref.sha256}})
            data = got[0] if got is not None else b""
            body = memoryview(data)[: len(data) - len(end)]
            if not data.endswith(end) or hashlib.sha256(body).hexdigest() != ref.sha256:
                return f"{path}: not the segment ledger.db references"
            self._seg_ok[ref.name] = key
        return ""

    def _rebuild_from_saved(self, first: tuple[int, str, int]) -> Projection | None:
        """The projection of every event, rebuilt from the saved state when that equals a
        replay: the state covers the first events and every other event sorts after its last
        one (``first``, the earliest imported, included; the others did when they were applied
        or when the state was used). 0.7 s at city scale instead of reading and replaying
        500,000 events (5 s), and the state stays valid, so it is not saved again. ``None``
        when it cannot be used (none, another, events sorting earlier: a laptop that synced
        before the state was saved)."""
        if self._saved is None:
            return None
        covered, last = self._saved
        if last is None or first <= last or covered < self._off:
            return None
        try:
            state, _ = read_state(self.data_dir / STATE_FILE, self.ops)
        except OSError:
            return None
        if state is None or state.events != covered or state.max_order != last:
            return None
        newer = sorted(self._events[covered - self._off :], key=ORDER_KEY)
        if newer and newer[0].order <= last:  # pragma: no cover - see the docstring
            return None
        proj = state.projection
        for event in newer:
            proj.apply(event)
        return proj

    def _count(self) -> int:
        """How many events the ledger holds (journal and an unfinished batch included)."""
        return self._off + len(self._events)

    def _all_events(self) -> list[Event]:
        """Every event, in the order stored: the sealed ones the saved state covers are read
        now, the first time they are needed (sync export, as-of replays, backup)."""
        if self._off:
            refs, total = [], 0
            for ref in self._refs:
                if total >= self._off:
                    break
                refs.append(ref)
                total += ref.records
            with gc_paused():
                sealed = self._segment_events(refs)
            if len(sealed) != self._off:  # pragma: no cover - the references were checked
                raise LedgerError(f"sealed segments hold {len(sealed)} events, not {self._off}")
            for ev in sealed:
                self._ids[ev.event_id] = ev.hash
            self._events = sealed + self._events
            self._off = 0
            self._known = None
        return self._events

    def _id_hash(self, event_id: str) -> str | None:
        """The stored hash of ``event_id``, ``None`` if no event has it (the sealed events are
        read only when the saved state says the id is among them)."""
        known = self._ids.get(event_id)
        if known is None and self._known is not None and event_id in self._known:
            self._all_events()
            known = self._ids.get(event_id)
        return known

    def _save_state(self) -> None:
        """Save the projection of the folded events (:mod:`inspect_engine.statefile`). Only
        right after a fold (or a load) with nothing pending: the state must cover exactly the
        sealed events and ``ledger.db``'s. A failure only leaves it due: the state is a cache."""
        if self.readonly or self.device_id is None or self._count() != self._in_main:
            return
        if self._in_main < STATE_FROM:
            return  # still due: saved by the first fold past the threshold
        main_events = self._events[self._sealed - self._off : self._in_main - self._off]
        try:
            if self._known is None:
                ids = SortedIds.of(self._ids)
            else:
                ids = self._known.union(self._ids)
            state = SavedState(
                basis=basis_of(self._refs, main_events),
                events=self._in_main,
                sealed=self._sealed,
                heads=dict(self._heads),
                max_order=self._max_order,
                ids=ids,
                projection=self._proj,
                segments=self._segment_stats(),
            )
            write_state(self.data_dir / STATE_FILE, state, self.ops)
        except (OSError, ValueError) as err:
            self.state_note = f"could not save the state: {err}"
            self._state_due = True
            return
        self._state_due = False
        self._saved = (state.events, state.max_order)

    def _segment_stats(self) -> dict[str, SegStat]:
        """Size and modification time of each referenced segment (all known good: read,
        written or checked by this process, or unchanged since the state it opened from)."""
        out: dict[str, SegStat] = {}
        for ref in self._refs:
            st = self.ops.stat(self.data_dir / SEGMENT_DIR / ref.name)
            if st is not None:
                out[ref.name] = seg_stat(st)
        return out

    def _reset_memory(self) -> None:
        self.device_id = None
        self._events, self._ids, self._heads = [], {}, {}
        self._in_main, self._lamport, self._sealed = 0, 0, 0
        self._off, self._known = 0, None
        self._proj = Projection()
        self._max_order = None

    def _create(self) -> None:
        meta = {
            "device_id": new_id(),
            "created": self.clock.now().isoformat(),
            "format": FORMAT_VERSION,
        }
        self._main.append("meta", [meta])

    def _remember(self, event: Event) -> None:
        self._events.append(event)
        self._ids[event.event_id] = event.hash
        self._heads[event.device_id] = Head(event.seq, event.hash, event.lamport)
        self._lamport = max(self._lamport, event.lamport)

    def _cleanup_segment_temp(self) -> list[str]:
        folder = self.data_dir / SEGMENT_DIR
        names = [n for n in self.ops.listdir(folder) if n.startswith(".") and ".tmp-" in n]
        targets = sorted({n[1:].split(".tmp-")[0] for n in names})
        return cleanup_temp_files(folder, targets, self.ops)

    def _cleanup_evidence_temp(self) -> list[str]:
        root = self.data_dir / EVIDENCE_DIR
        removed: list[str] = []
        for sub in self.ops.listdir(root):
            folder = root / sub
            names = [n for n in self.ops.listdir(folder) if ".tmp-" in n]
            targets = sorted({n[1:].split(".tmp-")[0] for n in names if n.startswith(".")})
            removed += cleanup_temp_files(folder, targets, self.ops)
        return removed

    # -- writing ----------------------------------------------------------------------------

    def _writable(self) -> str:
        self._ensure_current()
        if self.readonly or self.device_id is None:
            raise LedgerError(f"the ledger at {self.data_dir} is open read-only")
        return self.device_id

    def _append(self, kind: str, payload: Payload, actor: str | None) -> Event:
        """Check, make and durably append one event of this device; apply it."""
        device = self._writable()
        reason = self._proj.check(kind, payload)
        if reason is not None:
            raise InputError(reason)
        head = self._heads.get(device)
        event = make_event(
            device_id=device,
            seq=head.seq + 1 if head else 1,
            lamport=self._lamport + 1,
            time=self.clock.now(),
            actor=self.actor if actor is None else actor,
            kind=kind,
            payload=payload.model_dump(mode="json"),
            prev=head.hash if head else None,
        )
        if self._batch is not None:
            self._batch.append(event)
            self._remember(event)
            self._apply(event)
            return event
        fold = self._count() - self._in_main >= FOLD_AT
        sealed = False
        try:
            if fold:
                sealed = self._write_fold(self._events[self._in_main - self._off :] + [event])
            else:
                self._journal.append("events", [event.to_doc()])
            self._keys = self._file_keys()
        except BaseException:
            self._dirty = True
            raise
        self._remember(event)
        if fold:
            self._in_main = self._count()
            if sealed:
                self._sealed = self._in_main
        self._apply(event)
        if sealed:
            self._state_due = True
        if fold and self._state_due:
            self._save_state()
        return event

    def _write_fold(self, events: list[Event]) -> bool:
        """Write ``events`` into the ledger in one write, then empty the journal.

        A crash between the two leaves journal events that are already in the ledger, which
        the next load recognises (:func:`check_journal`). The caller handles errors.

        When ``ledger.db`` would then hold :data:`SEAL_AT` events or more, its events and the
        new ones are sealed instead: written as segment files (each complete and fsync'd), then
        ``ledger.db`` is replaced by one naming them, with no events of its own. Until that
        replace, the segments are unreferenced files and the ledger is as it was; after it, the
        events are in the segments. Either way nothing acknowledged is lost.
        """
        tail = self._in_main - self._sealed
        sealed = tail + len(events) >= SEAL_AT
        if sealed:
            self._seal(self._events[self._sealed - self._off : self._in_main - self._off] + events)
        elif events:
            self._main.append("events", [e.to_doc() for e in events])
        if self._journal.records("events"):
            self._journal.clear("events")
        return sealed

    def _seal(self, events: list[Event]) -> None:
        """Write ``events`` (``ledger.db``'s and the new ones) as sealed segments, then replace
        ``ledger.db`` with the meta record and every segment reference (one atomic write)."""
        folder = self.data_dir / SEGMENT_DIR
        refs = list(self._refs)
        with gc_paused():
            for start in range(0, len(events), SEAL_AT):
                docs = [e.to_doc() for e in events[start : start + SEAL_AT]]
                refs.append(write_segment(folder, len(refs) + 1, docs, self.ops))
        self._main.write_all(
            {
                "meta": {"1": dict(self._meta)},
                "segments": {str(i + 1): r.to_doc() for i, r in enumerate(refs)},
            }
        )
        # The new segments are known (written by us): remember their events without re-reading.
        for start, ref in zip(range(0, len(events), SEAL_AT), refs[len(self._refs) :], strict=True):
            st = self.ops.stat(folder / ref.name)
            self._seg_cache[ref.name] = (
                None if st is None else stat_key(st),
                events[start : start + SEAL_AT],
            )
        self._refs = refs

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group the changes made inside the block into one write of the ledger (all or nothing).

        Used by site imports and submits. The journal is folded in by the same write. A batch
        inside a batch joins the outer one.
        """
        with self._mutex:
            if self._batch is not None:  # nested: joins the outer batch and its one write
                yield
                return
            self._writable()
            self._batch = []
            try:
                yield
            except BaseException:
                self._batch = None
                self._dirty = True  # forget the tentative state: re-read the files
                raise
            events, self._batch = self._batch, None
            self._fold_batch(events)

    def _fold_batch(self, events: list[Event]) -> None:
        """Fold the journal and a finished batch (the last ``events`` in memory) in one write."""
        journal = self._events[self._in_main - self._off : len(self._events) - len(events)]
        try:
            sealed = self._write_fold(journal + events)
            self._keys = self._file_keys()
        except BaseException:
            self._dirty = True
            raise
        self._in_main = self._count()
        if sealed:
            self._sealed = self._in_main
            self._state_due = True  # the saved state names the old segments: useless now
        if self._state_due and not self._apply_later:
            self._save_state()

    def _apply(self, event: Event) -> None:
        """Apply one event of this device to the projection (it sorts after every other)."""
        self._proj.apply(event)
        self._max_order = event.order

    def checkpoint(self) -> int:
        """Fold the journal into the ledger now; returns how many events were folded."""
        with self._mutex:
            self._writable()
            n = self._count() - self._in_main
            with self.batch():
                pass
            return n

    # -- sites ------------------------------------------------------------------------------

    @_synchronized
    def register_sites(self, sites: Sequence[Site], *, actor: str | None = None) -> RegisterResult:
        """Add new sites and update changed ones, all in one write; unchanged ones are skipped."""
        ids = [s.id for s in sites]
        dupes = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
        if dupes:
            raise InputError(f"场所编号重复 / duplicate site ids: {', '.join(dupes)}")
        added = updated = unchanged = 0
        with self.batch():
            for site in sites:
                old = self._proj.sites.get(site.id)
                if old is None:
                    self._append("site.registered", SiteRegistered(site=site), actor)
                    added += 1
                elif old.site != site:
                    self._append("site.updated", SiteUpdated(site=site, base=old.version), actor)
                    updated += 1
                else:
                    unchanged += 1
        return RegisterResult(added, updated, unchanged)

    # -- inspections ------------------------------------------------------------------------

    @_synchronized
    def start_inspection(
        self,
        site_id: str,
        *,
        pack_id: str,
        pack_version: str,
        method: str,
        inspectors: Sequence[str],
        started_at: dt.datetime | None = None,
        actor: str | None = None,
    ) -> InspectionState:
        """Begin an inspection of ``site_id`` (method: open/unannounced/surprise/random)."""
        at = started_at or self.clock.now()
        if at.tzinfo is None:
            raise InputError("started_at must be timezone-aware")
        try:
            code = normalize_method(method)
        except ValueError as err:
            raise InputError(str(err)) from None
        inspection_id = new_id()
        payload = _payload(
            InspectionStarted,
            inspection_id=inspection_id,
            site_id=site_id,
            pack_id=pack_id,
            pack_version=pack_version,
            method=code,
            inspectors=list(inspectors),
            started_at=at.isoformat(),
        )
        self._append("inspection.started", payload, actor)
        return self._proj.inspections[inspection_id]

    @_synchronized
    def record_answer(
        self,
        inspection_id: str,
        item_id: str,
        value: AnswerValue | None,
        *,
        note: str | None = None,
        evidence: Sequence[Evidence | str] | None = None,
        actor: str | None = None,
    ) -> Event:
        """Record (``None``: withdraw) the answer to one item; returns once it is durable.

        ``value`` should already be checked against the item (:func:`inspect_engine.answers.
        check_answer`). ``note`` and ``evidence`` replace the item's note and evidence list when
        given, and are kept as they were when ``None``. Evidence is named by content hash
        (:meth:`add_evidence`), never by path.
        """
        current = self._current_answer(inspection_id, item_id)
        return self._record_item(
            inspection_id,
            item_id,
            value,
            current.note if note is None and current else (note or ""),
            _evidence_list(evidence) if evidence is not None else _kept(current),
            actor,
        )

    @_synchronized
    def record_note(
        self, inspection_id: str, item_id: str, note: str, *, actor: str | None = None
    ) -> Event:
        """Set the note on one item, keeping its value and evidence; durable on return."""
        current = self._current_answer(inspection_id, item_id)
        value = current.value if current else None
        return self._record_item(inspection_id, item_id, value, note, _kept(current), actor)

    @_synchronized
    def attach_evidence(
        self,
        inspection_id: str,
        item_id: str,
        evidence: Evidence | str,
        *,
        actor: str | None = None,
    ) -> Event:
        """Add one stored evidence file to an item, keeping its value and note."""
        current = self._current_answer(inspection_id, item_id)
        value = current.value if current else None
        note = current.note if current else ""
        items = _kept(current) + _evidence_list([evidence])
        return self._record_item(inspection_id, item_id, value, note, items, actor)

    def _current_answer(self, inspection_id: str, item_id: str) -> Any:
        self._ensure_current()
        insp = self._proj.inspections.get(inspection_id)
        return insp.answers.get(item_id) if insp is not None else None

    def _record_item(
        self,
        inspection_id: str,
        item_id: str,
        value: AnswerValue | None,
        note: str,
        evidence: list[Evidence],
        actor: str | None,
    ) -> Event:
        self._check_evidence(evidence)
        payload = _payload(
            AnswerRecorded,
            inspection_id=inspection_id,
            item_id=item_id,
            value=value,
            note=note,
            evidence=evidence,
        )
        return self._append("inspection.answered", payload, actor)

    @_synchronized
    def submit_inspection(
        self, inspection_id: str, findings: Sequence[Finding], *, actor: str | None = None
    ) -> list[FindingState]:
        """Seal the inspection with the engine's findings (one write, journal folded in)."""
        insp = self._proj.inspections.get(inspection_id)
        if insp is not None:
            for f in findings:
                if (f.pack_id, f.pack_version) != (insp.pack_id, insp.pack_version):
                    raise InputError(
                        f"finding {f.rule_id} is from {f.pack_id} {f.pack_version}, the "
                        f"inspection uses {insp.pack_id} {insp.pack_version}"
                    )
        subs = [
            SubmittedFinding(finding_id=new_id(), finding=f.model_dump(mode="json"))
            for f in findings
        ]
        payload = InspectionSubmitted(inspection_id=inspection_id, findings=subs)
        with self.batch():
            self._append("inspection.submitted", payload, actor)
        return [self._proj.findings[s.finding_id] for s in subs]

    @_synchronized
    def cancel_inspection(
        self, inspection_id: str, reason: str, *, actor: str | None = None
    ) -> None:
        """Abandon an open inspection, with the reason."""
        payload = _payload(InspectionCancelled, inspection_id=inspection_id, reason=reason)
        self._append("inspection.cancelled", payload, actor)

    # -- rectification and enforcement ------------------------------------------------------

    @_synchronized
    def set_plan(
        self, finding_id: str, plan: FiveImplementations, *, actor: str | None = None
    ) -> FindingState:
        """Record (or revise) the 五落实 of a finding."""
        return self._move("finding.plan_set", PlanSet, finding_id, actor, plan=plan)

    @_synchronized
    def start_rectification(
        self, finding_id: str, *, note: str = "", actor: str | None = None
    ) -> FindingState:
        """待整改 → 整改中 (a 重大 finding needs its 五落实 first)."""
        return self._move(
            "finding.rectification_started", RectificationStarted, finding_id, actor, note=note
        )

    @_synchronized
    def report_rectified(
        self,
        finding_id: str,
        *,
        note: str = "",
        evidence: Sequence[Evidence | str] = (),
        actor: str | None = None,
    ) -> FindingState:
        """→ 已整改待复查, with what was done and evidence."""
        items = _evidence_list(evidence)
        self._check_evidence(items)
        return self._move(
            "finding.rectification_reported",
            RectificationReported,
            finding_id,
            actor,
            note=note,
            evidence=items,
        )

    @_synchronized
    def close_finding(
        self,
        finding_id: str,
        *,
        verifier: str,
        note: str = "",
        evidence: Sequence[Evidence | str] = (),
        actor: str | None = None,
    ) -> FindingState:
        """复查合格，销号: 已整改待复查 → 销号."""
        items = _evidence_list(evidence)
        self._check_evidence(items)
        return self._move(
            "finding.closed",
            FindingClosed,
            finding_id,
            actor,
            verifier=verifier,
            note=note,
            evidence=items,
        )

    @_synchronized
    def reopen_finding(
        self, finding_id: str, *, reason: str, actor: str | None = None
    ) -> FindingState:
        """复查不合格 (or found again after 销号): back to 整改中, with the reason."""
        return self._move("finding.reopened", FindingReopened, finding_id, actor, reason=reason)

    def _move(
        self,
        kind: str,
        model: type[Payload],
        finding_id: str,
        actor: str | None,
        **fields: Any,
    ) -> FindingState:
        """Append one step of a finding's loop (with its ``base`` for sync) and return the
        finding as it now stands; the projection refuses a step the loop does not allow."""
        payload = _payload(
            model, finding_id=finding_id, base=self._finding_base(finding_id), **fields
        )
        self._append(kind, payload, actor)
        return self._proj.findings[finding_id]

    def _finding_base(self, finding_id: str) -> str | None:
        """The finding's latest step here, recorded as a move's ``base`` (``PlanSet.base``)."""
        self._ensure_current()
        f = self._proj.findings.get(finding_id)
        return f.history[-1].event_id if f is not None and f.history else None

    @_synchronized
    def order_enforcement(
        self,
        site_id: str,
        kind: str,
        *,
        ordered_on: dt.date,
        finding_id: str | None = None,
        issued_by: str = "",
        note: str = "",
        actor: str | None = None,
    ) -> OrderState:
        """Record an enforcement order (``stop_use``, ``stop_construction``...) with its date."""
        order_id = new_id()
        payload = _payload(
            EnforcementOrdered,
            order_id=order_id,
            site_id=site_id,
            finding_id=finding_id,
            kind=kind,
            ordered_on=ordered_on,
            issued_by=issued_by,
            note=note,
        )
        self._append("enforcement.ordered", payload, actor)
        return self._proj.orders[order_id]

    @_synchronized
    def order_for_findings(
        self,
        site_id: str,
        findings: Sequence[FindingState],
        *,
        ordered_on: dt.date,
        issued_by: str = "",
        actor: str | None = None,
    ) -> list[OrderState]:
        """Record the enforcement orders the findings carry (one per order code and finding).

        Every consequence code in :data:`~inspect_engine.rectification.ORDER_KINDS` (stop use,
        stop construction, halt...) becomes an order dated ``ordered_on``, linked to its finding,
        so its lifting after re-inspection can be recorded. Written in one batch.
        """
        wanted = [
            (state.id, code)
            for state in findings
            for code in dict.fromkeys(state.consequences)
            if code in ORDER_KINDS
        ]
        with self.batch():
            return [
                self.order_enforcement(
                    site_id,
                    code,
                    ordered_on=ordered_on,
                    finding_id=finding_id,
                    issued_by=issued_by,
                    actor=actor,
                )
                for finding_id, code in wanted
            ]

    @_synchronized
    def lift_enforcement(
        self,
        order_id: str,
        *,
        lifted_on: dt.date,
        basis: str,
        reinspection_id: str | None = None,
        note: str = "",
        actor: str | None = None,
    ) -> OrderState:
        """Lift an order after re-inspection; ``basis`` says why (复查合格 / 审查同意)."""
        payload = _payload(
            EnforcementLifted,
            order_id=order_id,
            lifted_on=lifted_on,
            basis=basis,
            reinspection_id=reinspection_id,
            note=note,
        )
        self._append("enforcement.lifted", payload, actor)
        return self._proj.orders[order_id]

    # -- device registry (for inspect_engine.sync) ------------------------------------------

    @_synchronized
    def enroll_device(self, enrollment: DeviceEnrolled, *, actor: str | None = None) -> Event:
        """Record a device's signing key and inspector (``inspect-engine sync enroll``).

        Who may enroll whom, and whose enrollments are trusted, is decided by
        :mod:`inspect_engine.sync.devices`; this only appends the event durably.
        """
        return self._append("device.enrolled", enrollment, actor)

    # -- evidence ---------------------------------------------------------------------------

    def evidence_path(self, digest: str) -> Path:
        """Where the evidence file with this SHA-256 lives (always inside the data directory)."""
        if not _SHA256.match(digest):
            raise InputError(f"not an evidence hash: {digest!r}")
        return self.data_dir / EVIDENCE_DIR / digest[:2] / digest

    def has_evidence(self, digest: str) -> bool:
        """Whether the evidence store holds a file with this hash."""
        return self.ops.stat(self.evidence_path(digest)) is not None

    def _check_evidence(self, evidence: Sequence[Evidence]) -> None:
        for item in evidence:
            if not self.has_evidence(item.sha256):
                raise InputError(f"证据文件不存在 / no evidence with hash {item.sha256}")

    @_synchronized
    def add_evidence(self, source: Path | bytes, *, name: str | None = None) -> Evidence:
        """Store an evidence file durably under its SHA-256; return its reference.

        The caller's path is read once and never recorded: the reference holds the hash and a
        display name (the file's base name unless ``name`` is given).
        """
        self._writable()
        if isinstance(source, bytes):
            data = source
            label = name or ""
        else:
            label = name if name is not None else Path(source).name
            try:
                data = Path(source).read_bytes()
            except OSError as err:
                raise InputError(f"cannot read evidence file {source}: {err.strerror}") from err
        if len(data) > MAX_EVIDENCE_BYTES:
            raise InputError(f"evidence file too large ({len(data)} bytes)")
        digest = hashlib.sha256(data).hexdigest()
        path = self.evidence_path(digest)
        got = self.ops.read(path)
        if got is not None:
            if hashlib.sha256(got[0]).hexdigest() != digest:
                raise LedgerError(f"evidence file {path} is damaged (its content hash differs)")
            return _evidence(digest, label)
        try:
            self.ops.makedirs(path.parent)
            atomic_write(path, data, self.ops)
        except OSError as err:
            raise LedgerWriteError(
                f"保存失败 / could not save evidence {path}: {err.strerror or err}"
            ) from err
        return _evidence(digest, label)

    # -- reading ----------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        """Whether a ledger file exists (a read-only open of an empty directory: ``False``)."""
        with self._mutex:
            self._ensure_current()
            return self.device_id is not None

    @property
    def projection(self) -> Projection:
        """The current state (re-read first if the files changed). Treat it as read-only."""
        with self._mutex:
            self._ensure_current()
            return self._proj

    def today(self) -> dt.date:
        """The clock's date."""
        return self.clock.now().date()

    def inspection(self, inspection_id: str) -> InspectionState:
        """One inspection; :class:`InputError` if unknown."""
        insp = self.projection.inspections.get(inspection_id)
        if insp is None:
            raise InputError(f"没有这次检查 / unknown inspection {inspection_id}")
        return insp

    def open_inspections(self, *, mine: bool = True) -> list[InspectionState]:
        """Inspections not yet submitted or cancelled (``mine``: started on this device)."""
        proj = self.projection
        return [i for i in proj.open_inspections() if not mine or i.device_id == self.device_id]

    def finding(self, finding_id: str) -> FindingState:
        """One finding; :class:`InputError` if unknown."""
        f = self.projection.findings.get(finding_id)
        if f is None:
            raise InputError(f"没有这条隐患 / unknown finding {finding_id}")
        return f

    def sites(
        self,
        *,
        county: str | None = None,
        township: str | None = None,
        site_type: str | None = None,
        status: str | None = None,
        search: str | None = None,
        inspector: str | None = None,
    ) -> list[SiteRow]:
        """Sites filtered (status: not_inspected, in_progress, open_findings, overdue, clear)."""
        return list_sites(
            self.projection,
            self.today(),
            county=county,
            township=township,
            site_type=site_type,
            status=status,
            search=search,
            inspector=inspector,
        )

    def site(self, site_id: str) -> SiteRecord:
        """A site with its inspections, findings and orders; :class:`InputError` if unknown."""
        record = site_record(self.projection, site_id, self.today())
        if record is None:
            raise InputError(f"场所 {site_id} 未登记 / unknown site {site_id}")
        return record

    def open_findings(
        self,
        *,
        county: str | None = None,
        township: str | None = None,
        level: str | None = None,
        due_by: dt.date | None = None,
        overdue_only: bool = False,
    ) -> list[FindingRow]:
        """Hazards not yet 销号, overdue first, then by deadline."""
        return open_findings(
            self.projection,
            self.today(),
            county=county,
            township=township,
            level=level,
            due_by=due_by,
            overdue_only=overdue_only,
        )

    def projection_as_of(self, cutoff: dt.datetime, *, answers: bool = True) -> Projection:
        """The state built from the events whose time is at or before ``cutoff`` (aware).

        ``answers=False`` leaves the answer events out: inspections come without their answers
        (and an answer that could not apply is not listed in ``rejected``), everything else is
        as with them. Reports read sites, inspections' status and times, findings and orders, never
        answers; answers are most of a ledger (431,005 of 522,292 events in the city benchmark),
        so this replays in about half the time.
        """
        skip = "" if answers else "inspection.answered"

        def replay() -> Projection:
            with gc_paused():
                return Projection.build(
                    e for e in self._all_events() if e.kind != skip and e.at <= cutoff
                )

        return self._view_at(cutoff, answers, replay)

    def state_at(self, cutoff: dt.datetime) -> Projection:
        """The state as of ``cutoff`` (aware) from the projection's recorded histories
        (:func:`inspect_engine.asof.as_of`): what reports read. Cached until the ledger changes.
        Treat it as read-only, and don't read inspections' answers from it.

        A read-only ledger never changes its projection (it reads a new one when the files
        change), so this shares it: the projection itself when nothing in it is later than the
        cut-off, else ``as_of(..., share=True)``, which holds the projection's own objects
        wherever the cut leaves them unchanged (those inspections keep their answers; 0.05 s
        instead of 0.11 s on the city ledger). A writable ledger applies its events to its
        projection in place, so there it is always a copy (``as_of``, inspections without
        answers) that later events do not reach.
        """

        def build() -> Projection:
            proj = self._proj
            if not self.readonly:
                return as_of(proj, cutoff)
            return as_of(proj, cutoff, share=True) if later_than(proj, cutoff) else proj

        return self._view_at(cutoff, "state_at", build)

    def _view_at(
        self, cutoff: dt.datetime, kind: object, build: Callable[[], Projection]
    ) -> Projection:
        """The state as of ``cutoff`` that ``build`` makes (called with the ledger current),
        cached by ``(cutoff, kind)`` until the ledger changes; at most 8 kept."""
        if cutoff.tzinfo is None:
            raise InputError("the cut-off time must be timezone-aware")
        with self._mutex:
            self._ensure_current()
            key = (self._keys, self._count(), id(self._proj))
            cached = self._as_of.get((cutoff, kind))
            if cached is not None and cached[0] == key:
                return cached[1]
            proj = build()
            if len(self._as_of) >= 8:
                self._as_of.clear()
            self._as_of[(cutoff, kind)] = (key, proj)
            return proj

    def status_counts(self, as_of: dt.datetime | None = None) -> StatusCounts:
        """Hazards by status (and county, level), overdue judged on the cut-off's date."""
        if as_of is None:
            return status_counts(self.projection, self.today())
        return status_counts(self.state_at(as_of), as_of.date())

    # -- sync primitives --------------------------------------------------------------------

    def events(self) -> list[Event]:
        """Every event, in the order stored (ledger, then journal)."""
        with self._mutex:
            self._ensure_current()
            return list(self._all_events())

    def event_hashes(self, event_ids: Iterable[str]) -> dict[str, str]:
        """The hash of each of ``event_ids`` this ledger holds (unknown ids are left out).

        What sync needs to tell a re-sent event from a forged one without reading every event.
        """
        with self._mutex:
            self._ensure_current()
            out: dict[str, str] = {}
            for event_id in event_ids:
                known = self._id_hash(event_id)
                if known is not None:
                    out[event_id] = known
            return out

    def events_by_id(self, event_ids: Iterable[str]) -> dict[str, Event]:
        """The events with these ids the ledger holds (unknown ids are left out). The sealed
        events are read only if one of the ids is among them (sync asks for a few)."""
        with self._mutex:
            self._ensure_current()
            wanted = set(event_ids)
            if self._known is not None and any(i in self._known for i in wanted):
                self._all_events()
            return {e.event_id: e for e in self._events if e.event_id in wanted}

    def event_count(self) -> int:
        """How many events the ledger holds, journal included (without reading sealed ones)."""
        with self._mutex:
            self._ensure_current()
            return self._count()

    def heads(self) -> dict[str, Head]:
        """The newest event of each device's chain."""
        with self._mutex:
            self._ensure_current()
            return dict(self._heads)

    def events_since(self, device_id: str, seq: int) -> list[Event]:
        """Events of ``device_id`` with a seq above ``seq``, in seq order."""
        with self._mutex:
            self._ensure_current()
            return sorted(
                (e for e in self._all_events() if e.device_id == device_id and e.seq > seq),
                key=lambda e: e.seq,
            )

    def digest(self) -> str:
        """SHA-256 over every device's head ``(device_id, seq, hash)``: equal iff same events."""
        heads = self.heads()
        return hashlib.sha256(
            canonical(sorted([d, h.seq, h.hash] for d, h in heads.items()))
        ).hexdigest()

    @_synchronized
    def import_events(self, events: Iterable[Event | dict[str, Any]]) -> ImportResult:
        """Add other devices' events, all or nothing, in one write.

        Events already present (same id, same hash) are skipped, so importing twice changes
        nothing. Refused with :class:`RefusedError`, and nothing written, when an event is
        malformed or its hash does not match, when an id is known with a different hash, when a
        device's events do not continue its chain here (gap, fork, broken link), or when they
        claim to come from this device.
        """
        me = self._writable()
        incoming: list[Event] = []
        for i, item in enumerate(events):
            doc = item.to_doc() if isinstance(item, Event) else dict(item)
            why = document_problem(doc)
            if why is not None:
                raise RefusedError(f"event {i}: {why}")
            incoming.append(Event.from_doc(doc))
        new: dict[str, Event] = {}
        present = 0
        for ev in incoming:
            known = self._id_hash(ev.event_id)
            if known is not None:
                if known != ev.hash:
                    raise RefusedError(
                        f"conflict: event {ev.event_id} is already here with different content"
                    )
                present += 1
                continue
            seen = new.get(ev.event_id)
            if seen is not None and seen.hash != ev.hash:
                raise RefusedError(f"conflict: event {ev.event_id} appears twice, differently")
            new[ev.event_id] = ev
        chains: dict[str, list[Event]] = {}
        for ev in new.values():
            chains.setdefault(ev.device_id, []).append(ev)
        ordered: list[Event] = []
        for device, chain in sorted(chains.items()):
            if device == me:
                raise RefusedError(
                    f"events of this device ({device}) that it does not have: made by a copy of "
                    "this data directory on another machine?"
                )
            chain.sort(key=lambda e: e.seq)
            head = self._heads.get(device)
            for ev in chain:
                why = link_problem(head, ev)
                if why is not None:
                    raise RefusedError(f"device {device}: {why}")
                head = Head(ev.seq, ev.hash, ev.lamport)
            ordered += chain
        if not ordered:
            return ImportResult(0, present)
        self._apply_later = True
        try:
            with self.batch():
                assert self._batch is not None
                self._batch.extend(ordered)
                for ev in ordered:
                    self._remember(ev)
        finally:
            self._apply_later = False
        ordered.sort(key=lambda e: e.order)
        with gc_paused():
            if self._max_order is None or ordered[0].order > self._max_order:
                # All sort after everything applied: applying them now equals a rebuild.
                for ev in ordered:
                    self._proj.apply(ev)
            else:
                self._proj = Projection()  # not two projections in memory at once
                rebuilt = self._rebuild_from_saved(ordered[0].order)
                if rebuilt is not None:
                    self._proj = rebuilt
                else:
                    self._proj = Projection.build(self._all_events())
                    self._state_due = True
            self._max_order = max(self._max_order or ordered[-1].order, ordered[-1].order)
        if self._state_due:
            self._save_state()
        return ImportResult(len(ordered), present)

    # -- reports on the ledger itself -------------------------------------------------------

    def info(self) -> LedgerInfo:
        """Identity, sizes, counts and digests (``inspect-engine ledger info``)."""
        with self._mutex:
            self._ensure_current()
            proj = self._proj
            today = self.today()
            findings = Counter(
                f.status.value for f in proj.findings.values() if f.status is not None
            )
            main_st = self.ops.stat(self.data_dir / LEDGER_FILE)
            sealed_bytes = 0
            for ref in self._refs:
                seg_st = self.ops.stat(self.data_dir / SEGMENT_DIR / ref.name)
                sealed_bytes += seg_st.st_size if seg_st else 0
            journal_st = self.ops.stat(self.data_dir / JOURNAL_FILE)
            return LedgerInfo(
                data_dir=self.data_dir,
                exists=self.device_id is not None,
                device_id=self.device_id,
                created=self.created,
                format_version=self._file_version(),
                ledger_bytes=(main_st.st_size if main_st else 0) + sealed_bytes,
                journal_bytes=journal_st.st_size if journal_st else 0,
                events=self._in_main,
                journal_events=self._count() - self._in_main,
                devices=dict(self._heads),
                sites=len(proj.sites),
                inspections=dict(Counter(i.status for i in proj.inspections.values())),
                findings=dict(findings),
                overdue=sum(1 for f in proj.findings.values() if f.overdue(today)),
                orders_in_force=sum(1 for o in proj.orders.values() if o.in_force),
                rejected=len(proj.rejected),
                conflicts=len(proj.conflicts),
                digest=self.digest(),
                state_digest=proj.digest(),
                saved_state=("used" if not self.state_note else self.state_note),
                open_inspections=[i.id for i in proj.open_inspections()],
            )

    def _file_version(self) -> int:
        """The format version ``ledger.db``'s header names: an older file stays at its version
        until a fold rewrites it (docs/ledger.md, "Version 1"); this program's for a new one."""
        try:
            with open(self.data_dir / LEDGER_FILE, "rb") as fh:
                first = fh.readline(4096).rstrip(b"\n")
        except OSError:
            return FORMAT_VERSION
        header, _ = decode_line(first)
        version = header.get("version") if header else None
        return version if type(version) is int else FORMAT_VERSION

    def verify(self) -> VerifyReport:
        """Check every file, event hash and chain from disk (see :func:`verify_data_dir`)."""
        with self._mutex:
            return verify_data_dir(self.data_dir, ops=self.ops)

    @_synchronized
    def backup(self, dest: Path | None = None) -> Path:
        """Write every event (journal folded in) to one verified ledger file; return its path.

        The copy is a complete ``ledger.db``: restore it by placing it in an empty data directory.
        An existing file is never overwritten.
        """
        self._ensure_current()
        if self.device_id is None:
            raise LedgerError(f"no ledger at {self.data_dir} yet")
        if dest is None:
            stamp = self.clock.now().strftime("%Y%m%d-%H%M%S")
            dest = self.data_dir / BACKUP_DIR / f"ledger-{stamp}.db"
            n = 2
            while self.ops.stat(dest) is not None:
                dest = self.data_dir / BACKUP_DIR / f"ledger-{stamp}-{n}.db"
                n += 1
        if self.ops.stat(dest) is not None:
            raise InputError(f"{dest} exists; a backup never overwrites a file")
        events = self._all_events()
        chunks = encode_chunks(
            "main", [("meta", [dict(self._meta)]), ("events", (e.to_doc() for e in events))]
        )
        try:
            self.ops.makedirs(dest.parent)
            with gc_paused():
                atomic_write(dest, chunks, self.ops)
        except OSError as err:
            raise LedgerWriteError(f"could not write the backup {dest}: {err.strerror}") from err
        got = self.ops.read(dest)
        with gc_paused():
            # Every event checked in full (shape, payload, hash), kept without its payload: the
            # chains are checked next, and the ledger's own events are in memory already.
            parsed = parse_file(got[0] if got else b"", str(dest), "main", convert=checked_bare)
        del got
        part = Part(str(dest), parsed.tables.get("events", {}), parsed.lines)
        problems = (
            parsed.problems or (check_main(parsed.tables, [part], full=True, file=part.file)[1])
        )
        if problems:
            raise LedgerError(f"the backup {dest} does not verify: {problems[0].render()}")
        return dest


# --------------------------------------------------------------------------------------------
# Helpers


def _payload(model: type[Payload], **fields: Any) -> Payload:
    from pydantic import ValidationError

    try:
        return model.model_validate(fields)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{loc}: {first['msg']}") from err


def _evidence(digest: str, name: str) -> Evidence:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")[:200]
    return Evidence(sha256=digest, name=base)


def _evidence_list(items: Iterable[Evidence | str]) -> list[Evidence]:
    out = []
    for item in items:
        if isinstance(item, Evidence):
            out.append(item)
        elif _SHA256.match(item):
            out.append(Evidence(sha256=item))
        else:
            raise InputError(f"not an evidence hash: {item!r}")
    return out


def _kept(current: Any) -> list[Evidence]:
    return list(current.evidence) if current is not None else []
