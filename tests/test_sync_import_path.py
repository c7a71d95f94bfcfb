"""The sync import path never reads the whole event log, and says exactly what it said before.

On a city ledger the sealed events stay on disk until something needs them all
(:meth:`Ledger.events`, :meth:`Ledger.events_since`, :meth:`Ledger.projection_as_of` read every
one: seconds). A hub imports a laptop's bundle with the projection, the heads and the hashes of
the bundle's own ids; a laptop imports the hub's the same way. These tests make those three
methods fail on the import path, and compare the conflict listing and the registry, which no
longer read every event, with what reading every event gives.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inspect_engine.events import Event, make_event, new_id
from inspect_engine.ledger import Ledger
from inspect_engine.sync.conflicts import (
    _READ,
    Conflict,
    finding_conflicts,
    list_conflicts,
    site_conflicts,
)
from inspect_engine.sync.devices import Device, registry
from inspect_engine.sync.protocol import export_bundle, import_bundle, open_endpoint
from tests.reliability import kit
from tests.reliability.sync_kit import World, inspect, make_world

A, B = "张三", "李四"

LOG_READS = ("events", "events_since", "projection_as_of")
"""The ledger methods that read every sealed event."""


# --------------------------------------------------------------------------- as the full log says


def _full_log_conflicts(led: Ledger) -> list[Conflict]:
    """The conflicts as listed before the import path stopped reading the log: every event."""
    events = sorted((e for e in led.events() if e.kind in _READ), key=lambda e: e.order)
    return finding_conflicts(events, led.projection) + site_conflicts(events, led.projection)


def _full_log_registry(led: Ledger, hub_id: str | None) -> dict[str, Device]:
    """The registry as read before: the hub's ``device.enrolled`` events, in the event order."""
    from inspect_engine.events import DeviceEnrolled

    out: dict[str, Device] = {}
    for e in sorted(led.events(), key=lambda e: e.order):
        if hub_id is None or e.kind != "device.enrolled" or e.device_id != hub_id:
            continue
        p = DeviceEnrolled.model_validate(e.payload)
        if p.device_id not in out:
            out[p.device_id] = Device(
                p.device_id, p.role, p.inspector, p.public_key, e.event_id, e.time
            )
    return out


def _conflict_count(path: Path) -> int:
    with Ledger.open(path, readonly=True) as led:
        return len(_full_log_conflicts(led))


# --------------------------------------------------------------------------- a hub with history


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Two laptops and their hub with a past: findings in rectification, a rectification reported
    on both laptops (one not applied), a site renamed at the office and on a laptop at once.
    Then B reports a second finding and syncs, while A (not synced since) reports it too and
    inspects another site: A's next bundle brings a new conflict and new work."""
    world = make_world(tmp_path_factory.mktemp("history") / "w", [A, B])
    f1, f2 = inspect(world, A, "S0001", findings=2)
    with world.ledger(A) as lap:
        lap.start_rectification(f1)
        lap.start_rectification(f2)
    world.run(A)
    world.run(B)
    for who in (A, B):
        with world.ledger(who) as lap:
            lap.report_rectified(f1, note=f"{who}报告")
    with world.ledger(B) as lap:
        site = lap.projection.sites["S0002"].site
        lap.register_sites([site.model_copy(update={"name": "二号楼（李四改）"})])
    with world.ledger() as hub:
        hub.register_sites([site.model_copy(update={"name": "二号楼（办公室改）"})])
    for who in (A, B, A, B):
        world.run(who)
    with world.ledger(B) as lap:
        lap.report_rectified(f2, note="李四报告")
    world.run(B)
    with world.ledger(A) as lap:
        lap.report_rectified(f2, note="张三报告")
    inspect(world, A, "S0003", findings=2)
    return world


def _copy(world: World, root: Path) -> World:
    shutil.rmtree(root, ignore_errors=True)
    return world.copy(root)


@contextlib.contextmanager
def no_log_reads() -> Iterator[list[str]]:
    """Within: the log-reading methods fail. Yields the calls seen, ``method from
    file:function``; on leaving, asserts there were none (in case a caller swallowed the
    error)."""
    calls: list[str] = []

    def guarded(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: Ledger, *args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1).f_code
            where = f"{Path(caller.co_filename).name}:{caller.co_name}"
            calls.append(f"{name} from {where}")
            raise AssertionError(f"Ledger.{name} called on the sync import path ({where})")

        return method

    with pytest.MonkeyPatch.context() as mp:
        for name in LOG_READS:
            mp.setattr(Ledger, name, guarded(name, getattr(Ledger, name)))
        yield calls
    assert not calls, calls


def test_hub_import_reads_no_event_log(history: World, tmp_path: Path) -> None:
    """Opening the hub and importing a laptop's bundle (signer, checks, write, checkpoint, the
    summary's conflict counts) never calls Ledger.events/events_since/projection_as_of."""
    world = _copy(history, tmp_path / "w")
    data = world.export(A)
    before = _conflict_count(world.hub)
    with no_log_reads():
        summary = world.import_(data)
    after = _conflict_count(world.hub)
    assert summary.new > 0 and summary.already_present == 0
    assert (summary.conflicts, summary.conflicts_total) == (max(0, after - before), after)
    assert summary.conflicts == 1, "A's report of the finding B reported first"


def test_laptop_pull_reads_no_event_log(history: World, tmp_path: Path) -> None:
    """A laptop importing the hub's bundle (the pull of ``sync run``) reads no event log either;
    the hub's export reads only the chains the laptop lacks."""
    world = _copy(history, tmp_path / "w")
    world.import_(world.export(A))
    read: list[str] = []
    with open_endpoint(world.hub, clock=world.clock()) as hub:
        original = Ledger.events_since

        def events_since(self: Ledger, device_id: str, seq: int) -> list[Event]:
            read.append(device_id)
            return original(self, device_id, seq)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(Ledger, "events_since", events_since)
            data, sent = export_bundle(hub, recipient=world.device(B))
    assert read == list(sent.chains) == [world.device(A)], "only A has events B lacks"
    before = _conflict_count(world.laptops[B])
    with no_log_reads(), open_endpoint(world.laptops[B], clock=world.clock()) as lap:
        summary = import_bundle(lap, data)
    after = _conflict_count(world.laptops[B])
    assert summary.new == sent.events > 0
    assert (summary.conflicts, summary.conflicts_total) == (max(0, after - before), after)


def test_reimport_reads_no_event_log(history: World, tmp_path: Path) -> None:
    """A bundle imported twice (the second time every event is present: the ids are asked of
    the ledger, not looked up in the log) reads no log and adds nothing."""
    world = _copy(history, tmp_path / "w")
    data = world.export(A)
    world.import_(data)
    with no_log_reads():
        again = world.import_(data)
    assert (again.new, again.already_present, again.conflicts) == (0, again.events, 0)


# --------------------------------------------------------------------------- same answers


def test_conflicts_and_registry_are_those_of_the_full_log(history: World, tmp_path: Path) -> None:
    """On every replica, the listing from the projection equals the listing from every event."""
    world = _copy(history, tmp_path / "w")
    world.import_(world.export(A))
    for who in (A, B):
        world.run(who)
    for path in (world.hub, *world.laptops.values()):
        with Ledger.open(path, readonly=True) as led:
            listed = list_conflicts(led)
            assert listed == _full_log_conflicts(led)
            assert {c.entity for c in listed} == {"finding", "site"}
            hub_id = world.device()
            assert registry(led, hub_id) == _full_log_registry(led, hub_id)
            assert len(registry(led, hub_id)) == 3


def test_conflicts_of_odd_bases_are_those_of_the_full_log(tmp_path: Path) -> None:
    """Moves no program of ours writes (no base; a base naming a site record, an answer or
    another finding's step; moves of unknown findings) are listed as reading every event
    lists them: the findings left unread are exactly those that cannot be in conflict."""
    clock = kit.clock()
    with Ledger.open(tmp_path / "d", clock=clock, actor="办公室") as led:
        led.register_sites([kit.site(1), kit.site(2)])
        insp = led.start_inspection(
            "S0001", pack_id="building-safety", pack_version="1.0.0", method="open",
            inspectors=["办公室"],
        )  # fmt: skip
        answer = led.record_answer(insp.id, "BS.LAND.01", "no")
        f1, f2, f3, f4 = (
            s.id for s in led.submit_inspection(insp.id, [kit.finding(f"R{n}") for n in range(4)])
        )
        led.start_rectification(f3)
        led.start_rectification(f4)
        site_event = led.projection.sites["S0002"].version
        raised = led.projection.findings[f1].history[0].event_id
        f3_start = led.projection.findings[f3].history[-1].event_id
        f4_start = led.projection.findings[f4].history[-1].event_id
        lamport = max(h.lamport for h in led.heads().values())
        other = new_id()
        moves: list[tuple[str, dict[str, Any]]] = [
            ("finding.rectification_started", {"finding_id": f1}),  # no base: older events
            ("finding.rectification_reported", {"finding_id": f1, "base": site_event}),
            ("finding.closed", {"finding_id": f2, "verifier": "王工", "base": raised}),  # refused
            ("finding.plan_set", {"finding_id": f2, "plan": _plan(), "base": answer.event_id}),
            ("finding.rectification_reported", {"finding_id": f3, "base": raised}),
            ("finding.reopened", {"finding_id": new_id(), "reason": "无此隐患"}),  # unknown
            ("finding.reopened", {"finding_id": f2, "reason": "复查", "base": f3_start}),  # refused
            ("finding.plan_set", {"finding_id": f1, "plan": _plan(), "base": f4_start}),
        ]
        chain: list[Event] = []
        for i, (kind, payload) in enumerate(moves, start=1):
            chain.append(
                make_event(
                    device_id=other,
                    seq=i,
                    lamport=lamport + i,
                    time=dt.datetime(2020, 9, 2, 9, i, tzinfo=kit.T0.tzinfo),
                    actor="外来",
                    kind=kind,
                    payload=payload,
                    prev=chain[-1].hash if chain else None,
                )  # fmt: skip
            )
        led.import_events(chain)
        assert len(led.projection.rejected) == 3
        listed = list_conflicts(led)
        assert listed == _full_log_conflicts(led)
        assert sorted(c.entity_id for c in listed) == sorted([f1, f2, f2, f3])


def _plan() -> dict[str, Any]:
    return {
        "responsible_person": "业主",
        "measures": "加固",
        "funds": 2.5,
        "deadline": "2020-10-01",
        "contingency_plan": "疏散",
    }
