"""T7 (orders): the same bundles in any order, or twice, give the identical ledger, 0 duplicates.

Each order is imported into its own copy of the same hub; the copies must end with the same
ledger digest, the same projection, the same conflicts (and winners), every expected event
(lost 0) and no event twice.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from inspect_engine.ledger import Ledger
from inspect_engine.sync.conflicts import list_conflicts
from inspect_engine.sync.reasons import Reason, Refused
from tests.reliability.sync_kit import (
    World,
    checkpoints,
    digest,
    duplicates,
    events_of,
    inspect,
    make_world,
    state_digest,
    verifies,
)

A, B, C = "张三", "李四", "王五"


def _outcome(path: Path) -> tuple[str, str, tuple[tuple[str, str, tuple[str, ...]], ...]]:
    with Ledger.open(path, readonly=True) as led:
        conflicts = tuple(
            (c.entity_id, c.winner.event_id, tuple(x.event_id for x in c.losers))
            for c in list_conflicts(led)
        )
        return led.digest(), led.projection.digest(), conflicts


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, dict[str, bytes]]:
    """Three laptops' bundles A, B, C with concurrent changes to one shared finding."""
    world = make_world(tmp_path_factory.mktemp("orders") / "w", [A, B, C])
    fid = inspect(world, A, "S0001")[0]
    with world.ledger(A) as lap:
        lap.start_rectification(fid)
        lap.report_rectified(fid)
    for who in (A, B, C, A):
        world.run(who)
    with world.ledger(A) as lap:
        lap.close_finding(fid, verifier="王工")  # A closes ...
    with world.ledger(B) as lap:
        lap.reopen_finding(fid, reason="复查不合格")  # ... B reopens, concurrently
    inspect(world, B, "S0002", findings=2)
    inspect(world, C, "S0003", findings=3)
    with world.ledger(C) as lap:
        lap.reopen_finding(fid, reason="仍有裂缝")  # C reopens too
    bundles = {who: world.export(who) for who in (A, B, C)}
    return world, bundles


def test_all_six_orders_identical(three: tuple[World, dict[str, bytes]], tmp_path: Path) -> None:
    """{A, B, C} in all 6 orders: same digest, projection and conflicts; 0 duplicates, 0 lost."""
    world, bundles = three
    outcomes = set()
    expected: set[str] = set()
    for i, order in enumerate(itertools.permutations("ABC")):
        copy = world.copy(tmp_path / f"order{i}")
        new = 0
        for letter in order:
            new += copy.import_(bundles[{"A": A, "B": B, "C": C}[letter]]).new
        outcomes.add(_outcome(copy.hub))
        ids = {e.event_id for e in events_of(copy.hub)}
        expected = expected or ids
        assert ids == expected, "lost or extra events"
        assert duplicates(copy.hub) == 0 and verifies(copy.hub)
        assert new > 0
    assert len(outcomes) == 1, "every order must give the identical ledger"
    ((_, _, conflicts),) = outcomes
    assert len(conflicts) >= 2  # close vs reopen (B), and C's reopen
    print(f"\nT7 orders: 6 orders of 3 bundles, 1 distinct digest, {len(expected)} events, "
          f"{len(conflicts)} conflicts listed identically")  # fmt: skip


def test_twice_and_aba(three: tuple[World, dict[str, bytes]], tmp_path: Path) -> None:
    """A twice, and A, B, A: the repeats add nothing and the ledger equals A, B."""
    world, bundles = three
    ab = world.copy(tmp_path / "ab")
    ab.import_(bundles[A])
    ab.import_(bundles[B])
    aba = world.copy(tmp_path / "aba")
    first = aba.import_(bundles[A])
    again = aba.import_(bundles[A])
    aba.import_(bundles[B])
    third = aba.import_(bundles[A])
    assert again.new == third.new == 0
    assert again.already_present == third.already_present == first.events
    assert digest(aba.hub) == digest(ab.hub)
    assert state_digest(aba.hub) == state_digest(ab.hub)
    assert checkpoints(aba.hub) == checkpoints(ab.hub)
    assert duplicates(aba.hub) == 0


def test_cumulative_bundles_of_one_laptop_in_every_order(tmp_path: Path) -> None:
    """A1 ⊂ A2 ⊂ A3 from one laptop (no ack between): every order ends identical; an older
    bundle arriving after a newer one is refused as a replay and changes nothing."""
    world = make_world(tmp_path / "w", [A])
    bundles = []
    for site in ("S0001", "S0002", "S0003"):
        inspect(world, A, site)
        bundles.append(world.export(A))
    outcomes = set()
    refused = 0
    for i, order in enumerate(itertools.permutations(range(3))):
        copy = world.copy(tmp_path / f"c{i}")
        newest = -1
        for n in order:
            try:
                copy.import_(bundles[n])
            except Refused as err:
                assert err.reason is Reason.REPLAY and n < newest
                refused += 1
            else:
                assert n > newest
            newest = max(newest, n)
        outcomes.add((digest(copy.hub), state_digest(copy.hub)))
        assert duplicates(copy.hub) == 0
    assert len(outcomes) == 1
    assert refused == 7  # older-after-newer imports over the 6 orders: 0+1+1+1+2+2
    print(f"\nT7 cumulative: 6 orders, 1 distinct digest, {refused} replays refused")


def test_incremental_bundles_out_of_order_are_refused_as_gap(tmp_path: Path) -> None:
    """After an acknowledgement, bundles are incremental: the later one first is a gap,
    refused; once the earlier one is in, it imports."""
    world = make_world(tmp_path / "w", [A])
    inspect(world, A, "S0001")
    a1 = world.export(A)
    copy = world.copy(tmp_path / "acked")
    copy.import_(a1)
    copy.import_(copy.export(to=A), A)  # the hub's acknowledgement reaches the laptop
    inspect(copy, A, "S0002")
    a2 = copy.export(A)
    fresh = world.copy(tmp_path / "fresh")
    with pytest.raises(Refused) as caught:
        fresh.import_(a2)
    assert caught.value.reason is Reason.GAP
    assert fresh.import_(a1).new == 4
    assert fresh.import_(a2).new == 4
    copy.import_(a2)
    assert digest(fresh.hub) == digest(copy.hub)
