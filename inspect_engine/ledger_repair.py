"""``ledger verify`` and ``ledger rebuild --salvage``: the ledger's files checked in full, and
the explicit, user-invoked way out of damage.

:func:`verify_data_dir` reads the files as :meth:`~inspect_engine.ledger.Ledger.open` does and
more (every event hash recomputed, every payload validated) and reports every problem located;
it never changes a file. :func:`salvage` keeps what still verifies, moves the damaged files aside
and writes a ledger of the rest.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_engine.clock import Clock, SystemClock
from inspect_engine.datadir import (
    JOURNAL_FILE,
    LEDGER_FILE,
    LOCK_FILE,
    resolve_data_dir,
)
from inspect_engine.errors import LedgerError, Problem
from inspect_engine.events import (
    Event,
    Head,
    document_problem,
    link_problem,
)
from inspect_engine.fsio import FileOps, atomic_write
from inspect_engine.ledger_files import (
    Part,
    check_journal,
    check_main,
    segment_refs,
    to_full_event,
)
from inspect_engine.projection import (
    Projection,
)
from inspect_engine.statefile import (
    STATE_FILE,
    covers,
    dump_projection,
    read_state,
)
from inspect_engine.storage import (
    SEGMENT_DIR,
    LedgerWriteError,
    SegmentRef,
    Tables,
    WriterLock,
    encode_file,
    gc_paused,
    parse_file,
    read_segment,
)


@dataclass
class VerifyReport:
    """``inspect-engine ledger verify``: every problem, located; plus what was checked."""

    data_dir: Path
    exists: bool
    problems: list[Problem]
    events: int = 0
    journal_events: int = 0
    devices: dict[str, int] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    """Events kept but not applied by the projection (with the reason): not damage."""
    conflicts: list[str] = field(default_factory=list)
    state: str = ""
    """What was found of the saved projection (``state.db``): a cache, so only a state that
    disagrees with a replay of the events it names is a problem."""

    @property
    def ok(self) -> bool:
        """No damage found."""
        return not self.problems


def verify_data_dir(
    data_dir: str | Path | None = None, *, ops: FileOps | None = None
) -> VerifyReport:
    """Read ``ledger.db`` and ``journal.db`` from disk and check everything, collecting problems.

    Checks: file format, per-line checksums, end marker (count and SHA-256), record order and
    duplicates, every event's fields, payload and hash, every device's chain (seq, prev, lamport),
    and that the journal continues this device's chain. Writes nothing; works on a damaged
    ledger that :meth:`Ledger.open` refuses. Projection rejections and conflicts are listed but
    are not damage.
    """
    with gc_paused():
        return _verify(resolve_data_dir(data_dir), ops or FileOps())


def _verify(path: Path, ops: FileOps) -> VerifyReport:
    report = VerifyReport(path, exists=False, problems=[])
    main_path, journal_path = path / LEDGER_FILE, path / JOURNAL_FILE
    got = _read(ops, main_path)
    jgot = _read(ops, journal_path)
    if got is None:
        if jgot is not None:
            report.problems.append(
                Problem(str(main_path), "", f"missing, but {JOURNAL_FILE} exists")
            )
        return report
    report.exists = True
    parsed = parse_file(got, str(main_path), "main", convert=to_full_event)
    del got
    report.problems += parsed.problems
    refs, bad = segment_refs(parsed.tables, str(main_path))
    report.problems += bad
    sources: list[list[Event] | Part] = []
    folder = path / SEGMENT_DIR
    for ref in refs:
        seg = read_segment(folder, ref, ops, convert=to_full_event)
        report.problems += seg.problems
        sources.append(Part(str(folder / ref.name), seg.tables.get("events", {}), seg.lines))
    sources.append(Part(str(main_path), parsed.tables.get("events", {}), parsed.lines))
    events, problems, meta = check_main(parsed.tables, sources, full=True, file=str(main_path))
    del sources
    report.problems += problems
    report.events = len(events)
    ids = {e.event_id: e.hash for e in events}
    heads: dict[str, Head] = {}
    for e in events:
        heads[e.device_id] = Head(e.seq, e.hash, e.lamport)
    pending: list[Event] = []
    if jgot is not None:
        jparsed = parse_file(jgot, str(journal_path), "journal", convert=to_full_event)
        report.problems += jparsed.problems
        device = str(meta.get("device_id", ""))
        jpart = Part(str(journal_path), jparsed.tables.get("events", {}), jparsed.lines)
        pending, _, jproblems = check_journal(jpart, device, ids, heads, full=True)
        report.problems += jproblems
        report.journal_events = len(pending)
    everything = events + pending
    report.devices = dict(Counter(e.device_id for e in everything))
    if not report.problems:
        proj = Projection.build(everything)
        report.rejected = [
            f"{r.kind} {r.event_id} (seq {r.seq}): {r.reason}" for r in proj.rejected
        ]
        report.conflicts = [f"{c.entity}: {c.reason}" for c in proj.conflicts]
        n_sealed = sum(ref.records for ref in refs)
        report.state = _check_state(path, refs, events, n_sealed, ops, report.problems)
    return report


def _check_state(
    path: Path,
    refs: list[SegmentRef],
    events: list[Event],
    n_sealed: int,
    ops: FileOps,
    problems: list[Problem],
) -> str:
    """Compare the saved state with a replay of the events it names (they are verified)."""
    file = path / STATE_FILE
    state, why = read_state(file, ops)
    if state is None:
        return f"{why} (the next writable open saves one)"
    if not covers(state, refs, events[n_sealed:]):
        return "saved state is of other events: not used (the next writable open saves one)"
    replay = Projection.build(events[: state.events])
    if dump_projection(replay) != dump_projection(state.projection):
        problems.append(
            Problem(
                str(file),
                "",
                "the saved projection differs from a replay of the events it names: delete "
                "this file (the ledger replays the events and saves a new one)",
            )
        )
        return "differs from a replay"
    return f"matches a replay of its {state.events} events"


def _read(ops: FileOps, path: Path) -> bytes | None:
    try:
        got = ops.read(path)
    except OSError as err:
        raise LedgerError(f"读取失败 / could not read {path}: {err}") from err
    return None if got is None else got[0]


# --------------------------------------------------------------------------------------------
# Salvage: the explicit, user-invoked way out of a damaged ledger


@dataclass
class SalvageReport:
    """What :func:`salvage` kept, dropped, and where it put the damaged files."""

    data_dir: Path
    needed: bool
    kept: int = 0
    dropped: list[str] = field(default_factory=list)
    """What was left out: unreadable lines, invalid events, broken chain tails."""
    moved_to: Path | None = None


def _salvage_docs(data: bytes | None, table: str) -> tuple[list[dict[str, Any]], list[str]]:
    from inspect_engine.storage import decode_line

    docs: list[dict[str, Any]] = []
    notes: list[str] = []
    if data is None:
        return docs, notes
    for number, raw in enumerate(data.split(b"\n")[1:], start=2):
        if not raw:
            continue
        obj, why = decode_line(raw)
        if obj is None:
            notes.append(f"line {number}: {why}")
        elif obj.get("t") == table and isinstance(obj.get("doc"), dict):
            docs.append(obj["doc"])
    return docs, notes


def salvage(
    data_dir: str | Path | None = None,
    *,
    clock: Clock | None = None,
    ops: FileOps | None = None,
    wait: float = 0.0,
) -> SalvageReport:
    """Rewrite a damaged ledger from every event that still verifies; keep the damaged files.

    Run only when asked (``inspect-engine ledger rebuild --salvage``). Every readable, valid
    event that continues its device's chain from seq 1 is kept; the rest of a chain after a
    break is listed as dropped. The damaged ``ledger.db`` and ``journal.db`` are copied into
    ``damaged-<time>/`` first; the new ``ledger.db`` (every kept event in it, no segments)
    replaces the old one atomically; then the sealed segments, no longer referenced, are moved
    into ``damaged-<time>/segments/``. A ledger that verifies is left alone.
    """
    path = resolve_data_dir(data_dir)
    ops = ops or FileOps()
    clock = clock or SystemClock()
    lock = WriterLock(path / LOCK_FILE)
    lock.acquire(wait, path)
    try:
        report = SalvageReport(path, needed=False)
        if verify_data_dir(path, ops=ops).ok:
            return report
        report.needed = True
        main, journal = _read(ops, path / LEDGER_FILE), _read(ops, path / JOURNAL_FILE)
        metas, _ = _salvage_docs(main, "meta")
        device = metas[0].get("device_id") if metas else None
        if not isinstance(device, str) or not re.match(r"^[0-9a-f]{32}$", device):
            raise LedgerError(
                f"cannot salvage {path}: the device identity (meta record) is unreadable",
                hint="restore ledger.db from a backup (inspect-engine ledger backup)",
            )
        folder = path / SEGMENT_DIR
        segment_names = sorted(
            n for n in ops.listdir(folder) if not n.startswith(".") and n.endswith(".db")
        )
        docs: list[dict[str, Any]] = []
        for name in segment_names:
            sdocs, snotes = _salvage_docs(_read(ops, folder / name), "events")
            docs += sdocs
            report.dropped += [f"{SEGMENT_DIR}/{name} {n}" for n in snotes]
        mdocs, notes = _salvage_docs(main, "events")
        docs += mdocs
        jdocs, jnotes = _salvage_docs(journal, "events")
        report.dropped += [f"{LEDGER_FILE} {n}" for n in notes]
        report.dropped += [f"{JOURNAL_FILE} {n}" for n in jnotes]
        chains: dict[str, dict[int, Event]] = {}
        seen: dict[str, str] = {}
        for doc in docs + jdocs:
            why = document_problem(doc)
            if why is not None:
                report.dropped.append(f"event {doc.get('event_id', '?')}: {why}")
                continue
            ev = Event.from_doc(doc)
            if ev.event_id in seen:
                if seen[ev.event_id] != ev.hash:
                    report.dropped.append(f"event {ev.event_id}: a second, different copy")
                continue
            seen[ev.event_id] = ev.hash
            chains.setdefault(ev.device_id, {}).setdefault(ev.seq, ev)
        kept: list[Event] = []
        for dev, by_seq in sorted(chains.items()):
            head: Head | None = None
            for seq in sorted(by_seq):
                ev = by_seq[seq]
                why = link_problem(head, ev)
                if why is not None:
                    last = max(by_seq)
                    report.dropped.append(f"device {dev[:8]} seq {seq}..{last}: {why}")
                    break
                kept.append(ev)
                head = Head(ev.seq, ev.hash, ev.lamport)
        kept.sort(key=lambda e: e.order)
        report.kept = len(kept)
        stamp = clock.now().strftime("%Y%m%d-%H%M%S")
        aside = path / f"damaged-{stamp}"
        ops.makedirs(aside)
        for name, data in ((LEDGER_FILE, main), (JOURNAL_FILE, journal)):
            if data is not None:
                atomic_write(aside / name, data, ops)
        report.moved_to = aside
        tables: Tables = {
            "meta": {"1": dict(metas[0])},
            "events": {str(i + 1): e.to_doc() for i, e in enumerate(kept)},
        }
        atomic_write(path / LEDGER_FILE, encode_file("main", tables), ops)
        if journal is not None:
            ops.unlink(path / JOURNAL_FILE)
            ops.fsync_dir(path)
        if segment_names:
            # ledger.db no longer references them: move them aside with the damaged files.
            ops.makedirs(aside / SEGMENT_DIR)
            for name in segment_names:
                ops.replace(str(folder / name), aside / SEGMENT_DIR / name)
            ops.fsync_dir(aside / SEGMENT_DIR)
            ops.fsync_dir(folder)
        return report
    except OSError as err:
        raise LedgerWriteError(f"salvage of {path} failed: {err.strerror or err}") from err
    finally:
        lock.release()
