"""The crash test by hand, with as many kills as you like (CI runs 200).

    .venv/bin/python scripts/crash_loop.py --kills 2000 [--workers 2] [--seed 7] [--keep DIR]

Each kill: a child records answers and acknowledges each durable save; it is SIGKILLed at a random
moment; the ledger is reopened (recovery) and every acknowledged change checked, then the whole
ledger verified. Prints the figures; exits 1 if anything acknowledged was lost or a ledger could
not be read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reliability.harness import crash_loop  # noqa: E402


def main() -> int:
    """Run the loop and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-delay", type=float, default=0.25, help="seconds after first ACK")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        stats = crash_loop(
            args.keep, args.kills, seed=args.seed, workers=args.workers, max_delay=args.max_delay
        )
    else:
        with tempfile.TemporaryDirectory(prefix="crash-loop-") as tmp:
            stats = crash_loop(
                Path(tmp),
                args.kills,
                seed=args.seed,
                workers=args.workers,
                max_delay=args.max_delay,
            )
    print(stats.line())
    for line in stats.details[:20]:
        print("  " + line)
    bad = stats.lost or stats.unreadable or stats.verify_failures or stats.child_errors
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
