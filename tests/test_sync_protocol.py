"""Sync between a hub and laptops: enrollment, both directions, idempotency, evidence, conflicts.

The adversarial cases (tampered bundles) are in tests/reliability/test_sync_refusals.py; orders,
kills and concurrent importers in tests/reliability/test_sync_*.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from inspect_engine.errors import InputError, LedgerError
from inspect_engine.ledger import Ledger
from inspect_engine.rectification import Status
from inspect_engine.sync import keys
from inspect_engine.sync.conflicts import list_conflicts
from inspect_engine.sync.devices import enroll_laptop, init_hub, registry
from inspect_engine.sync.protocol import export_bundle, open_endpoint
from inspect_engine.sync.reasons import Reason, Refused
from inspect_engine.sync.state import load_state
from tests.reliability import kit
from tests.reliability.sync_kit import (
    World,
    digest,
    duplicates,
    events_of,
    inspect,
    make_world,
    state_digest,
    verifies,
)

A, B = "张三", "李四"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path / "w", [A, B])


# --------------------------------------------------------------------------- enrollment


def test_enrollment_records_key_and_inspector(world: World) -> None:
    """Each device has a 0600 Ed25519 key; the hub's registry holds its public key and inspector."""
    with Ledger.open(world.hub, readonly=True) as hub:
        devices = registry(hub, hub.device_id)
        assert hub.device_id is not None and devices[hub.device_id].role == "hub"
    for who, path in world.laptops.items():
        key_file = keys.key_path(path)
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        device = devices[world.device(who)]
        assert (device.role, device.inspector) == ("laptop", who)
        assert device.public_key == keys.load_key(path).public_hex
        assert load_state(path).hub is not None
        assert load_state(path).hub.device_id == hub.device_id  # type: ignore[union-attr]
    assert len(devices) == 3


def test_laptop_holds_registry_and_its_sites_after_enrolling(world: World) -> None:
    """Enrolling pulls the hub's events: the registry and the site assignments."""
    with Ledger.open(world.laptops[A], readonly=True) as lap:
        sites = lap.projection.sites
        assert len(sites) == 6
        assert {s.site.inspector for s in sites.values()} == {A, B}
        hub_state = load_state(world.laptops[A]).hub
        assert hub_state is not None
        assert set(registry(lap, hub_state.device_id)) == {world.device(), world.device(A)}


def test_enroll_is_idempotent_and_resumable(world: World) -> None:
    """Enrolling again with the same key changes nothing; a key made before a crash is reused."""
    before = digest(world.hub)
    with world.ledger() as hub, world.ledger(A) as lap:
        enroll_laptop(hub, lap, inspector=A)
    assert digest(world.hub) == before
    # A laptop whose key exists but which the hub never recorded (crash in between).
    world.laptops["王五"] = world.root / "laptop-3"
    with world.ledger("王五") as lap:
        keys.create_key(lap.data_dir)
        made = keys.load_key(lap.data_dir).public_hex
    with world.ledger() as hub, world.ledger("王五") as lap:
        device = enroll_laptop(hub, lap, inspector="王五")
    assert device.public_key == made


def test_enroll_with_another_key_is_refused(world: World) -> None:
    """A device the hub knows cannot come back with a different key."""
    os.remove(keys.key_path(world.laptops[A]))
    with (
        world.ledger() as hub,
        world.ledger(A) as lap,
        pytest.raises(InputError, match="another key"),
    ):
        enroll_laptop(hub, lap, inspector=A)


def test_key_never_overwritten_and_must_be_private(tmp_path: Path) -> None:
    """A second key is refused; a key readable by others is refused like ssh does."""
    keys.create_key(tmp_path)
    with pytest.raises(LedgerError, match="already"):
        keys.create_key(tmp_path)
    os.chmod(keys.key_path(tmp_path), 0o644)
    with pytest.raises(LedgerError, match="too open"):
        keys.load_key(tmp_path)


def test_laptop_cannot_become_hub_nor_enroll_without_one(world: World, tmp_path: Path) -> None:
    """Roles are fixed: a laptop is not a hub; enrolling needs an initialised hub."""
    with world.ledger(A) as lap, pytest.raises(InputError, match="cannot become a hub"):
        init_hub(lap, office="x")
    with (
        Ledger.open(tmp_path / "nohub", clock=kit.clock()) as nohub,
        world.ledger(B) as lap,
        pytest.raises(InputError, match="not a hub"),
    ):
        enroll_laptop(nohub, lap, inspector=B)


def test_unenrolled_ledger_cannot_export(tmp_path: Path) -> None:
    """Export needs enrollment."""
    Ledger.open(tmp_path / "x", clock=kit.clock()).close()
    with open_endpoint(tmp_path / "x") as ep, pytest.raises(InputError, match="not enrolled"):
        export_bundle(ep)


def test_unknown_device_is_refused(world: World, tmp_path: Path) -> None:
    """A laptop enrolled with another hub is unknown here: its bundle is refused."""
    other = make_world(tmp_path / "other", ["赵六"])
    inspect(other, "赵六", "S0001")
    data = other.export("赵六")
    before = digest(world.hub)
    with pytest.raises(Refused) as caught:
        world.import_(data)
    assert caught.value.reason is Reason.UNKNOWN_DEVICE
    assert digest(world.hub) == before


# --------------------------------------------------------------------------- both directions


def test_laptop_to_hub_and_hub_to_other_laptop(world: World) -> None:
    """Inspections, answers and findings go up; the hub passes them to the other laptop."""
    fids = inspect(world, A, "S0001", findings=2)
    with world.ledger(A) as lap:
        lap.start_rectification(fids[0], note="已安排")
    up = world.import_(world.export(A))
    assert (up.events, up.new, up.already_present) == (5, 5, 0)
    down = world.import_(world.export(to=B), B)
    assert down.new == 5
    with Ledger.open(world.laptops[B], readonly=True) as lap:
        f = lap.projection.findings[fids[0]]
        assert f.status == Status.IN_RECTIFICATION
        assert lap.projection.inspections[f.inspection_id].answers["BS.PLAN.01"].note == "现场核实"
    assert state_digest(world.laptops[B]) == state_digest(world.hub)


def test_hub_changes_reach_laptop(world: World) -> None:
    """Site assignments and verification done at the office reach the inspector's laptop."""
    fid = inspect(world, A, "S0001")[0]
    with world.ledger(A) as lap:
        lap.report_rectified(fid, note="已拆除")
    world.import_(world.export(A))
    with world.ledger() as hub:
        hub.register_sites([kit.site(99).model_copy(update={"inspector": A})])
        hub.close_finding(fid, verifier="督导组王工")
    pulled = world.import_(world.export(to=A), A)
    assert pulled.new == 3  # B's enrollment (after A's), the new site, the closing
    with Ledger.open(world.laptops[A], readonly=True) as lap:
        assert lap.projection.findings[fid].status == Status.CLOSED
        assert "S0099" in lap.projection.sites


def test_same_bundle_twice_is_a_no_op(world: World) -> None:
    """The second import of a bundle adds nothing: 0 new, N already present, same digest."""
    inspect(world, A, "S0001")
    data = world.export(A)
    first = world.import_(data)
    d1 = digest(world.hub)
    second = world.import_(data)
    assert (first.new, first.already_present) == (4, 0)
    assert (second.new, second.already_present) == (0, 4)
    assert digest(world.hub) == d1 and duplicates(world.hub) == 0 and verifies(world.hub)


def test_export_sends_only_what_the_peer_lacks(world: World) -> None:
    """After an exchange, the next export starts where the peer said it was."""
    inspect(world, A, "S0001")
    world.import_(world.export(A))
    world.import_(world.export(to=A), A)  # carries the hub's acknowledgement of A's chain
    inspect(world, A, "S0003")
    up = world.import_(world.export(A))
    assert (up.events, up.new, up.already_present) == (4, 4, 0)


def test_direct_run_pushes_and_pulls(world: World) -> None:
    """`sync run` moves both ways and a second run moves nothing new."""
    inspect(world, A, "S0001")
    inspect(world, B, "S0002")
    world.run(A)
    push, pull = world.run(B)
    assert push.new == 4 and pull.new == 4
    push, pull = world.run(A)
    assert (push.new, pull.new) == (0, 4)
    push, pull = world.run(A)
    assert (push.events, push.new, pull.new) == (0, 0, 0)
    hub_ids = {e.event_id for e in events_of(world.hub)}
    for path in world.laptops.values():
        assert state_digest(path) == state_digest(world.hub)
        assert {e.event_id for e in events_of(path)} == hub_ids
        assert digest(path) == digest(world.hub)


def test_evidence_travels_by_hash(world: World) -> None:
    """An evidence file recorded on a laptop arrives in the hub's store, named by its hash."""
    photo = b"\xff\xd8\xff\xe0 JPEG of the cracked wall"
    with world.ledger(A) as lap:
        insp = lap.start_inspection(
            "S0001", pack_id="building-safety", pack_version="1.0.0", method="open",
            inspectors=[A],
        )  # fmt: skip
        ev = lap.add_evidence(photo, name="crack.jpg")
        lap.record_answer(insp.id, "BS.LAND.01", "no", evidence=[ev])
    summary = world.import_(world.export(A))
    assert summary.evidence == 1
    with Ledger.open(world.hub, readonly=True) as hub:
        assert hub.evidence_path(ev.sha256).read_bytes() == photo


# --------------------------------------------------------------------------- conflicts


def _shared_finding(world: World) -> str:
    """A finding raised on A, reported rectified, and known to B (through the hub)."""
    fid = inspect(world, A, "S0001")[0]
    with world.ledger(A) as lap:
        lap.start_rectification(fid)
    world.run(A)
    world.run(B)
    return fid


def test_both_report_rectification(world: World) -> None:
    """Both devices report the same rectification: both kept, the first stands, listed."""
    fid = _shared_finding(world)
    for who in (A, B):
        with world.ledger(who) as lap:
            lap.report_rectified(fid, note=f"{who}报告")
    world.run(A)
    world.run(B)
    world.run(A)
    conflicts = {}
    for path in (world.hub, world.laptops[A], world.laptops[B]):
        with Ledger.open(path, readonly=True) as led:
            found = list_conflicts(led)
            assert len(found) == 1
            conflicts[path] = found[0]
            assert led.projection.findings[fid].status == Status.REPORTED
    c = conflicts[world.hub]
    assert c.entity_id == fid and c.in_force == "已整改待复查"
    assert {c.winner.actor, *(x.actor for x in c.losers)} == {A, B}
    assert not [x for x in c.losers if x.applied]
    assert len({(x.winner.event_id, x.losers) for x in conflicts.values()}) == 1, "same winner"


@pytest.mark.parametrize("first", ["close", "reopen"])
def test_close_and_reopen_concurrently(world: World, first: str) -> None:
    """One closes, one reopens: both kept; every replica ends in 整改中, conflict listed.

    Run with each of the two first in the total order: the device that should come second does
    unrelated work first, which advances its Lamport clock.
    """
    fid = _shared_finding(world)
    with world.ledger(A) as lap:
        lap.report_rectified(fid)
    world.run(A)
    world.run(B)
    closer, reopener = A, B
    inspect(world, reopener if first == "close" else closer, "S0005")
    with world.ledger(closer) as led:
        close = led.close_finding(fid, verifier="王工").history[-1].event_id
    with world.ledger(reopener) as led:
        reopen = led.reopen_finding(fid, reason="复查不合格").history[-1].event_id
    for who in (A, B, A):
        world.run(who)
    wins = set()
    for path in (world.hub, *world.laptops.values()):
        with Ledger.open(path, readonly=True) as led:
            order = [e.event_id for e in sorted(led.events(), key=lambda e: e.order)]
            assert (order.index(close) < order.index(reopen)) == (first == "close")
            assert led.projection.findings[fid].status == Status.IN_RECTIFICATION
            (c,) = list_conflicts(led)
            wins.add(c.winner.event_id)
            assert c.in_force == "整改中"
            assert {c.winner.event_id, *(x.event_id for x in c.losers)} == {close, reopen}
    assert wins == {reopen}, "the reopen is in force whichever came first"
    assert len({digest(p) for p in (world.hub, *world.laptops.values())}) == 1


def test_sequential_changes_are_not_conflicts(world: World) -> None:
    """A reopen made after seeing the close is ordinary history, not a conflict."""
    fid = _shared_finding(world)
    with world.ledger(A) as lap:
        lap.report_rectified(fid)
        lap.close_finding(fid, verifier="王工")
    world.run(A)
    world.run(B)
    with world.ledger(B) as lap:
        lap.reopen_finding(fid, reason="发现仍未整改")
    world.run(B)
    with Ledger.open(world.hub, readonly=True) as hub:
        assert list_conflicts(hub) == []
        assert hub.projection.findings[fid].status == Status.IN_RECTIFICATION
