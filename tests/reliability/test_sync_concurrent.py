"""T8: K laptops' bundles imported by K processes at once into one hub, serialized by the lock.

K = 5 laptops, F = 200 findings each. 10 % of the findings are changed on two laptops without
either seeing the other: HARD (both report the rectification: one cannot apply) and SOFT (one
records the 五落实 plan, the other starts the rectification: both apply). Then K
``inspect-engine sync import`` processes start together against the hub. Expected: every
process succeeds, no write is lost (every event, every checkpoint), the result equals a
sequential import, and conflicts detected = conflicts injected, SOFT and HARD separately.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspect_engine.ledger import Ledger
from inspect_engine.rectification import FiveImplementations
from inspect_engine.sync.bundle import write_bundle
from inspect_engine.sync.conflicts import list_conflicts
from inspect_engine.sync.state import load_state
from tests.reliability import kit
from tests.reliability.sync_kit import (
    World,
    digest,
    duplicates,
    events_of,
    make_world,
    state_digest,
    verifies,
)

K = 5
F = 200
PER_INSPECTION = 50
ROOT = Path(__file__).resolve().parents[2]
NAMES = ["张三", "李四", "王五", "赵六", "孙七"][:K]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, list[Path], dict[str, int]]:
    """K laptops with F findings each, shared through the hub; then concurrent edits; bundles."""
    root = tmp_path_factory.mktemp("concurrent")
    world = make_world(root / "w", NAMES, sites=K * (F // PER_INSPECTION))
    findings: dict[str, list[str]] = {}
    for i, who in enumerate(NAMES):
        ids: list[str] = []
        with world.ledger(who) as lap:
            for j in range(F // PER_INSPECTION):
                site = f"S{i * (F // PER_INSPECTION) + j + 1:04d}"
                insp = lap.start_inspection(
                    site, pack_id="building-safety", pack_version="1.0.0", method="open",
                    inspectors=[who],
                )  # fmt: skip
                lap.record_answer(insp.id, "BS.LAND.01", "no")
                got = lap.submit_inspection(
                    insp.id, [kit.finding(f"R{n}") for n in range(PER_INSPECTION)]
                )
                ids += [f.id for f in got]
        findings[who] = ids
    for who in NAMES + NAMES[:1]:
        world.run(who)  # everyone now holds every finding
    injected = {"hard": 0, "soft": 0}
    for i, who in enumerate(NAMES):
        other = NAMES[(i + 1) % K]
        shared = findings[who][: F // 10]  # 10 % of this laptop's findings
        with world.ledger(who) as mine, world.ledger(other) as theirs:
            for n, fid in enumerate(shared):
                if n % 2 == 0:  # HARD: both report the rectification
                    mine.report_rectified(fid, note=f"{who}报告")
                    theirs.report_rectified(fid, note=f"{other}报告")
                    injected["hard"] += 1
                else:  # SOFT: a plan on one, the start of rectification on the other
                    mine.set_plan(fid, _plan())
                    theirs.start_rectification(fid)
                    injected["soft"] += 1
    bundles = []
    for who in NAMES:
        path = world.root / "bundles" / f"{who}.bundle"
        write_bundle(path, world.export(who))
        bundles.append(path)
    return world, bundles, injected


def _plan() -> FiveImplementations:
    return FiveImplementations(
        responsible_person="业主",
        measures="加固",
        funds=1.5,
        deadline=dt.date(2020, 9, 30),
        contingency_plan="设置警戒",
    )


def _import_all_at_once(hub: Path, bundles: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "inspect_engine.cli.main",
                "sync",
                "import",
                "--quiet",
                "--wait",
                "300",
                "--format",
                "json",
                "--data-dir",
                str(hub),
                str(b),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for b in bundles
    ]
    out = []
    for p, b in zip(procs, bundles, strict=True):
        stdout, stderr = p.communicate(timeout=600)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
        assert p.returncode == 0, f"{b}: {stderr[-2000:]}"
    return out


@pytest.mark.slow
def test_concurrent_importers_lose_nothing(
    scene: tuple[World, list[Path], dict[str, int]], tmp_path: Path
) -> None:
    """K processes at once: all succeed; the hub equals a sequential import; conflicts counted."""
    world, bundles, injected = scene
    together = world.copy(tmp_path / "together")
    _import_all_at_once(together.hub, [together.root / b.relative_to(world.root) for b in bundles])
    sequential = world.copy(tmp_path / "sequential")
    for b in bundles:
        sequential.import_(b.read_bytes())
    expected = {e.event_id for p in world.laptops.values() for e in events_of(p)}
    got = {e.event_id for e in events_of(together.hub)}
    assert got == expected, f"lost {len(expected - got)} events"
    assert duplicates(together.hub) == 0 and verifies(together.hub)
    assert digest(together.hub) == digest(sequential.hub)
    assert state_digest(together.hub) == state_digest(sequential.hub)
    devices = {world.device(w) for w in NAMES}
    state = load_state(together.hub)
    assert devices <= set(state.checkpoints), "a checkpoint was lost"
    assert devices <= set(state.peers)
    with Ledger.open(together.hub, readonly=True) as hub:
        conflicts = list_conflicts(hub)
        findings = len(hub.projection.findings)
    hard = sum(1 for c in conflicts if any(not x.applied for x in c.losers))
    soft = len(conflicts) - hard
    assert findings == K * F
    assert (hard, soft) == (injected["hard"], injected["soft"])
    print(
        f"\nT8: {K} concurrent importers, {K * F} findings, {len(got)} events, lost 0, "
        f"duplicates 0; conflicts injected hard {injected['hard']} soft {injected['soft']}, "
        f"detected hard {hard} soft {soft}"
    )


@pytest.mark.slow
def test_same_bundle_by_two_processes_at_once(
    scene: tuple[World, list[Path], dict[str, int]], tmp_path: Path
) -> None:
    """Two processes importing the same bundle at once: one adds it, the other finds it there."""
    world, bundles, _ = scene
    copy = world.copy(tmp_path / "twice")
    path = copy.root / bundles[0].relative_to(world.root)
    runs = _import_all_at_once(copy.hub, [path, path])
    news = sorted(json.loads(r.stdout)[0]["new"] for r in runs)
    presents = sorted(json.loads(r.stdout)[0]["already_present"] for r in runs)
    assert news[0] == 0 and news[1] > 0 and presents == [0, news[1]]
    assert duplicates(copy.hub) == 0
