"""The terminal app on a field ledger of 2,000 sites and about 20,000 events.

Run: ``python -m benchmarks.bench_tui [--sites 2000] [--events 20000] [--answers 150]``.

Reports (a report, not a timed test: the numbers depend on the machine):

* **answer key → next item shown, answer durable**: keys pressed on the walk screen through
  Textual's Pilot, the real ledger underneath (fsync per answer). Two clocks:
  *in app* from the key's handler to the moment the screen marks the answer ✓ saved (the next
  item was on screen before that), and *through Pilot* from ``press`` to the same moment
  (Pilot adds its own 45–65 ms per key, libraries.md §3.1). p50 and p95.
* **time to the first screen**: a cold start of ``inspect-engine tui`` in tmux until the site
  list shows its count (when tmux is installed), and the in-process parts: importing the app,
  loading the packs, opening the ledger, mounting the app until the list is drawn.
* typing a search over the 2,000 sites (Pilot, per key).
* the unresolved-hazards list (``h`` from the site list, Pilot): the first opening, the median
  of the next ones (each opening reads the ledger again), and a level filter that redraws it.

``python -m benchmarks.bench_tui --hazards-on DIR`` measures only the hazards list, on a clone of
the data directory ``DIR`` (hard links, :func:`benchmarks.scenarios.clone_dir`; ``DIR`` is left
as it is): the city's is ``.bench-cache/city-s1-seed2020-v1-f2/data``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inspect_engine.clock import CHINA, FixedClock
from inspect_engine.demo import demo_sites
from inspect_engine.evaluation import evaluate
from inspect_engine.ledger import Ledger
from inspect_engine.packs import checklists_root, load_pack
from inspect_engine.rulepack import ChoiceAnswer, RulePack
from inspect_engine.site import Site

START = dt.datetime(2020, 9, 1, 8, 0, tzinfo=CHINA)
INSPECTOR = "排查员01"


def load_packs() -> list[RulePack]:
    """The two campaign packs."""
    root = checklists_root()
    return [load_pack(root / "building-safety"), load_pack(root / "eleven-prohibitions")]


def _packs_for(site: Site, packs: list[RulePack]) -> list[RulePack]:
    return [p for p in packs if {t.id for t in p.manifest.site_types} & set(site.site_types)]


def build(data_dir: Path, packs: list[RulePack], sites: int, events: int) -> dict[str, float]:
    """``sites`` demo sites, then inspections walked with real packs until about ``events``."""
    from tui.demo import answer_all

    rng = random.Random(2020)
    clock = FixedClock(START)
    t0 = time.perf_counter()
    register = demo_sites(packs, sites)
    with Ledger.open(data_dir, clock=clock, actor=INSPECTOR) as ledger:
        ledger.register_sites(register)
        walkable = [s for s in register if _packs_for(s, packs)]
        n = len(ledger.events())
        while n < events:
            with ledger.batch():  # forty inspections a write, as a sync would bring them
                for _ in range(40):
                    clock.advance(minutes=rng.randint(5, 40))
                    site = rng.choice(walkable)
                    pack = _packs_for(site, packs)[0]
                    insp = ledger.start_inspection(
                        site.id,
                        pack_id=pack.id,
                        pack_version=pack.version,
                        method=rng.choice(["open", "unannounced", "surprise", "random"]),
                        inspectors=[site.inspector or INSPECTOR],
                    )
                    answers = answer_all(pack, site, rng, violations=0.05)
                    for item_id, value in answers.items():
                        ledger.record_answer(insp.id, item_id, value)
                    findings = evaluate(pack, site, answers, clock.now().date())
                    states = ledger.submit_inspection(insp.id, findings)
                    ledger.order_for_findings(site.id, states, ordered_on=clock.now().date())
                    n += 3 + len(answers) + len(states)
            n = len(ledger.events())
    return {"build_s": time.perf_counter() - t0, "events": float(n), "sites": float(sites)}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def walk_latency(data_dir: Path, packs: list[RulePack], answers: int) -> dict[str, float]:
    """Answer ``answers`` items through Pilot on the field ledger; latencies in ms."""
    from textual.pilot import Pilot

    from tui.app import make_app
    from tui.demo import auto_answer
    from tui.format import num
    from tui.ledger_backend import LedgerBackend
    from tui.screens.site import SiteScreen
    from tui.screens.walk import WalkScreen
    from tui.widgets.answer import AnswerPanel

    clock = FixedClock(dt.datetime(2020, 9, 25, 9, 0, tzinfo=CHINA))
    rng = random.Random(5)
    in_app: list[float] = []
    pilot_ms: list[float] = []
    shown_ms: list[float] = []
    submits: list[float] = []
    with Ledger.open(data_dir, clock=clock, actor=INSPECTOR) as ledger:
        sites = [
            r.site
            for r in ledger.sites(status="not_inspected")
            if "rural_self_built_house" in r.site.site_types
        ]
        app = make_app(LedgerBackend(ledger, packs), resume=False)

        async def press_answer(pilot: Pilot[None], walk: WalkScreen) -> None:
            item = walk.current_item
            assert item is not None
            value = auto_answer(item, rng, violations=0.05)
            spec = item.answer
            keys: list[str]
            if spec.type == "yes_no":
                keys = [{"yes": "y", "no": "n", "na": "x"}[str(value)]]
            elif spec.type == "number":
                assert isinstance(value, float)
                walk.query_one(AnswerPanel).number.value = num(value)
                keys = ["enter"]
            elif spec.type == "choice":
                assert isinstance(spec, ChoiceAnswer)
                keys = [str([o.value for o in spec.options].index(str(value)) + 1)]
            elif spec.type == "multi_choice":
                keys = ["enter"]
            else:
                walk.query_one(AnswerPanel).text.value = "ok"
                keys = ["enter"]
            done = len(walk.answer_log)
            t0 = time.perf_counter()
            await pilot.press(*keys)
            while len(walk.answer_log) == done:
                await pilot.pause(0.001)
            job = walk.answer_log[-1]
            pilot_ms.append((job.t_acked - t0) * 1000)
            in_app.append((job.t_acked - job.t_key) * 1000)
            shown_ms.append((job.t_shown - job.t_key) * 1000)

        async def script(pilot: Pilot[None]) -> None:
            backend = app.backend
            for site in sites:
                if len(in_app) >= answers:
                    break
                pack = _packs_for(site, packs)[0]
                open_ = backend.start_inspection(site.id, pack.id, "open", [INSPECTOR])
                await app.push_screen(SiteScreen(site.id))
                await app.push_screen(WalkScreen(open_))
                await pilot.pause()
                walk = app.screen
                assert isinstance(walk, WalkScreen)
                while walk.walk.current is not None and len(in_app) < answers:
                    await press_answer(pilot, walk)
                await app.workers.wait_for_complete()
                if walk.walk.current is None:
                    t0 = time.perf_counter()
                    backend.submit(open_.info.id, walk.walk.effective_answers())
                    submits.append((time.perf_counter() - t0) * 1000)
                app.pop_screen()
                app.pop_screen()
                await pilot.pause()

        async def main() -> None:
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                await script(pilot)

        asyncio.run(main())
    return {
        "answers": float(len(in_app)),
        "in_app_p50_ms": statistics.median(in_app),
        "in_app_p95_ms": _pct(in_app, 0.95),
        "pilot_p50_ms": statistics.median(pilot_ms),
        "pilot_p95_ms": _pct(pilot_ms, 0.95),
        "next_item_shown_p50_ms": statistics.median(shown_ms),
        "next_item_shown_p95_ms": _pct(shown_ms, 0.95),
        "submit_p50_ms": statistics.median(submits) if submits else float("nan"),
    }


def first_screen_in_process(data_dir: Path) -> dict[str, float]:
    """Import, packs, ledger, app: each part of a start, in this process."""
    t0 = time.perf_counter()
    from textual.widgets import DataTable

    from tui.app import make_app
    from tui.ledger_backend import LedgerBackend
    from tui.main import installed_packs

    t1 = time.perf_counter()
    packs = installed_packs()
    t2 = time.perf_counter()
    out: dict[str, float] = {}
    with Ledger.open(data_dir, clock=FixedClock(START), actor="nobody-here") as ledger:
        t3 = time.perf_counter()
        app = make_app(LedgerBackend(ledger, packs), resume=False)

        async def main() -> None:
            async with app.run_test(size=(80, 24)) as pilot:
                while app.screen.query(DataTable).first().row_count == 0:
                    await pilot.pause(0.005)
                out["app_ms"] = (time.perf_counter() - t3) * 1000

        asyncio.run(main())
    out.update(
        import_ms=(t1 - t0) * 1000, packs_ms=(t2 - t1) * 1000, ledger_open_ms=(t3 - t2) * 1000
    )
    return out


def first_screen_cold(data_dir: Path, runs: int = 3) -> list[float]:
    """Seconds from spawning ``inspect-engine tui`` in tmux to the site count on screen."""
    if shutil.which("tmux") is None:
        return []
    app = Path(sys.executable).parent / "inspect-engine"
    sock = f"ie-bench-{os.getpid()}"
    tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
    times = []
    try:
        subprocess.run(
            [*tmux, "new-session", "-d", "-s", "b", "-x", "80", "-y", "24", "sleep 600"],
            check=True,
        )
        subprocess.run([*tmux, "set-option", "-t", "b", "remain-on-exit", "on"], check=True)
        for _ in range(runs):
            cmd = f"env LANG=C.UTF-8 '{app}' tui --data-dir '{data_dir}' --inspector nobody-here"
            t0 = time.perf_counter()
            subprocess.run([*tmux, "respawn-pane", "-k", "-t", "b", cmd], check=True)
            while time.perf_counter() - t0 < 60:
                shot = subprocess.run(
                    [*tmux, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True
                ).stdout
                if "共 " in shot and " 处" in shot:
                    times.append(time.perf_counter() - t0)
                    break
                time.sleep(0.02)
            subprocess.run([*tmux, "send-keys", "-t", "b", "C-q"])
            time.sleep(1.0)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    return times


def search_typing(data_dir: Path, packs: list[RulePack]) -> dict[str, float]:
    """Per-key time of an incremental search over every site (Pilot)."""
    from textual.pilot import Pilot

    from tui.app import make_app
    from tui.ledger_backend import LedgerBackend

    per_key: list[float] = []
    with Ledger.open(data_dir, clock=FixedClock(START), actor="nobody-here") as ledger:
        app = make_app(LedgerBackend(ledger, packs), resume=False)

        async def script(pilot: Pilot[None]) -> None:
            await pilot.press("slash")
            for key in "盂县秀水镇":
                t0 = time.perf_counter()
                await pilot.press(key)
                per_key.append((time.perf_counter() - t0) * 1000)

        async def main() -> None:
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                await script(pilot)

        asyncio.run(main())
    return {"search_key_p50_ms": statistics.median(per_key), "search_key_max_ms": max(per_key)}


def hazards_screen(data_dir: Path, packs: list[RulePack], opens: int = 5) -> dict[str, float]:
    """Press ``h`` on the site list until the hazards table has its rows, ``opens`` times (Esc
    between), then filter it by level; milliseconds through Pilot."""
    from textual.pilot import Pilot
    from textual.widgets import DataTable, Select

    from tui.app import make_app
    from tui.ledger_backend import LedgerBackend

    times: list[float] = []
    out: dict[str, float] = {}
    with Ledger.open(data_dir, clock=FixedClock(START), actor="nobody-here") as ledger:
        app = make_app(LedgerBackend(ledger, packs), resume=False)

        def rows(table_id: str) -> int:
            found = app.screen.query(table_id)
            return found.first(DataTable).row_count if found else 0

        async def script(pilot: Pilot[None]) -> None:
            while rows("#sites") == 0:
                await pilot.pause(0.005)
            await pilot.pause()
            for n in range(opens):
                t0 = time.perf_counter()
                await pilot.press("h")
                while rows("#hazards") == 0:
                    await pilot.pause(0.002)
                times.append((time.perf_counter() - t0) * 1000)
                await pilot.pause()
                if n < opens - 1:
                    await pilot.press("escape")
                    await pilot.pause()
            out["hazards"] = rows("#hazards")
            t0 = time.perf_counter()
            app.screen.query_one("#hz-level", Select).value = "一般"
            await pilot.pause()
            out["filter_ms"] = (time.perf_counter() - t0) * 1000

        async def main() -> None:
            async with app.run_test(size=(80, 24)) as pilot:
                await script(pilot)

        asyncio.run(main())
    out.update(first_ms=times[0], again_p50_ms=statistics.median(times[1:] or times))
    return out


def _print_hazards(parts: dict[str, float]) -> None:
    print(
        f"unresolved-hazards list ({int(parts['hazards'])} hazards), through Pilot: "
        f"first {parts['first_ms']:.0f} ms, again p50 {parts['again_p50_ms']:.0f} ms, "
        f"level filter {parts['filter_ms']:.0f} ms"
    )


def hazards_on(data_dir: Path) -> None:
    """The hazards list on a clone of ``data_dir`` (see the module docstring)."""
    from benchmarks.scenarios import clone_dir

    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        clone = Path(tmp) / "data"
        clone_dir(data_dir, clone)
        _print_hazards(hazards_screen(clone, load_packs()))


def run(sites: int, events: int, answers: int) -> None:
    """Build, measure, print."""
    packs = load_packs()
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        data = Path(tmp) / "data"
        built = build(data, packs, sites, events)
        print(
            f"field ledger: {int(built['sites'])} sites, {int(built['events'])} events "
            f"(built in {built['build_s']:.1f} s)"
        )
        cold = first_screen_cold(data)
        parts = first_screen_in_process(data)
        if cold:
            print(
                f"time to first screen (cold start in tmux, {len(cold)} runs): "
                f"median {statistics.median(cold):.2f} s, max {max(cold):.2f} s"
            )
        else:
            print("time to first screen (cold start): tmux not installed, skipped")
        print(
            "  of which, in process: import app {import_ms:.0f} ms, load packs {packs_ms:.0f} ms,"
            " open ledger {ledger_open_ms:.0f} ms, app to list drawn {app_ms:.0f} ms".format(
                **parts
            )
        )
        lat = walk_latency(data, packs, answers)
        print(f"answer key → next item shown with the answer durable ({int(lat['answers'])} keys):")
        in_app = f"p50 {lat['in_app_p50_ms']:.1f} ms   p95 {lat['in_app_p95_ms']:.1f} ms"
        print(f"  in app:        {in_app}")
        print(
            f"  through Pilot: p50 {lat['pilot_p50_ms']:.1f} ms   p95 {lat['pilot_p95_ms']:.1f} ms"
        )
        print(
            f"  next item on screen (before durable): p50 {lat['next_item_shown_p50_ms']:.1f} ms"
            f"   p95 {lat['next_item_shown_p95_ms']:.1f} ms"
        )
        print(f"  submit (evaluate, seal, orders; one write): p50 {lat['submit_p50_ms']:.0f} ms")
        typing = search_typing(data, packs)
        print(
            f"search over {sites} sites, per key through Pilot: "
            f"p50 {typing['search_key_p50_ms']:.0f} ms, max {typing['search_key_max_ms']:.0f} ms"
        )
        _print_hazards(hazards_screen(data, packs))


def main(argv: list[str] | None = None) -> None:
    """Entry point (``make bench``)."""
    parser = argparse.ArgumentParser(prog="bench_tui", description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--answers", type=int, default=150)
    parser.add_argument(
        "--hazards-on", type=Path, metavar="DIR", help="only the hazards list, on a clone of DIR"
    )
    args = parser.parse_args(argv)
    if args.hazards_on is not None:
        hazards_on(args.hazards_on)
        return
    run(args.sites, args.events, args.answers)


if __name__ == "__main__":
    main(sys.argv[1:])
