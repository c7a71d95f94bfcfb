"""Run every benchmark module listed in ``BENCHMARKS`` and print its report."""

from __future__ import annotations

import importlib

BENCHMARKS: list[str] = [
    "benchmarks.bench_ledger",
    "benchmarks.bench_engine",
    "benchmarks.bench_tui",
]
"""Benchmark modules, each exposing ``main() -> None``."""


def main() -> None:
    """Run each benchmark in turn."""
    if not BENCHMARKS:
        print("no benchmarks yet")
    for name in BENCHMARKS:
        print(f"== {name}")
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
