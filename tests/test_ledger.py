"""The ledger API the app uses: sites, inspections, answers, evidence, submit, resume, queries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from inspect_engine.errors import InputError, LedgerError
from inspect_engine.events import METHOD_LABELS
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir
from inspect_engine.rectification import FiveImplementations, Status
from inspect_engine.storage import LedgerLocked
from tests.reliability import kit

PACK_ID, PACK_VERSION = "building-safety", "1.0.0"


@pytest.fixture
def led(tmp_path: Path) -> Ledger:
    """A writable ledger with five sites, on a fixed clock."""
    ledger = Ledger.open(tmp_path / "data", clock=kit.clock(), actor="张三")
    ledger.register_sites([kit.site(i) for i in range(5)])
    return ledger


def _start(led: Ledger, site: str = "S0001") -> str:
    return led.start_inspection(
        site, method="明查", inspectors=["张三"], pack_id=PACK_ID, pack_version=PACK_VERSION
    ).id


def test_identity_is_made_once(tmp_path: Path) -> None:
    """The device id is made at first open and kept."""
    with Ledger.open(tmp_path, clock=kit.clock()) as a:
        first = a.device_id
    with Ledger.open(tmp_path, clock=kit.clock()) as b:
        assert b.device_id == first and first is not None and len(first) == 32


def test_register_sites_adds_updates_and_skips(led: Ledger) -> None:
    """Re-importing the same list changes nothing; a changed site becomes an update."""
    before = len(led.events())
    again = led.register_sites([kit.site(i) for i in range(5)])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert len(led.events()) == before
    changed = led.register_sites([kit.site(1, county=3), kit.site(9)])
    assert (changed.added, changed.updated) == (1, 1)
    assert led.site("S0001").site.county == "城区"
    with pytest.raises(InputError, match="duplicate"):
        led.register_sites([kit.site(7), kit.site(7)])


def test_inspection_round(led: Ledger) -> None:
    """Start, answer, note, evidence, clear; submit seals it and records findings."""
    insp = _start(led)
    led.record_answer(insp, "q1", "yes")
    led.record_answer(insp, "q2", 3.5, note="实测")
    led.record_note(insp, "q1", "看过")
    ev = led.add_evidence(b"jpeg bytes", name="/sd/DCIM/IMG_1.jpg")
    assert ev.name == "IMG_1.jpg"
    led.attach_evidence(insp, "q1", ev)
    led.record_answer(insp, "q3", ["a", "b"])
    led.record_answer(insp, "q3", None)
    state = led.inspection(insp)
    assert state.values() == {"q1": "yes", "q2": 3.5}
    assert state.answers["q1"].note == "看过"
    assert [e.sha256 for e in state.answers["q1"].evidence] == [ev.sha256]
    assert state.current_item == "q3"
    assert state.method == "open" and METHOD_LABELS[state.method] == "明查"
    found = led.submit_inspection(insp, [kit.finding("R1"), kit.finding("R2", hazard=False)])
    assert [f.status for f in found] == [Status.OPEN, None]
    assert led.inspection(insp).sealed
    with pytest.raises(InputError, match="sealed|已提交"):
        led.record_answer(insp, "q1", "no")
    with pytest.raises(InputError):
        led.submit_inspection(insp, [])


def test_method_names_and_bad_input(led: Ledger) -> None:
    """Chinese method names are accepted; unknown ones and unknown sites are refused."""
    for name, code in [("暗访", "unannounced"), ("突击", "surprise"), ("random", "random")]:
        insp = led.start_inspection(
            "S0002", method=name, inspectors=["a"], pack_id=PACK_ID, pack_version=PACK_VERSION
        )
        assert insp.method == code
    with pytest.raises(InputError, match="method"):
        led.start_inspection(
            "S0002", method="路过", inspectors=["a"], pack_id=PACK_ID, pack_version=PACK_VERSION
        )
    with pytest.raises(InputError, match="unknown site"):
        _start(led, "S9999")
    with pytest.raises(InputError):
        led.start_inspection(
            "S0002", method="明查", inspectors=[], pack_id=PACK_ID, pack_version=PACK_VERSION
        )


def test_findings_must_match_the_pack(led: Ledger) -> None:
    """A finding judged under another pack version is refused at submit."""
    insp = _start(led)
    with pytest.raises(InputError, match="2.0"):
        led.submit_inspection(insp, [kit.finding(pack=("building-safety", "2.0.0"))])


def test_evidence_by_hash_only(led: Ledger, tmp_path: Path) -> None:
    """Evidence is stored by content hash inside the data directory; paths never leak."""
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 photo")
    ev = led.add_evidence(photo)
    path = led.evidence_path(ev.sha256)
    assert path.is_relative_to(led.data_dir) and path.read_bytes() == photo.read_bytes()
    assert led.add_evidence(photo) == ev  # stored once
    for bad in ("../../etc/passwd", "A" * 64, "ab"):
        with pytest.raises(InputError):
            led.evidence_path(bad)
    insp = _start(led)
    with pytest.raises(InputError, match="no evidence"):
        led.record_answer(insp, "q1", "yes", evidence=["0" * 64])
    with pytest.raises(InputError, match="not an evidence hash"):
        led.record_answer(insp, "q1", "yes", evidence=["../x"])


def test_answers_do_not_rewrite_the_ledger_file(led: Ledger) -> None:
    """Answers go to the journal; ledger.db changes only on submit, which empties the journal."""
    insp = _start(led)
    main = led.data_dir / "ledger.db"
    before = main.read_bytes()
    for i in range(20):
        led.record_answer(insp, f"q{i}", "yes")
    assert main.read_bytes() == before
    assert led.info().journal_events == 21
    led.submit_inspection(insp, [])
    info = led.info()
    assert info.journal_events == 0 and info.events == len(led.events())


def test_resume_after_the_process_dies(tmp_path: Path) -> None:
    """An open inspection comes back with its answers and the item answered last."""
    a = Ledger.open(tmp_path, clock=kit.clock(), actor="张三")
    a.register_sites([kit.site(1)])
    insp = _start(a)
    for item in ("q1", "q2", "q7"):
        a.record_answer(insp, item, "no")
    del a  # no close: the lock file descriptor goes with the object, as with a dead process
    with Ledger.open(tmp_path, clock=kit.clock()) as b:
        (back,) = b.open_inspections()
        assert back.id == insp and back.current_item == "q7"
        assert back.values() == {"q1": "no", "q2": "no", "q7": "no"}


def test_cancel(led: Ledger) -> None:
    """A cancelled inspection is sealed and no longer open."""
    insp = _start(led)
    led.cancel_inspection(insp, "场所关闭，无法进入")
    assert led.open_inspections() == []
    with pytest.raises(InputError):
        led.record_answer(insp, "q1", "yes")


def test_one_writer_many_readers(tmp_path: Path) -> None:
    """A second writer is refused naming the holder; readers need no lock and see changes."""
    w = Ledger.open(tmp_path, clock=kit.clock())
    w.register_sites([kit.site(1)])
    with pytest.raises(LedgerLocked, match="in use by another inspect-engine process"):
        Ledger.open(tmp_path)
    r = Ledger.open(tmp_path, readonly=True, clock=kit.clock())
    assert len(r.sites()) == 1
    w.register_sites([kit.site(2)])
    assert len(r.sites()) == 2
    with pytest.raises(LedgerError, match="read-only"):
        r.register_sites([kit.site(3)])
    w.close()
    Ledger.open(tmp_path).close()


def test_read_only_on_an_empty_directory(tmp_path: Path) -> None:
    """Nothing is created; the ledger is empty."""
    with Ledger.open(tmp_path / "none", readonly=True) as r:
        assert not r.exists and r.sites() == [] and r.events() == []
    assert not (tmp_path / "none").exists()


def test_journal_without_ledger_is_refused(tmp_path: Path) -> None:
    """A journal whose ledger vanished is not silently replaced by a new ledger."""
    with Ledger.open(tmp_path, clock=kit.clock()) as led:
        led.register_sites([kit.site(1)])
        led.record_answer(_start(led), "q1", "yes")
    (tmp_path / "ledger.db").unlink()
    with pytest.raises(LedgerError, match="missing"):
        Ledger.open(tmp_path)
    assert not (tmp_path / "ledger.db").exists()


def test_interrupted_fold_is_finished_on_open(led: Ledger) -> None:
    """Ledger written, journal not yet emptied: reopening finishes the fold, nothing doubles."""
    insp = _start(led)
    led.record_answer(insp, "q1", "yes")
    journal = (led.data_dir / "journal.db").read_bytes()
    led.submit_inspection(insp, [])
    count = len(led.events())
    led.close()
    (led.data_dir / "journal.db").write_bytes(journal)  # as if killed between the two writes
    with Ledger.open(led.data_dir, clock=kit.clock()) as again:
        assert len(again.events()) == count
        assert again.info().journal_events == 0
    assert verify_data_dir(led.data_dir).ok


def test_queries(led: Ledger) -> None:
    """Open findings by county and level, overdue first; counts as of a cut-off."""
    plan = FiveImplementations(
        responsible_person="王五",
        measures="加固",
        funds=2.0,
        deadline=dt.date(2020, 9, 30),
        contingency_plan="撤人",
    )
    a = _start(led, "S0001")  # 盂县
    fa = led.submit_inspection(
        a, [kit.finding("R1", deadline=dt.date(2020, 9, 5)), kit.finding("R2", level="重大")]
    )
    led.clock.advance(days=1)  # type: ignore[attr-defined]
    b = _start(led, "S0002")  # 郊区
    fb = led.submit_inspection(b, [kit.finding("R3", deadline=dt.date(2020, 9, 20))])
    led.set_plan(fa[1].id, plan)
    led.start_rectification(fa[1].id)
    led.report_rectified(fb[0].id, note="立行立改")
    led.close_finding(fb[0].id, verifier="复查组")
    cutoff = led.clock.now()
    led.clock.advance(days=9)  # type: ignore[attr-defined]  # 2020-09-11: R1 is overdue
    rows = led.open_findings()
    assert [r.rule_id for r in rows] == ["R1", "R2"]
    assert (
        rows[0].overdue and rows[0].days_overdue == 6 and rows[0].status_label == "待整改（逾期）"
    )
    assert rows[1].deadline == dt.date(2020, 9, 30)  # the 五落实 deadline
    assert [r.rule_id for r in led.open_findings(county="郊区")] == []
    assert [r.rule_id for r in led.open_findings(level="重大")] == ["R2"]
    assert [r.rule_id for r in led.open_findings(due_by=dt.date(2020, 9, 10))] == ["R1"]
    counts = led.status_counts()
    assert counts.labelled() == {"待整改": 1, "整改中": 1, "已整改待复查": 0, "销号": 1, "逾期": 1}
    assert counts.by_county["盂县"]["overdue"] == 1
    then = led.status_counts(as_of=cutoff - dt.timedelta(days=1))
    assert then.labelled()["待整改"] == 2 and then.labelled()["销号"] == 0
    assert led.status_counts(as_of=cutoff).labelled()["销号"] == 1


def test_site_listing_and_record(led: Ledger) -> None:
    """Filters by county, township, type, status, inspector and text; the site's file."""
    insp = _start(led, "S0001")
    led.submit_inspection(insp, [kit.finding("R1", deadline=dt.date(2020, 8, 1))])
    _start(led, "S0002")
    by_status = {r.site.id: r.status for r in led.sites()}
    assert by_status == {
        "S0000": "not_inspected",
        "S0001": "overdue",
        "S0002": "in_progress",
        "S0003": "not_inspected",
        "S0004": "not_inspected",
    }
    assert [r.site.id for r in led.sites(status="open_findings")] == ["S0001"]
    assert [r.site.id for r in led.sites(county="平定县")] == ["S0000"]
    assert [r.site.id for r in led.sites(search="第3号")] == ["S0003"]
    assert {r.site.id for r in led.sites(inspector="张三")} == {"S0001", "S0003"}
    assert led.sites(site_type="river_section") == []
    record = led.site("S0001")
    assert len(record.inspections) == 1 and len(record.open_findings) == 1
    with pytest.raises(InputError):
        led.site("nope")


def test_enforcement_orders(led: Ledger) -> None:
    """Ordered with a date; lifted after a submitted re-inspection of the same site."""
    insp = _start(led, "S0001")
    (f,) = led.submit_inspection(insp, [kit.finding("R1", level="重大")])
    order = led.order_enforcement(
        "S0001", "stop_use", ordered_on=dt.date(2020, 9, 1), finding_id=f.id, issued_by="住建局"
    )
    assert order.in_force
    again = _start(led, "S0001")
    with pytest.raises(InputError, match="re-inspection not submitted"):
        led.lift_enforcement(
            order.id, lifted_on=dt.date(2020, 9, 20), basis="复查合格", reinspection_id=again
        )
    led.submit_inspection(again, [])
    elsewhere = _start(led, "S0002")
    led.submit_inspection(elsewhere, [])
    with pytest.raises(InputError, match="another site"):
        led.lift_enforcement(
            order.id, lifted_on=dt.date(2020, 9, 20), basis="复查合格", reinspection_id=elsewhere
        )
    with pytest.raises(InputError, match="before"):
        led.lift_enforcement(order.id, lifted_on=dt.date(2020, 8, 1), basis="复查合格")
    lifted = led.lift_enforcement(
        order.id, lifted_on=dt.date(2020, 9, 20), basis="复查合格", reinspection_id=again
    )
    assert not lifted.in_force and lifted.reinspection_id == again
    with pytest.raises(InputError, match="already lifted|已于"):
        led.lift_enforcement(order.id, lifted_on=dt.date(2020, 9, 21), basis="x")


def test_backup_is_complete_and_never_overwrites(led: Ledger, tmp_path: Path) -> None:
    """A backup holds every event (journal included) and restores by copying it in."""
    insp = _start(led)
    led.record_answer(insp, "q1", "yes")
    dest = led.backup()
    assert dest.parent == led.data_dir / "backups"
    with pytest.raises(InputError, match="never overwrites"):
        led.backup(dest)
    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "ledger.db").write_bytes(dest.read_bytes())
    with Ledger.open(restored, clock=kit.clock()) as r:
        assert [e.event_id for e in r.events()] == [e.event_id for e in led.events()]
        assert r.device_id == led.device_id
        assert r.open_inspections()[0].values() == {"q1": "yes"}


def test_batch_is_all_or_nothing(led: Ledger) -> None:
    """An error inside a batch leaves the ledger as it was."""
    before = [e.event_id for e in led.events()]
    with pytest.raises(InputError):
        with led.batch():
            led.register_sites([kit.site(40)])
            _start(led, "S9999")
    assert [e.event_id for e in led.events()] == before
    assert "S0040" not in led.projection.sites


def test_closed_ledger_refuses_calls(tmp_path: Path) -> None:
    """Using a closed ledger is an error, not a silent write."""
    led = Ledger.open(tmp_path, clock=kit.clock())
    led.close()
    with pytest.raises(LedgerError, match="closed"):
        led.register_sites([kit.site(1)])
