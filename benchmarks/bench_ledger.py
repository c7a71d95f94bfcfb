"""Ledger timings on a city-sized field ledger: 2,000 sites and 20,000 events.

Run: ``python -m benchmarks.bench_ledger [--sites 2000] [--events 20000] [--answers 200]``.

Reports
* building the ledger (batched writes, as an import or a sync does them);
* opening it (read, checksum, chain check, projection);
* saving one answer (the number the app waits on: ``record_answer`` until durable), p50/p95/max,
  against the target of 30 ms p95;
* submitting the inspection (folds the journal into ``ledger.db`` in one write);
* opening in a fresh process: wall time and peak RSS (``open_child_*``);
* importing 500 events of another device (sync): one that had every event already (they sort
  last and apply on top) and one that had none (they sort among the ledger's: a rebuild);
* office queries on the open ledger: first call and repeated, and how many times the file was
  parsed while they ran (0: nothing is re-parsed per query);
* ``ledger verify`` (every hash recomputed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from inspect_engine.clock import CHINA, FixedClock
from inspect_engine.events import Event
from inspect_engine.findings import Finding, Responsible
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir
from inspect_engine.rectification import FiveImplementations
from inspect_engine.rulepack import Basis, SourceRef, Text
from inspect_engine.site import Parties, PartyRecord, Site

COUNTIES = {
    "平定县": ["冠山镇", "冶西镇", "锁簧镇", "张庄镇", "东回镇", "娘子关镇"],
    "盂县": ["秀水镇", "孙家庄镇", "路家村镇", "南娄镇", "牛村镇"],
    "郊区": ["荫营镇", "河底镇", "平坦镇", "旧街乡"],
    "城区": ["北大街街道", "南山路街道"],
    "矿区": ["沙坪街道", "赛鱼街道"],
}
START = dt.datetime(2020, 9, 1, 8, 0, tzinfo=CHINA)


def _site(rng: random.Random, n: int) -> Site:
    county = rng.choice(sorted(COUNTIES))
    township = rng.choice(COUNTIES[county])
    return Site(
        id=f"YQ{n:05d}",
        name=f"{township}第{n}号经营性自建房",
        county=county,
        township=township,
        village=f"{rng.randint(1, 30)}村",
        address=f"{county}{township}{rng.randint(1, 300)}号",
        site_types=["self_built"],
        parties=Parties(owner=PartyRecord(unit=f"业主{n}", contact="13800000000")),
        group=f"第{rng.randint(1, 5)}督导组",
        inspector=f"排查员{rng.randint(1, 40)}",
    )


def _finding(rng: random.Random, rule: int, day: dt.date) -> Finding:
    level = "重大" if rng.random() < 0.15 else "一般"
    return Finding(
        rule_id=f"R{rule:03d}",
        pack_id="building-safety",
        pack_version="1.0.0",
        title=Text(zh=f"隐患{rule}：擅自改变房屋用途", en=f"hazard {rule}"),
        level=level,
        hazard=True,
        consequences=[],
        rectification=Text(zh="限期整改", en="rectify within the deadline"),
        deadline=day + dt.timedelta(days=rng.choice([0, 7, 15, 30])),
        deadline_rule="15 calendar days",
        responsible=[Responsible(role="owner", label="产权人", unit="业主", contact="")],
        basis=Basis(source=SourceRef(section="五(二)")),
        triggers=[],
        facts=[],
        site_level=False,
    )


def build(data_dir: Path, sites: int, events: int, seed: int = 2020) -> dict[str, float]:
    """Fill ``data_dir`` with ``sites`` sites and about ``events`` events; return timings."""
    rng = random.Random(seed)
    clock = FixedClock(START)
    t0 = time.perf_counter()
    with Ledger.open(data_dir, clock=clock, actor="bench") as ledger:
        ledger.register_sites([_site(rng, n) for n in range(sites)])
        site_ids = sorted(s.site.id for s in ledger.sites())
        findings: list[str] = []
        while ledger.event_count() < events:
            with ledger.batch():
                for _ in range(40):
                    clock.advance(minutes=rng.randint(5, 40))
                    insp = ledger.start_inspection(
                        rng.choice(site_ids),
                        pack_id="building-safety",
                        pack_version="1.0.0",
                        method=rng.choice(["明查", "暗访", "突击检查", "随机抽查"]),
                        inspectors=["排查员1", "排查员2"],
                    )
                    for item in range(rng.randint(15, 35)):
                        ledger.record_answer(insp.id, f"B{item:02d}", rng.choice(["yes", "no"]))
                    raised = [
                        _finding(rng, r, clock.now().date()) for r in range(rng.randint(0, 3))
                    ]
                    findings += [f.id for f in ledger.submit_inspection(insp.id, raised)]
                    for fid in rng.sample(findings, min(len(findings), 2)):
                        _advance_loop(ledger, fid, rng, clock.now().date())
        n = ledger.event_count()
    return {"build_s": time.perf_counter() - t0, "events": n}


def _advance_loop(ledger: Ledger, finding_id: str, rng: random.Random, today: dt.date) -> None:
    f = ledger.finding(finding_id)
    if f.status is None or f.status.value == "closed":
        return
    if f.level == "重大" and f.plan is None:
        plan = FiveImplementations(
            responsible_person="责任人",
            measures="停止使用，加固",
            funds=rng.randint(1, 50) / 2,
            deadline=today + dt.timedelta(days=30),
            contingency_plan="撤离人员",
        )
        ledger.set_plan(finding_id, plan)
    status = f.status.value
    if status == "open":
        ledger.start_rectification(finding_id)
    elif status == "in_rectification":
        ledger.report_rectified(finding_id, note="已整改")
    elif status == "reported":
        if rng.random() < 0.8:
            ledger.close_finding(finding_id, verifier="复查组")
        else:
            ledger.reopen_finding(finding_id, reason="复查不合格")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _time(fn: Callable[[], object], repeat: int = 1) -> tuple[float, float]:
    """(first call, median of the repeats after it) in milliseconds."""
    t0 = time.perf_counter()
    fn()
    first = (time.perf_counter() - t0) * 1000
    rest = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        rest.append((time.perf_counter() - t0) * 1000)
    return first, statistics.median(rest) if rest else first


def _foreign_events(other: Path, ledger: Ledger, clock: FixedClock, *, synced: bool) -> list[Event]:
    """500 events of another device: an inspection of one site, 498 answers, a submit.

    ``synced``: the device had imported every event of ``ledger`` first, so its events sort
    after them; otherwise it only registered the site, and they sort among the ledger's.
    """
    site = ledger.site("YQ00007").site
    with Ledger.open(other, clock=clock, actor="李四") as device:
        if synced:
            device.import_events(ledger.events())
        else:
            device.register_sites([site])
        insp = device.start_inspection(
            site.id,
            pack_id="building-safety",
            pack_version="1.0.0",
            method="明查",
            inspectors=["李四"],
        )
        with device.batch():
            for i in range(500 - 2 - (0 if synced else 1)):
                device.record_answer(insp.id, f"B{i % 80:02d}", "yes")
        device.submit_inspection(insp.id, [])
        return device.events()[-500:]


_CHILD = """
import resource, sys, time
from inspect_engine.ledger import Ledger
t0 = time.perf_counter()
Ledger.open(sys.argv[1], readonly=True).close()
seconds = time.perf_counter() - t0
try:  # this process's own high-water mark (ru_maxrss may carry the parent's over exec)
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(seconds, kb)
"""


def _open_in_child(data_dir: Path) -> dict[str, float]:
    """Open time and peak RSS (MB) of a read-only open in a fresh process (Unix only)."""
    try:
        import resource  # noqa: F401 - only to know we are on Unix
    except ImportError:  # pragma: no cover - Windows
        return {}
    got = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data_dir)], capture_output=True, text=True, check=True
    )
    seconds, rss_kb = got.stdout.split()
    return {"open_child_ms": float(seconds) * 1000, "open_child_peak_rss_mb": int(rss_kb) / 1024}


def run(sites: int = 2000, events: int = 20000, answers: int = 200) -> dict[str, float]:
    """Build, then time the field and office operations; return the figures."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        data_dir = Path(tmp) / "ledger"
        out.update(build(data_dir, sites, events))
        files = [data_dir / "ledger.db", *(data_dir / "segments").glob("*.db")]
        out["ledger_mb"] = sum(f.stat().st_size for f in files) / 1e6
        clock = FixedClock(START + dt.timedelta(days=40))

        t0 = time.perf_counter()
        ledger = Ledger.open(data_dir, clock=clock, actor="张三")
        out["open_ms"] = (time.perf_counter() - t0) * 1000
        insp = ledger.start_inspection(
            "YQ00007",
            pack_id="building-safety",
            pack_version="1.0.0",
            method="明查",
            inspectors=["张三"],
        )
        saves = []
        for i in range(answers):
            t0 = time.perf_counter()
            ledger.record_answer(insp.id, f"B{i % 80:02d}", "yes" if i % 3 else "no")
            saves.append((time.perf_counter() - t0) * 1000)
        out["save_p50_ms"] = _pct(saves, 0.50)
        out["save_p95_ms"] = _pct(saves, 0.95)
        out["save_max_ms"] = max(saves)
        t0 = time.perf_counter()
        ledger.submit_inspection(insp.id, [])
        out["submit_ms"] = (time.perf_counter() - t0) * 1000
        for name, synced in (("import_500_in_order_ms", True), ("import_500_rebuild_ms", False)):
            foreign = _foreign_events(data_dir.parent / name, ledger, clock, synced=synced)
            t0 = time.perf_counter()
            ledger.import_events(foreign)
            out[name] = (time.perf_counter() - t0) * 1000
        ledger.close()
        out.update(_open_in_child(data_dir))

        # The office: a read-only ledger, queried again and again.
        office = Ledger.open(data_dir, clock=clock, readonly=True)
        office.projection  # noqa: B018 - load once
        parses = office._main.storage.reads  # noqa: SLF001 - the figure we report
        cutoff = START + dt.timedelta(days=20)
        queries: dict[str, Callable[[], object]] = {
            "q_open_findings_county": lambda: office.open_findings(county="平定县"),
            "q_open_findings_major": lambda: office.open_findings(level="重大"),
            "q_overdue": lambda: office.open_findings(overdue_only=True),
            "q_counts_now": lambda: office.status_counts(),
            "q_counts_as_of": lambda: office.status_counts(as_of=cutoff),
            "q_sites_overdue": lambda: office.sites(status="overdue"),
            "q_sites_search": lambda: office.sites(search="娘子关镇"),
            "q_site_record": lambda: office.site("YQ00007"),
        }
        for name, fn in queries.items():
            first, again = _time(fn, repeat=5)
            out[name + "_first_ms"] = first
            out[name + "_ms"] = again
        out["reparses_during_queries"] = office._main.storage.reads - parses  # noqa: SLF001
        t0 = time.perf_counter()
        report = verify_data_dir(data_dir)
        out["verify_ms"] = (time.perf_counter() - t0) * 1000
        out["verify_ok"] = float(report.ok)
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the figures as a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--answers", type=int, default=200)
    args = parser.parse_args(argv)
    figures = run(args.sites, args.events, args.answers)
    for key, value in figures.items():
        print(f"{key:36} {value:12.2f}")
    target = "OK" if figures["save_p95_ms"] <= 30 else "OVER TARGET"
    print(f"answer save p95 {figures['save_p95_ms']:.1f} ms (target ≤ 30 ms): {target}")


if __name__ == "__main__":
    main()
