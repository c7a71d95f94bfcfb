"""T7 (interrupted): a sync killed at any point and re-run completes, nothing lost or doubled.

Each scenario runs a real ``inspect-engine sync ...`` command in a forked child and SIGKILLs it
at every protocol step, at every mutating file-system call (torn writes included), and at random
moments; then re-runs the command and compares every data directory with an uninterrupted
reference run: same ledger digest, same projection, same event ids (lost 0), no duplicate,
every chain verifies, same checkpoints. The driver is tests/reliability/sync_crash.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inspect_engine.ledger import Ledger
from inspect_engine.sync.bundle import write_bundle
from tests.reliability import kit
from tests.reliability.sync_kit import World, inspect, install_into, make_world, pack_version

A, B, C = "张三", "李四", "王五"
ROOT = Path(__file__).resolve().parents[2]
EXACT = [
    "digest", "state_digest", "ids", "duplicates", "verifies", "checkpoints", "pinned", "packs",
]  # fmt: skip
"""What an interrupted-then-re-run import or run must reproduce exactly (``packs``: the rule
packs the data directory received, by fingerprint, and no staging folder left behind)."""
ENROLL = ["duplicates", "verifies", "enrollments", "events", "checkpoints", "pinned", "packs"]
"""Enrollment makes new events (fresh ids), so it is compared by shape."""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hub, A, B enrolled; C a fresh ledger; concurrent changes on A and B; A's bundle on disk;
    then the hub gets building-safety 1.0.1, which B's run and C's enrollment install."""
    root = tmp_path_factory.mktemp("kill") / "world"
    world = make_world(root, [A, B])
    fid = inspect(world, A, "S0001")[0]
    with world.ledger(A) as lap:
        lap.start_rectification(fid)
    world.run(A)
    world.run(B)
    for who in (A, B):
        with world.ledger(who) as lap:
            lap.report_rectified(fid, note=f"{who}报告")
    with world.ledger(A) as lap:
        insp = lap.start_inspection(
            "S0003", pack_id="building-safety", pack_version="1.0.0", method="open",
            inspectors=[A],
        )  # fmt: skip
        photo = lap.add_evidence(b"\xff\xd8 photo of the scaffold", name="scaffold.jpg")
        lap.record_answer(insp.id, "BS.LAND.01", "no", evidence=[photo])
        lap.submit_inspection(insp.id, [kit.finding("R7")])
    (root / "bundles").mkdir()
    write_bundle(root / "bundles" / "a.bundle", world.export(A))
    Ledger.open(root / "laptop-3", clock=kit.clock()).close()
    assert install_into(world.hub, pack_version(root.parent, "1.0.1")) == "install"
    return root


def _drive(template: Path, tmp_path: Path, **spec: Any) -> dict[str, Any]:
    work = tmp_path / "work"
    spec = {"template": str(template), "work": str(work), **spec}
    spec["argv"] = [a.replace("{W}", str(work)) for a in spec["argv"]]
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "tests.reliability.sync_crash", str(spec_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.stdout)
    return result


SCENARIOS: dict[str, dict[str, Any]] = {
    "import": {
        "argv": ["sync", "import", "--quiet", "--data-dir", "{W}/hub", "{W}/bundles/a.bundle"],
        "compare": EXACT,
        "dirs": {"hub": "hub"},
    },
    "run": {
        "argv": ["sync", "run", "--quiet", "--data-dir", "{W}/laptop-2", "--hub", "{W}/hub"],
        "compare": EXACT,
        "dirs": {"hub": "hub", "b": "laptop-2"},
    },
    "export": {
        "argv": ["sync", "export", "--quiet", "--data-dir", "{W}/laptop-1", "-o", "{W}/out.bundle"],
        "compare": EXACT,
        "bundle": "out.bundle",
        "dirs": {"a": "laptop-1"},
    },
    "enroll": {
        "argv": [
            "sync", "enroll", "--quiet", "--data-dir", "{W}/laptop-3", "--hub", "{W}/hub",
            "--inspector", C, "--now", "2020-09-03T09:00:00+08:00",
        ],
        "compare": ENROLL,
        "dirs": {"hub": "hub", "c": "laptop-3"},
    },
}  # fmt: skip
"""Each scenario's command and the data directories it may change (compared after re-runs)."""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["step", "io"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_killed_at_every_point_then_rerun(
    template: Path, tmp_path: Path, scenario: str, mode: str
) -> None:
    """Kill at each step / each file-system call; the re-run matches the uninterrupted run."""
    result = _drive(template, tmp_path, mode=mode, **SCENARIOS[scenario])
    print(
        f"\nT7 kill {scenario}/{mode}: {result['points']} points, {result['killed']} killed, "
        f"{result['reruns_ok']} re-runs ok, mismatches {len(result['mismatches'])}"
    )
    assert result["mismatches"] == []
    assert result["killed"] == result["points"] == result["reruns_ok"]
    assert result["points"] >= (1 if scenario == "export" and mode == "step" else 3)
    for name, snap in result["reference"].items():
        if snap and name != "bundle":
            assert snap["duplicates"] == 0 and snap["verifies"], name
    if "bundle" in result["reference"]:
        assert result["reference"]["bundle"]["bundle_ok"]
    laptop = {"run": "b", "enroll": "c"}.get(scenario)
    if laptop is not None:  # the pull installed the hub's new pack: kills landed in it too
        assert "building-safety 1.0.1" in result["reference"][laptop]["packs"]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["import", "run"])
def test_killed_at_random_moments(template: Path, tmp_path: Path, scenario: str) -> None:
    """SIGKILL after a random delay (up to the command's own duration), 25 times per scenario;
    every re-run matches the reference."""
    result = _drive(
        template,
        tmp_path,
        mode="random",
        kills=25,
        seed=7,
        **SCENARIOS[scenario],
    )
    print(
        f"\nT7 random kills {scenario}: {result['points']} runs, {result['killed']} killed "
        f"mid-way, mismatches {len(result['mismatches'])}"
    )
    assert result["mismatches"] == []
    assert result["reruns_ok"] == result["points"] == 25
    assert result["killed"] >= 5, "kills should land mid-command"


def test_template_is_a_real_scenario(template: Path, tmp_path: Path) -> None:
    """The killed import carries new events, an evidence file and a conflict (not a no-op)."""
    laptops = {A: template / "laptop-1", B: template / "laptop-2"}
    world = World(template, template / "hub", laptops).copy(tmp_path / "c")
    summary = world.import_((world.root / "bundles" / "a.bundle").read_bytes())
    assert summary.new == 4 and summary.evidence == 1 and summary.conflicts_total == 0
    push, pull = world.run(B)
    assert push.new == 1 and push.conflicts == 1
    assert pull.packs_installed == ["building-safety 1.0.1"]
