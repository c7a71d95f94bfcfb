"""``make bench``: the city-scale scenarios in one table, also written as JSON.

Run: ``python -m benchmarks [--scale S] [--seed N] [--only a,b] [--json PATH] [--legacy]``.
The scale defaults to ``$BENCH_SCALE`` or 1.0 (the city: 20,000 sites); the generated ledgers
are cached in ``.bench-cache/`` (:mod:`benchmarks.citygen`), so only the first run at a scale
generates (the time it took is printed). Each scenario runs in a child process
(:mod:`benchmarks.scenarios`) and reports its peak memory.

The table states each scenario's target and whether it is met; ``--json`` (default
``benchmarks/results/latest.json``) gets the same figures with the machine they ran on.
``--legacy`` also runs the older single-purpose benchmarks in :data:`BENCHMARKS` (each is
still runnable alone: ``python -m benchmarks.bench_ledger``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.scenarios import SCENARIOS

BENCHMARKS: list[str] = [
    "benchmarks.bench_ledger",
    "benchmarks.bench_engine",
    "benchmarks.bench_tui",
]
"""The older benchmark modules (``--legacy``), each exposing ``main() -> None``."""

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM, Python and OS of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = 0.0
    try:
        ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "load_avg_1m_at_start": round(load[0], 2),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram_gb, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def _child(args: list[str]) -> dict[str, Any]:
    """Run ``python -m benchmarks.scenarios ARGS``; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scenarios", *args],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}"}
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms" or value >= 100:
        return f"{value:,.1f} {unit}".replace(".0 insp", " insp")
    return f"{value:.3g} {unit}"


def table(results: list[dict[str, Any]]) -> str:
    """The results as one plain-text table (also valid Markdown)."""
    head = ["scenario", "measured", "baseline", "ratio", "target", "met", "peak MB"]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["name"], "error", "", "", "", "✗", ""])
            continue
        base = _fmt(r["baseline"], r["unit"])
        if r["baseline"] is not None:
            base += f" ({r['baseline_label']})"
        met = {True: "yes", False: "NO", None: "n/a"}[r["met"]]
        rows.append(
            [
                r["title"],
                _fmt(r["measured"], r["unit"]) if r["measured"] is not None else "not available",
                base,
                "—" if r["ratio"] is None else f"{r['ratio']:.1f}×",
                r["target"],
                met,
                f"{r['peak_mb']:.0f}",
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Prepare, run every scenario in its own process, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--legacy", action="store_true", help="also run BENCHMARKS")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(SCENARIOS)})")
    host = machine()
    print(
        f"machine: {host['cpu']}, {host['cores']} cores, {host['ram_gib']} GiB RAM, "
        f"Python {host['python']}, {host['os']}; load average {host['load_avg_1m_at_start']}"
    )
    prep = _child(["prepare", "--scale", str(args.scale), "--seed", str(args.seed)])
    if "error" in prep:
        sys.exit(f"preparing the generated ledgers failed ({prep['error']})")
    for which in ("city", "field"):
        c = prep[which]
        how = "cached" if c["cached"] else "generated now"
        print(
            f"{which} ledger: scale {c['scale']:g}, {c['sites']:,} sites, {c['inspections']:,} "
            f"inspections, {c['devices']} devices, {c['events']:,} events "
            f"({(c['events'] - c['sites']) / c['inspections']:.1f} per inspection with its "
            f"answers and follow-up), {c['ledger_mb']} MB ({how}; generation took "
            f"{c['generate_s']} s)"
        )
    print(f"prepared in {prep['prepare_s']} s (generation included when it happened)")
    results = []
    for name in names:
        print(f"  running {name} …", file=sys.stderr, flush=True)
        r = _child(["run", name, "--scale", str(args.scale), "--seed", str(args.seed)])
        r.setdefault("name", name)
        results.append(r)
    print(table(results))
    for r in results:
        if r.get("note"):
            print(f"  {r['name']}: {r['note']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": host,
        "scale": args.scale,
        "seed": args.seed,
        "ledgers": {k: prep[k] for k in ("city", "field")},
        "results": results,
    }
    args.json.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"written: {args.json}")
    if args.legacy:
        for module in BENCHMARKS:
            print(f"== {module}")
            importlib.import_module(module).main()


if __name__ == "__main__":
    main()
