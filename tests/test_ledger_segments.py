"""Sealed segments: folds seal ``ledger.db``'s events into segment files instead of rewriting
them; older ledgers (format 1) still open and are sealed once; a crash between writing a
segment and replacing ``ledger.db`` loses nothing; imports apply incrementally when they may."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from inspect_engine import ledger as ledger_module
from inspect_engine.errors import LedgerError
from inspect_engine.events import Event
from inspect_engine.fsio import FileOps
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import salvage, verify_data_dir
from inspect_engine.projection import Projection
from inspect_engine.storage import SEGMENT_DIR, LineIndex, encode_file
from tests.reliability import kit

PACK_ID, PACK_VERSION = "building-safety", "1.0.0"


@pytest.fixture
def seal_at_4(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seal every few events, so small ledgers have segments."""
    monkeypatch.setattr(ledger_module, "SEAL_AT", 4)


def _segments(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / SEGMENT_DIR).glob("*.db"))


def _work(led: Ledger, site: str = "S0001", answers: int = 3) -> str:
    insp = led.start_inspection(
        site, method="明查", inspectors=["张三"], pack_id=PACK_ID, pack_version=PACK_VERSION
    )
    for i in range(answers):
        led.record_answer(insp.id, f"q{i}", "yes" if i % 2 else "no")
    led.submit_inspection(insp.id, [kit.finding("R1")])
    return insp.id


@pytest.mark.usefixtures("seal_at_4")
def test_folds_seal_and_a_reopen_sees_the_same(tmp_path: Path) -> None:
    """Segments hold the folded events; ledger.db only references them; reopening (both modes)
    gives the same events and state; verify checks them all."""
    data = tmp_path / "data"
    with Ledger.open(data, clock=kit.clock(), actor="张三") as led:
        led.register_sites([kit.site(i) for i in range(6)])
        _work(led)
        _work(led, "S0002")
        state = kit.logical_state(led)
        first_segments = _segments(data)
        assert len(first_segments) >= 3
    text = (data / "ledger.db").read_text()
    assert '"segments"' in text and '"kind":"inspection.answered"' not in text
    for readonly in (False, True):
        with Ledger.open(data, clock=kit.clock(), readonly=readonly) as again:
            assert kit.logical_state(again) == state
    report = verify_data_dir(data)
    assert report.ok and report.events == len(state[0])
    with Ledger.open(data, clock=kit.clock(), actor="张三") as led:
        _work(led, "S0003")
    assert set(first_segments) < set(_segments(data))  # sealed files are never rewritten


@pytest.mark.usefixtures("seal_at_4")
def test_a_read_only_ledger_reads_only_new_segments(tmp_path: Path) -> None:
    """A reader follows the writer's seals, re-reading only segments it has not read."""
    data = tmp_path / "data"
    writer = Ledger.open(data, clock=kit.clock(), actor="张三")
    writer.register_sites([kit.site(i) for i in range(6)])
    reader = Ledger.open(data, clock=kit.clock(), readonly=True)
    assert len(reader.events()) == 6
    known = dict(reader._seg_cache)  # noqa: SLF001 - what the test is about
    _work(writer)
    assert kit.logical_state(reader) == kit.logical_state(writer)
    for name, (_, events) in known.items():
        assert reader._seg_cache[name][1] is events  # noqa: SLF001 - not parsed again
    writer.close()


class _KilledBeforeHead(FileOps):
    """Dies (``SystemExit``, as a kill would stop it) when ``ledger.db`` is about to be replaced
    after a segment was written: the crash between the two writes of a seal."""

    def __init__(self) -> None:
        self.segment_written = False
        self.armed = False

    def replace(self, src: str, dst: Path) -> None:
        if self.armed and dst.parent.name == SEGMENT_DIR:
            self.segment_written = True
        if self.armed and self.segment_written and dst.name == "ledger.db":
            raise SystemExit("killed")
        super().replace(src, dst)


@pytest.mark.usefixtures("seal_at_4")
def test_a_crash_between_segment_and_head_loses_nothing(tmp_path: Path) -> None:
    """The segment is written, ledger.db not yet replaced: every acknowledged event is still
    there (in ledger.db and the journal), the unreferenced segment is ignored, verify is clean,
    and the next fold seals again."""
    data = tmp_path / "data"
    ops = _KilledBeforeHead()
    led = Ledger.open(data, clock=kit.clock(), actor="张三", ops=ops)
    led.register_sites([kit.site(i) for i in range(3)])  # 3 < 4: stays in ledger.db
    insp = led.start_inspection(
        "S0001", method="明查", inspectors=["张三"], pack_id=PACK_ID, pack_version=PACK_VERSION
    )
    led.record_answer(insp.id, "q1", "no")
    acknowledged = kit.logical_state(led)
    before = _segments(data)
    ops.armed = True
    with pytest.raises(SystemExit):
        led.submit_inspection(insp.id, [])
    led.close()
    orphans = set(_segments(data)) - set(before)
    assert orphans, "the segment was written before the kill"
    assert verify_data_dir(data).ok
    with Ledger.open(data, clock=kit.clock(), actor="张三") as again:
        assert kit.logical_state(again) == acknowledged
        assert again.inspection(insp.id).status == "open"
        again.submit_inspection(insp.id, [])
        assert again.inspection(insp.id).status == "submitted"
    assert verify_data_dir(data).ok


def _v1_file(events: list[Event], meta: dict[str, object]) -> bytes:
    """A format-1 ledger.db as the previous inspect-engine wrote it (every event in it)."""
    tables = {"meta": {"1": meta}, "events": {str(i + 1): e.to_doc() for i, e in enumerate(events)}}
    data = encode_file("main", tables)
    lines = data.splitlines(keepends=True)
    header = json.dumps(
        {"format": "inspect-engine-ledger", "version": 1, "kind": "main"}, separators=(",", ":")
    ).encode()
    body = b"%08x %s\n" % (zlib.crc32(header), header) + b"".join(lines[1:-1])
    import hashlib

    end = json.dumps(
        {"end": {"records": len(events) + 1, "sha256": hashlib.sha256(body).hexdigest()}},
        separators=(",", ":"),
    ).encode()
    return body + b"%08x %s\n" % (zlib.crc32(end), end)


@pytest.mark.parametrize("big", [False, True])
def test_a_format_1_ledger_opens_and_is_sealed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    """An older ledger.db (format 1, every event in it) opens read-only as it is; the first
    writable open seals its events; state, events and verify are unchanged. ``big``: the file
    is over the size read the memory-saving way (events made as lines are read)."""
    if big:
        monkeypatch.setattr(ledger_module, "RAW_LINES_UP_TO", 0)
    source = tmp_path / "source"
    with Ledger.open(source, clock=kit.clock(), actor="张三") as led:
        led.register_sites([kit.site(i) for i in range(5)])
        _work(led)
        state = kit.logical_state(led)
        events, meta = led.events(), {**led._meta, "format": 1}  # noqa: SLF001
    old = tmp_path / "old"
    old.mkdir()
    (old / "ledger.db").write_bytes(_v1_file(events, meta))
    assert verify_data_dir(old).ok
    with Ledger.open(old, clock=kit.clock(), readonly=True) as reader:
        assert kit.logical_state(reader) == state
        assert reader.info().format_version == 1  # what the file is, not what we write
    assert not _segments(old)
    monkeypatch.setattr(ledger_module, "SEAL_AT", 4)
    with Ledger.open(old, clock=kit.clock(), actor="张三") as led:
        assert kit.logical_state(led) == state
    assert len(_segments(old)) == -(-len(events) // 4)
    assert b'"version":2' in (old / "ledger.db").read_bytes()[:80]
    with Ledger.open(old, clock=kit.clock(), readonly=True) as reader:
        assert reader.info().format_version == 2
    report = verify_data_dir(old)
    assert report.ok and report.events == len(events)
    with Ledger.open(old, clock=kit.clock(), readonly=True) as reader:
        assert kit.logical_state(reader) == state


@pytest.mark.usefixtures("seal_at_4")
def test_backup_and_salvage_with_segments(tmp_path: Path) -> None:
    """A backup is one complete file; salvage of a damaged segment keeps what verifies and
    moves the segments aside with the damaged files."""
    data = tmp_path / "data"
    with Ledger.open(data, clock=kit.clock(), actor="张三") as led:
        led.register_sites([kit.site(i) for i in range(6)])
        _work(led)
        total = len(led.events())
        dest = led.backup(tmp_path / "backup.db")
    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "ledger.db").write_bytes(dest.read_bytes())
    with Ledger.open(restored, clock=kit.clock(), readonly=True) as back:
        assert len(back.events()) == total
    last = data / SEGMENT_DIR / _segments(data)[0]  # 4 events
    lines = last.read_bytes().splitlines(keepends=True)
    last.write_bytes(b"".join(lines[:2]) + b"garbage\n" + b"".join(lines[3:]))
    assert not verify_data_dir(data).ok
    result = salvage(data, clock=kit.clock())
    assert result.needed and result.moved_to is not None
    assert (result.moved_to / SEGMENT_DIR / last.name).exists()
    assert verify_data_dir(data).ok
    with Ledger.open(data, clock=kit.clock(), readonly=True) as led:
        assert 0 < len(led.events()) < total


@pytest.mark.usefixtures("seal_at_4")
def test_imports_apply_incrementally_only_when_they_sort_last(tmp_path: Path) -> None:
    """An import whose events all sort after the state applies them on top; one that sorts
    earlier rebuilds. Either way the state equals a rebuild from every event."""
    hub = Ledger.open(tmp_path / "hub", clock=kit.clock(), actor="office")
    hub.register_sites([kit.site(i) for i in range(4)])
    laptop = Ledger.open(tmp_path / "laptop", clock=kit.clock(), actor="张三")
    laptop.import_events(hub.events())
    _work(laptop)  # made after seeing the hub: sorts after every hub event
    hub.import_events(laptop.events())
    assert hub.projection.digest() == Projection.build(hub.events()).digest()
    late = Ledger.open(tmp_path / "late", clock=kit.clock(), actor="李四")
    late.register_sites([kit.site(9)])  # lamport 1: sorts before most of the hub's events
    hub.import_events(late.events())
    assert hub.projection.digest() == Projection.build(hub.events()).digest()
    for led in (hub, laptop, late):
        led.close()
    assert verify_data_dir(tmp_path / "hub").ok


def test_line_index_runs() -> None:
    """Lines are found per table, across runs broken by other tables or skipped lines."""
    index = LineIndex()
    for doc_id, line in [(1, 2), (2, 3), (3, 4), (5, 7), (6, 8)]:
        index.add("events", doc_id, line)
    index.add("meta", 1, 9)
    index.add("events", 7, 10)
    assert [index.get(("events", str(i))) for i in range(1, 9)] == [2, 3, 4, None, 7, 8, 10, None]
    assert index[("meta", "1")] == 9
    assert ("meta", "2") not in index and index.get(("other", "1")) is None


def _state(proj: Projection) -> object:
    """Everything a projection holds, dict orders included (reports list in projection order)."""
    return (
        [(k, v) for k, v in proj.sites.items()],
        [(k, v, list(v.answers.items())) for k, v in proj.inspections.items()],
        [(k, v) for k, v in proj.findings.items()],
        [(k, v) for k, v in proj.orders.items()],
        proj.rejected,
        proj.conflicts,
        proj.applied,
    )


def test_build_equals_applying_one_by_one(tmp_path: Path) -> None:
    """``Projection.build`` (plain answers applied inline) gives exactly the state of applying
    every event in order with ``apply``: answers set, cleared, with notes, lists, evidence, and
    answers of another device rejected after the inspection was submitted."""
    a = Ledger.open(tmp_path / "a", clock=kit.clock(), actor="张三")
    a.register_sites([kit.site(i) for i in range(3)])
    insp = a.start_inspection(
        "S0001", method="明查", inspectors=["张三"], pack_id=PACK_ID, pack_version=PACK_VERSION
    ).id
    b = Ledger.open(tmp_path / "b", clock=kit.clock(), actor="李四")
    b.import_events(a.events())
    a.record_answer(insp, "q1", "no")
    a.record_answer(insp, "q2", ["a", "b"], note="两处")
    a.record_answer(insp, "q3", 2.5)
    a.record_answer(insp, "q4", True)
    a.record_answer(insp, "q1", None)  # cleared
    a.record_answer(insp, "q2", None)  # note kept
    a.record_answer(insp, "q5", "yes", evidence=[a.add_evidence(b"photo", name="p.jpg")])
    b.record_answer(insp, "q1", "yes")
    b.record_answer(insp, "q6", "no")
    a.submit_inspection(insp, [kit.finding("R1")])
    for i in range(12):  # b's clock runs past a's submit: its later answers sort after it
        b.record_answer(insp, f"r{i}", "yes")
    hub = Ledger.open(tmp_path / "hub", clock=kit.clock(), actor="office")
    hub.import_events(a.events())
    hub.import_events(b.events())
    events = hub.events()
    one_by_one = Projection()
    for event in sorted(events, key=lambda e: e.order):
        one_by_one.apply(event)
    built = Projection.build(events)
    assert _state(built) == _state(one_by_one)
    assert built.rejected, "b's answers after the submit are rejected"
    assert built.inspections[insp].answers["q2"].note == "两处"
    assert "q5" in built.inspections[insp].answers  # with evidence: the general path
    for led in (a, b, hub):
        led.close()


class _FailAt(FileOps):
    """``ENOSPC`` at the k-th mutating call (mkstemp, write, fsync, replace, fsync of a folder)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.calls = 0

    def _step(self) -> None:
        self.calls += 1
        if self.calls == self.k:
            raise OSError(28, "No space left on device")

    def mkstemp(self, directory: Path, prefix: str) -> tuple[int, str]:
        self._step()
        return super().mkstemp(directory, prefix)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        self._step()
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        self._step()
        super().fsync(fd)

    def replace(self, src: str, dst: Path) -> None:
        self._step()
        super().replace(src, dst)

    def fsync_dir(self, directory: Path) -> None:
        self._step()
        super().fsync_dir(directory)


def test_an_error_while_sealing_a_format_1_ledger_changes_nothing_it_should_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full at every step of the one-off sealing done by the first writable open: the open
    fails with the error, and the next open (clean) has every event, verified."""
    source = tmp_path / "source"
    with Ledger.open(source, clock=kit.clock(), actor="张三") as led:
        led.register_sites([kit.site(i) for i in range(5)])
        _work(led)
        state = kit.logical_state(led)
        events, meta = led.events(), {**led._meta, "format": 1}  # noqa: SLF001
    old = _v1_file(events, meta)
    monkeypatch.setattr(ledger_module, "SEAL_AT", 4)
    k = 1
    while True:
        work = tmp_path / f"k{k}"
        work.mkdir()
        (work / "ledger.db").write_bytes(old)
        ops = _FailAt(k)
        try:
            opened = Ledger.open(work, clock=kit.clock(), actor="张三", ops=ops)
            note = opened.state_note
            opened.close()
        except LedgerError:
            assert ops.calls >= k
        else:
            if ops.calls < k:
                break  # every step was tried
            # the one step allowed to fail without failing the open: saving the state (a cache)
            assert note.startswith("could not save the state"), (k, note)
        assert verify_data_dir(work).ok, k
        with Ledger.open(work, clock=kit.clock(), actor="张三") as again:
            assert kit.logical_state(again) == state, k
        k += 1
    assert k > 10  # segments (three), ledger.db: several steps each
