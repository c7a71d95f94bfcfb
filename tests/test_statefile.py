"""The saved projection (``state.db``): an open from it equals a replay of every event, it is used
only for the exact events it names, damage anywhere sends the open back to the replay (or, for a
sealed segment, to the refusal it always was), and the sealed events still come when asked."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from pydantic_core import from_json, to_json

from inspect_engine import ledger as ledger_module
from inspect_engine import statefile
from inspect_engine.errors import RefusedError
from inspect_engine.events import DeviceEnrolled
from inspect_engine.fsio import FileOps
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir
from inspect_engine.projection import Projection
from inspect_engine.rectification import FiveImplementations
from inspect_engine.statefile import STATE_FILE, SortedIds, dump_projection, read_state
from inspect_engine.storage import SEGMENT_DIR, LedgerDamaged
from tests.reliability import kit

PACK_ID, PACK_VERSION = "building-safety", "1.0.0"


@pytest.fixture(autouse=True)
def seal_at_5(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seal every few events, so small ledgers have segments, and save their state."""
    monkeypatch.setattr(ledger_module, "SEAL_AT", 5)
    monkeypatch.setattr(ledger_module, "STATE_FROM", 1)


def _inspect(led: Ledger, site: str, *, major: bool = False, submit: bool = True) -> str:
    insp = led.start_inspection(
        site, method="明查", inspectors=["张三"], pack_id=PACK_ID, pack_version=PACK_VERSION
    )
    led.record_answer(insp.id, "q1", "no", note="现场照片见附件")
    led.record_answer(insp.id, "q2", ["a", "b"])
    led.record_answer(insp.id, "q3", 2.5, evidence=[led.add_evidence(b"photo", name="p.jpg")])
    led.record_answer(insp.id, "q4", None)
    if submit:
        led.submit_inspection(insp.id, [kit.finding("R1", level="重大" if major else "一般")])
    return insp.id


def _city(tmp: Path) -> tuple[Path, Path]:
    """A hub and a laptop with every kind of state: site edits and a conflict, open, submitted
    and cancelled inspections (answers with notes, lists, evidence, cleared), a 重大 hazard with
    its 五落实 revised, moves, a reopening, orders issued and lifted, an enrollment, and a
    rejected answer."""
    hub_dir, lap_dir = tmp / "hub", tmp / "laptop"
    with (
        Ledger.open(hub_dir, clock=kit.clock(), actor="office") as hub,
        Ledger.open(lap_dir, clock=kit.clock(), actor="张三") as lap,
    ):
        hub.register_sites([kit.site(i) for i in range(6)])
        lap.import_events(hub.events())
        assert lap.device_id is not None
        hub.enroll_device(
            DeviceEnrolled(
                device_id=lap.device_id, role="laptop", inspector="张三", public_key="ab" * 32
            )
        )
        major = _inspect(lap, "S0001", major=True)
        _inspect(lap, "S0002")
        cancelled = _inspect(lap, "S0003", submit=False)
        lap.cancel_inspection(cancelled, "场所关闭")
        shared = _inspect(lap, "S0004", submit=False)
        hub.import_events(lap.events())
        # concurrent edits of one site: both kept, the later wins (a conflict)
        hub.register_sites([kit.site(5).model_copy(update={"name": "改名甲"})])
        lap.register_sites([kit.site(5).model_copy(update={"name": "改名乙"})])
        fid = lap.projection.inspections[major].finding_ids[0]
        plan = FiveImplementations(
            responsible_person="王五",
            measures="停用加固",
            funds=3.5,
            deadline=dt.date(2020, 10, 1),
            contingency_plan="设置警戒",
        )
        lap.set_plan(fid, plan)
        lap.set_plan(fid, plan.model_copy(update={"funds": 4.0}))
        lap.start_rectification(fid, note="开始")
        lap.report_rectified(fid, note="完成", evidence=[lap.add_evidence(b"after", name="a.jpg")])
        lap.reopen_finding(fid, reason="复查未通过")
        order = lap.order_enforcement(
            "S0001", "stop_use", ordered_on=dt.date(2020, 9, 2), finding_id=fid, issued_by="住建局"
        )
        lap.lift_enforcement(order.id, lifted_on=dt.date(2020, 9, 20), basis="整改完成")
        lap.order_enforcement("S0002", "stop_use", ordered_on=dt.date(2020, 9, 3))
        lap.record_answer(shared, "q5", "yes")  # still open on the laptop
        hub.import_events(lap.events())
        lap.import_events(hub.events())
    return hub_dir, lap_dir


def _replayed(data: Path) -> bytes:
    with Ledger.open(data, readonly=True) as led:
        return dump_projection(Projection.build(led.events()))


def _opened(data: Path, **kw: object) -> tuple[bytes, str]:
    with Ledger.open(data, clock=kit.clock(), actor="张三", **kw) as led:  # type: ignore[arg-type]
        return dump_projection(led.projection), led.state_note


def test_an_open_from_the_saved_state_equals_a_replay(tmp_path: Path) -> None:
    """Both ledgers save a state; reopening (both modes) uses it and gives exactly the replay's
    state, every field (answers of sealed inspections decoded on demand included)."""
    for data in _city(tmp_path):
        assert (data / STATE_FILE).exists()
        want = _replayed(data)
        for readonly in (True, False):
            got, note = _opened(data, readonly=readonly)
            assert note == "", note
            assert got == want
        report = verify_data_dir(data)
        assert report.ok and report.state.startswith("matches a replay"), report.state


def test_sealed_events_are_read_only_when_asked(tmp_path: Path) -> None:
    """After an open from the state, events() are the same as after a replay; re-sent events
    are recognised as present, a forged copy with the same id is refused."""
    hub_dir, lap_dir = _city(tmp_path)
    with Ledger.open(hub_dir, readonly=True) as led:
        assert led.state_note == ""
        assert led._off > 0  # noqa: SLF001 - sealed events not read at open
        events = led.events()
        assert led._off == 0  # noqa: SLF001
    (hub_dir / STATE_FILE).unlink()
    with Ledger.open(hub_dir, readonly=True) as led:
        assert led.state_note == "no saved state"
        assert [e.event_id for e in led.events()] == [e.event_id for e in events]
    with Ledger.open(lap_dir, clock=kit.clock(), actor="张三") as lap:
        mine = lap.events()
    with Ledger.open(hub_dir, clock=kit.clock(), actor="office") as hub:
        assert hub.state_note == "no saved state"  # replayed
        hub.checkpoint()  # a fold: saves the state
    with Ledger.open(hub_dir, clock=kit.clock(), actor="office") as hub:
        assert hub.state_note == ""
        first = mine[0]
        assert hub.event_hashes([first.event_id, "0" * 32]) == {first.event_id: first.hash}
        assert hub.import_events(mine).new == 0
        forged = {**first.to_doc(), "actor": "别人"}
        with pytest.raises(RefusedError):
            hub.import_events([forged])


def test_answers_and_documents_are_read_from_the_state_only_when_asked(tmp_path: Path) -> None:
    """The open parses no line of the state's last tables (findings' documents, sealed answers);
    each is found, checked and decoded when read, and equals the replay's."""
    hub_dir, _ = _city(tmp_path)
    with Ledger.open(hub_dir, readonly=True) as led:
        replay = Projection.build(led.events())
    with Ledger.open(hub_dir, readonly=True) as led:
        assert led.state_note == ""
        sealed = [i for i in led.projection.inspections.values() if i.sealed]
        assert len(sealed) >= 2
        loaders = [i._load_answers for i in sealed]  # noqa: SLF001
        assert all(isinstance(x, statefile._LazyAnswers) for x in loaders)  # noqa: SLF001
        tail = loaders[0].tail  # type: ignore[union-attr]
        assert tail._starts == {}  # noqa: SLF001 - not even indexed at open
        last = sealed[-1]
        assert last.answers == replay.inspections[last.id].answers
        assert set(tail._starts) == {"fdata", "answers"}  # noqa: SLF001
        assert not sealed[0].answers_loaded
        for insp in sealed:
            assert insp.answers == replay.inspections[insp.id].answers
        findings = list(led.projection.findings.values())
        assert findings and not any(f.data_loaded for f in findings)
        for f in reversed(findings):
            assert f.data == replay.findings[f.id].data
    with Ledger.open(hub_dir, readonly=True) as led:  # documents first: answers not looked for
        findings = list(led.projection.findings.values())
        for f in findings:
            assert f.data == replay.findings[f.id].data
        tail = findings[0]._load_data  # noqa: SLF001 - a decoded one keeps no loader
        assert tail is None
        insp = next(i for i in led.projection.inspections.values() if i.sealed)
        lazy = insp._load_answers  # noqa: SLF001
        assert isinstance(lazy, statefile._LazyAnswers)  # noqa: SLF001
        assert set(lazy.tail._starts) == {"fdata"}  # noqa: SLF001
        assert insp.answers == replay.inspections[insp.id].answers


def test_a_state_saved_from_one_never_read_keeps_its_rows_as_read(tmp_path: Path) -> None:
    """A writable ledger opened from a state and sealing again saves a new state without decoding
    the documents and answers it never read (they are written as they were read), and the new
    state gives the replay's projection, every field."""
    _, lap_dir = _city(tmp_path)
    before = (lap_dir / STATE_FILE).read_bytes()
    with Ledger.open(lap_dir, clock=kit.clock(), actor="张三") as lap:
        assert lap.state_note == ""
        old = list(lap.projection.findings.values())
        sealed = [i for i in lap.projection.inspections.values() if i.sealed]
        assert old and sealed
        for _ in range(3):  # enough events for a seal, which saves the state
            _inspect(lap, "S0000")
        assert not any(f.data_loaded for f in old)
        assert not any(i.answers_loaded for i in sealed)
    after = (lap_dir / STATE_FILE).read_bytes()
    assert after != before
    got, note = _opened(lap_dir, readonly=True)
    assert note == ""
    assert got == _replayed(lap_dir)


def test_the_state_is_used_only_for_the_events_it_names(tmp_path: Path) -> None:
    """A state saved before newer folds still serves (the newer events apply on top); one of
    other events (ledger.db rolled back to a backup's segments) is not used; the journal's events
    apply on top."""
    hub_dir, lap_dir = _city(tmp_path)
    old = (lap_dir / STATE_FILE).read_bytes()
    with Ledger.open(lap_dir, clock=kit.clock(), actor="张三") as lap:
        _inspect(lap, "S0000")  # a fold, not a seal: the state is not rewritten
        insp = lap.start_inspection(
            "S0005", method="明查", inspectors=["张三"], pack_id=PACK_ID, pack_version=PACK_VERSION
        )
        lap.record_answer(insp.id, "q1", "yes")  # in the journal
    got, note = _opened(lap_dir, readonly=True)
    assert got == _replayed(lap_dir)
    assert note == "" or "other events" in note
    other = tmp_path / "other"
    shutil.copytree(hub_dir, other)
    (other / STATE_FILE).write_bytes(old)  # the laptop's state in the hub's directory
    got, note = _opened(other, readonly=True)
    assert note == "saved state is of other events (older or newer)"
    assert got == _replayed(other)


@pytest.mark.parametrize(
    "damage", ["flip", "flip_fdata", "flip_answers", "truncate", "codec", "garbage"]
)
def test_a_damaged_state_is_not_used_and_a_writable_open_replaces_it(
    tmp_path: Path, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damage to the state (a flipped byte, a cut, another encoding, not a ledger file) makes the
    open replay, with the reason in ``state_note``; the next fold saves a good one again."""
    hub_dir, _ = _city(tmp_path)
    path = hub_dir / STATE_FILE
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    elif damage in ("flip_fdata", "flip_answers"):  # not parsed at open: the SHA-256 sees it
        data[data.index(b'{"t":"%s"' % damage[5:].encode()) + 40] ^= 0x01
    elif damage == "truncate":
        del data[len(data) * 2 // 3 :]
    elif damage == "garbage":
        data = bytearray(b"{}\n")
    path.write_bytes(bytes(data))
    if damage == "codec":
        monkeypatch.setattr(statefile, "CODEC", statefile.CODEC + 1)
    want = _replayed(hub_dir)
    got, note = _opened(hub_dir, readonly=True)
    assert got == want and note, note
    with Ledger.open(hub_dir, clock=kit.clock(), actor="office") as led:
        assert dump_projection(led.projection) == want  # replayed
        led.checkpoint()  # the first fold saves a good state again
    state, why = read_state(path, FileOps())
    assert state is not None, why
    assert _opened(hub_dir, readonly=True) == (want, "")


def test_a_damaged_segment_is_refused_even_with_a_good_state(tmp_path: Path) -> None:
    """The segments are not parsed at open, but each is checked against its SHA-256: one flipped
    byte in a sealed segment is refused as before, named by its file."""
    hub_dir, _ = _city(tmp_path)
    seg = sorted((hub_dir / SEGMENT_DIR).glob("*.db"))[1]
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0x01
    seg.write_bytes(bytes(data))
    with pytest.raises(LedgerDamaged) as err:
        Ledger.open(hub_dir, readonly=True)
    assert seg.name in str(err.value)
    seg.unlink()
    with pytest.raises(LedgerDamaged):
        Ledger.open(hub_dir, readonly=True)


def test_an_import_that_sorts_earlier_rebuilds_and_saves(tmp_path: Path) -> None:
    """Events sorting before the state's last one cannot be applied on top: the import rebuilds
    from every event (reading the sealed ones) and saves a new state, which the next open uses."""
    hub_dir, _ = _city(tmp_path)
    late = Ledger.open(tmp_path / "late", clock=kit.clock(), actor="李四")
    late.register_sites([kit.site(9)])  # lamport 1: sorts before most of the hub's events
    before = (hub_dir / STATE_FILE).read_bytes()
    with Ledger.open(hub_dir, clock=kit.clock(), actor="office") as hub:
        hub.import_events(late.events())
        assert "S0009" in hub.projection.sites
    late.close()
    assert (hub_dir / STATE_FILE).read_bytes() != before
    got, note = _opened(hub_dir, readonly=True)
    assert note == "" and got == _replayed(hub_dir)
    assert verify_data_dir(hub_dir).ok


def test_a_wrong_state_is_damage_to_verify(tmp_path: Path) -> None:
    """A state whose checksums are right but whose content is not the replay's (a bug) is a
    problem ``ledger verify`` names, with what to do."""
    hub_dir, _ = _city(tmp_path)
    path = hub_dir / STATE_FILE
    state, _ = read_state(path, FileOps())
    assert state is not None
    next(iter(state.projection.sites.values())).updated_at = "1999-01-01T00:00:00+08:00"
    statefile.write_state(path, state, FileOps())
    report = verify_data_dir(hub_dir)
    assert not report.ok
    assert report.problems[0].file == str(path) and "delete" in report.problems[0].message


@pytest.mark.parametrize("wrong", ["invalid site", "fewer records"])
def test_site_records_that_do_not_validate_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrong: str
) -> None:
    """Site records are validated from their JSON (pydantic), a line at a time: a record that does
    not validate, or a line with fewer records than states, makes the state unusable (the open
    replays), even with every checksum right."""
    hub_dir, _ = _city(tmp_path)
    path = hub_dir / STATE_FILE
    state, _ = read_state(path, FileOps())
    assert state is not None
    real = statefile._site_records  # noqa: SLF001

    def broken(sites: list[object]) -> object:
        for raw in real(sites):  # type: ignore[arg-type]
            if wrong == "invalid site":
                yield raw.replace(b'"id":"', b'"id":" ', 1)  # ids have no spaces
            else:
                yield b'{"s":%s}' % to_json(from_json(raw[5:-1])[1:])

    monkeypatch.setattr(statefile, "_site_records", broken)
    statefile.write_state(path, state, FileOps())
    got, why = read_state(path, FileOps())
    assert got is None and why.startswith("saved state does not decode: sites"), why
    want = _replayed(hub_dir)
    assert _opened(hub_dir, readonly=True) == (want, why)


def test_saving_fails_without_failing_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full while saving the state: the fold that preceded it stands, the call succeeds,
    and the state stays due (saved at the next chance)."""
    hub_dir, _ = _city(tmp_path)
    (hub_dir / STATE_FILE).unlink()

    def full(*args: object, **kw: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ledger_module, "write_state", full)
    with Ledger.open(hub_dir, clock=kit.clock(), actor="office") as hub:
        assert hub.state_note == "no saved state"  # an open itself saves nothing
        hub.register_sites([kit.site(7)])
        assert "could not save the state" in hub.state_note
        assert hub._state_due  # noqa: SLF001
    assert not (hub_dir / STATE_FILE).exists()
    monkeypatch.setattr(ledger_module, "write_state", statefile.write_state)
    with Ledger.open(hub_dir, clock=kit.clock(), actor="office") as hub:
        assert "S0007" in hub.projection.sites
        assert not (hub_dir / STATE_FILE).exists()
        hub.register_sites([kit.site(8)])  # the first fold saves it
    assert (hub_dir / STATE_FILE).exists()
    assert _opened(hub_dir, readonly=True) == (_replayed(hub_dir), "")


def test_sorted_ids() -> None:
    """Membership by binary search; bad ids refused when made, never found."""
    ids = [f"{i:032x}" for i in range(0, 3000, 7)]
    s = SortedIds.of(reversed(ids))
    assert len(s) == len(ids) and all(i in s for i in ids)
    assert f"{1:032x}" not in s and "X" * 32 not in s and "ab" not in s
    assert f"{14:032x}" in s and f"{14:032x}".upper() not in s
    u = s.union([f"{1:032x}", ids[0]])
    assert len(u) == len(ids) + 1 and f"{1:032x}" in u
    with pytest.raises(ValueError):
        SortedIds.of(["A" * 32])


def test_a_state_is_never_read_by_an_older_open_of_another_ledger(tmp_path: Path) -> None:
    """Two ledgers, one state: the basis (segment references, ledger.db's events) tells them
    apart even when their event counts agree."""
    a, b = tmp_path / "a", tmp_path / "b"
    for data in (a, b):
        with Ledger.open(data, clock=kit.clock(), actor="张三") as led:
            led.register_sites([kit.site(i) for i in range(6)])
    shutil.copy(a / STATE_FILE, b / STATE_FILE)
    got, note = _opened(b, readonly=True)
    assert "other events" in note and got == _replayed(b)


def test_segments_unchanged_since_the_save_are_not_hashed_again(tmp_path: Path) -> None:
    """A segment with the size and mtime the state recorded is not read at open; one touched
    (same bytes) is hashed and accepted; bit rot that keeps size and mtime is not seen by the
    open (which reads nothing of the segment) but is refused where the events are read, and by
    ``ledger verify``."""
    hub_dir, _ = _city(tmp_path)
    seg = sorted((hub_dir / SEGMENT_DIR).glob("*.db"))[0]
    st = seg.stat()
    later = st.st_mtime_ns + 10**9
    os.utime(seg, ns=(st.st_atime_ns, later))
    with Ledger.open(hub_dir, readonly=True) as led:
        assert led.state_note == ""
        assert led._seg_ok == {seg.name: (st.st_size, later)}  # noqa: SLF001 - hashed once
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0x01
    seg.write_bytes(bytes(data))
    os.utime(seg, ns=(st.st_atime_ns, st.st_mtime_ns))  # as the state saw it
    with Ledger.open(hub_dir, readonly=True) as led:
        assert led.state_note == ""
        with pytest.raises(LedgerDamaged):
            led.events()
    assert not verify_data_dir(hub_dir).ok


def test_an_import_sorting_after_the_saved_state_rebuilds_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A laptop that pulled after the state was saved sends events that sort before the hub's
    newest but after the state's last: the import rebuilds from the state (no sealed event
    read, the state not rewritten), equal to a replay; the next open uses that state."""
    hub_dir, _ = _city(tmp_path)
    monkeypatch.setattr(ledger_module, "SEAL_AT", 10_000)  # no seal (and save) from here
    late = Ledger.open(tmp_path / "late", clock=kit.clock(), actor="王六")
    with Ledger.open(hub_dir, clock=kit.clock(), actor="office") as hub:
        late.import_events(hub.events())  # the pull
    _inspect(late, "S0002")  # sorts after everything the hub had at the pull
    saved = (hub_dir / STATE_FILE).read_bytes()
    with Ledger.open(hub_dir, clock=kit.clock(), actor="office") as hub:
        assert hub.state_note == ""
        for n in (10, 11, 12, 13):  # the hub's own work meanwhile: sorts among the laptop's
            hub.register_sites([kit.site(n)])
        mine = [e for e in late.events() if e.device_id == late.device_id]
        assert hub._max_order is not None  # noqa: SLF001
        assert mine[0].order < hub._max_order  # noqa: SLF001 - out of order: not on top
        result = hub.import_events(mine)  # a laptop's bundle: its own events
        assert result.new == len(mine)
        assert hub._off > 0  # noqa: SLF001 - rebuilt from the state: no sealed event read
        got = dump_projection(hub.projection)
    late.close()
    assert (hub_dir / STATE_FILE).read_bytes() == saved
    assert got == _replayed(hub_dir)
    assert _opened(hub_dir, readonly=True) == (got, "")
