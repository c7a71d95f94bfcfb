"""Events, chains and the primitives sync builds on: export since a seq, idempotent import,
refusals, and a projection that is the same whatever order the events arrive in."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_engine.errors import RefusedError
from inspect_engine.events import (
    Event,
    Head,
    document_problem,
    event_hash,
    link_problem,
    make_event,
)
from inspect_engine.ledger import Ledger
from inspect_engine.projection import Projection
from tests.reliability import kit

VECTOR = {
    "v": 1,
    "event_id": "0" * 31 + "1",
    "device_id": "a" * 32,
    "seq": 1,
    "lamport": 1,
    "time": "2020-09-01T09:00:00+08:00",
    "actor": "张三",
    "kind": "inspection.cancelled",
    "payload": {"inspection_id": "b" * 32, "reason": "场所关闭"},
    "prev": None,
}
VECTOR_HASH = "66fd8421dc78123b33c1cbc9b3886eae9cd0f05ee9281a9950407d4736fe83f3"


def test_known_answer_vector() -> None:
    """The canonical encoding and hash are frozen: a change here breaks every ledger."""
    assert event_hash(VECTOR) == VECTOR_HASH
    assert document_problem({**VECTOR, "hash": VECTOR_HASH}) is None


@given(
    field=st.sampled_from(["event_id", "device_id", "seq", "lamport", "time", "actor", "payload"]),
    salt=st.integers(min_value=2, max_value=10_000),
)
def test_any_change_breaks_the_hash(field: str, salt: int) -> None:
    """Changing any field of a hashed event is detected."""
    doc: dict[str, Any] = {**VECTOR, "hash": VECTOR_HASH}
    changed = {
        "event_id": f"{salt:032x}",
        "device_id": f"{salt:032x}",
        "seq": 1 + salt,
        "lamport": 1 + salt,
        "time": f"2020-09-01T09:{salt % 60:02d}:01+08:00",
        "actor": f"李{salt}",
        "payload": {"inspection_id": "b" * 32, "reason": f"场所关闭{salt}"},
    }[field]
    doc[field] = changed
    assert document_problem(doc) is not None


def test_chain_links() -> None:
    """seq from 1, no gaps, prev is the previous hash, lamport grows."""
    t = dt.datetime(2020, 9, 1, tzinfo=dt.UTC)
    payload = {"inspection_id": "b" * 32, "reason": "x"}
    e1 = make_event(
        device_id="a" * 32,
        seq=1,
        lamport=3,
        time=t,
        actor="",
        kind="inspection.cancelled",
        payload=payload,
        prev=None,
    )
    assert link_problem(None, e1) is None
    head = Head(e1.seq, e1.hash, e1.lamport)
    e2 = make_event(
        device_id="a" * 32,
        seq=2,
        lamport=4,
        time=t,
        actor="",
        kind="inspection.cancelled",
        payload=payload,
        prev=e1.hash,
    )
    assert link_problem(head, e2) is None
    gap = make_event(
        device_id="a" * 32,
        seq=3,
        lamport=5,
        time=t,
        actor="",
        kind="inspection.cancelled",
        payload=payload,
        prev=e1.hash,
    )
    assert "missing" in (link_problem(head, gap) or "")
    bad_prev = make_event(
        device_id="a" * 32,
        seq=2,
        lamport=5,
        time=t,
        actor="",
        kind="inspection.cancelled",
        payload=payload,
        prev="0" * 64,
    )
    assert "chain broken" in (link_problem(head, bad_prev) or "")
    old_clock = make_event(
        device_id="a" * 32,
        seq=2,
        lamport=3,
        time=t,
        actor="",
        kind="inspection.cancelled",
        payload=payload,
        prev=e1.hash,
    )
    assert "lamport" in (link_problem(head, old_clock) or "")


def _world(tmp: Path) -> dict[str, list[Event]]:
    """An office and two laptops working on the same sites; returns each device's events."""
    office = Ledger.open(tmp / "office", clock=kit.clock(), actor="办公室")
    office.register_sites([kit.site(i) for i in range(4)])
    laptops = []
    for n in (1, 2):
        lap = Ledger.open(tmp / f"laptop{n}", clock=kit.clock(), actor=f"排查员{n}")
        lap.import_events(office.events())
        insp = lap.start_inspection(
            f"S000{n}",
            pack_id="building-safety",
            pack_version="1.0.0",
            method="明查",
            inspectors=[f"排查员{n}"],
        )
        lap.record_answer(insp.id, "q1", "no")
        found = lap.submit_inspection(insp.id, [kit.finding(f"R{n}"), kit.finding("RX")])
        lap.start_rectification(found[0].id)
        lap.report_rectified(found[0].id, note="已整改")
        laptops.append((lap, found))
    for lap, _ in laptops:
        office.import_events(lap.events())
    lap1, found1 = laptops[0]
    office.close_finding(found1[0].id, verifier="复查组")  # office closes ...
    lap1.reopen_finding(found1[0].id, reason="业主又改回去了")  # ... while laptop 1 reopens
    office.register_sites([kit.site(1, county=2)])  # concurrent site edits
    laptops[1][0].register_sites([kit.site(1, county=4)])
    out = {}
    for led in [office, *(lap for lap, _ in laptops)]:
        assert led.device_id is not None
        out[led.device_id] = led.events_since(led.device_id, 0)
        led.close()
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Event]]:
    """The three devices' own events."""
    return _world(tmp_path_factory.mktemp("world"))


def _hub(tmp: Path, name: str) -> Ledger:
    return Ledger.open(tmp / name, clock=kit.clock(), actor="hub")


def test_every_import_order_gives_the_same_state(
    world: dict[str, list[Event]], tmp_path: Path
) -> None:
    """All 6 orders of importing three devices' chains: one digest, one projection digest."""
    digests = set()
    for i, order in enumerate(itertools.permutations(sorted(world))):
        with _hub(tmp_path, f"h{i}") as hub:
            for device in order:
                hub.import_events(world[device])
            again = [hub.import_events(world[d]) for d in order]
            assert all(
                r.new == 0 and r.present == len(world[d]) for r, d in zip(again, order, strict=True)
            )
            proj = hub.projection
            digests.add((hub.digest(), proj.digest()))
            # the concurrent site edits are kept as a conflict; the close/reopen pair may both
            # apply (reopen after 销号 is a legal move) or one be rejected, by the total order
            assert proj.conflicts
    assert len(digests) == 1


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(schedule=st.lists(st.integers(min_value=0, max_value=2), min_size=0, max_size=40))
def test_interleaved_partial_imports_converge(
    world: dict[str, list[Event]], tmp_path_factory: pytest.TempPathFactory, schedule: list[int]
) -> None:
    """Importing chains in chunks, interleaved at random, ends in the reference state."""
    devices = sorted(world)
    tmp = tmp_path_factory.mktemp("inter")
    with _hub(tmp, "ref") as ref:
        for d in devices:
            ref.import_events(world[d])
        expected = (ref.digest(), ref.projection.digest())
    with _hub(tmp, "h") as hub:
        sent = dict.fromkeys(devices, 0)
        for pick in schedule:
            d = devices[pick]
            chunk = world[d][sent[d] : sent[d] + 3]
            hub.import_events(chunk)
            sent[d] += len(chunk)
        for d in devices:
            have = hub.heads().get(d)
            hub.import_events(hub.events_since(d, 0) + world[d][have.seq if have else 0 :])
        assert (hub.digest(), hub.projection.digest()) == expected


def test_events_since_and_heads(world: dict[str, list[Event]], tmp_path: Path) -> None:
    """Export from a seq; heads name each chain's newest event."""
    d = sorted(world)[0]
    with _hub(tmp_path, "h") as hub:
        hub.import_events(world[d])
        assert [e.seq for e in hub.events_since(d, 2)] == list(range(3, len(world[d]) + 1))
        assert hub.heads()[d].hash == world[d][-1].hash


def test_refusals_write_nothing(world: dict[str, list[Event]], tmp_path: Path) -> None:
    """Conflict, gap, forged hash, own device, malformed: refused, ledger unchanged."""
    d = sorted(world)[0]
    chain = world[d]
    with _hub(tmp_path, "h") as hub:
        hub.import_events(chain[:3])
        before = kit.files_digest(hub.data_dir)
        other = make_event(
            device_id=d,
            seq=2,
            lamport=chain[1].lamport,
            time=kit.T0,
            actor="x",
            kind="inspection.cancelled",
            payload={"inspection_id": "b" * 32, "reason": "y"},
            prev=chain[0].hash,
            event_id=chain[1].event_id,
        )
        cases: list[tuple[list[Any], str]] = [
            ([other], "conflict"),
            (chain[4:6], "missing"),
            ([{**chain[3].to_doc(), "actor": "forged"}], "hash does not match"),
            ([{"hello": 1}], "not a valid event"),
        ]
        assert hub.device_id is not None
        mine = make_event(
            device_id=hub.device_id,
            seq=1,
            lamport=1,
            time=kit.T0,
            actor="x",
            kind="inspection.cancelled",
            payload={"inspection_id": "b" * 32, "reason": "y"},
            prev=None,
        )
        cases.append(([mine], "this device"))
        fork = make_event(
            device_id=d,
            seq=3,
            lamport=99,
            time=kit.T0,
            actor="x",
            kind="inspection.cancelled",
            payload={"inspection_id": "b" * 32, "reason": "y"},
            prev=chain[1].hash,
        )
        cases.append(([fork], "repeats"))
        for events, words in cases:
            with pytest.raises(RefusedError, match=words):
                hub.import_events(events)
        assert kit.files_digest(hub.data_dir) == before
        assert hub.import_events(chain[3:]).new == len(chain) - 3


def test_projection_ignores_arrival_order(world: dict[str, list[Event]]) -> None:
    """Projection.build sorts by (lamport, device, seq): shuffled input, same state."""
    events = [e for chain in world.values() for e in chain]
    a = Projection.build(events).digest()
    b = Projection.build(list(reversed(events))).digest()
    assert a == b
