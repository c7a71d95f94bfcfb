"""The SIGKILL loop shared by ``test_crash.py`` and ``scripts/crash_loop.py``.

One *trial*: start ``child_writer.py crash`` on a data directory, let it work for a random time
(sometimes killing it while it is still opening the ledger and recovering), ``SIGKILL`` it, then
reopen the ledger for writing (which runs the recovery: temp files removed, a half-done fold
finished) and check that every change the child acknowledged is there, and that the full
verification (every checksum, hash and chain) passes. Data directories are renewed every
``reset_every`` trials to keep each trial short.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from inspect_engine.errors import LedgerError
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir

CHILD = Path(__file__).with_name("child_writer.py")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CrashStats:
    """The figures of a crash loop."""

    kills: int = 0
    killed_during_open: int = 0
    acked_events: int = 0
    acked_submits: int = 0
    acked_starts: int = 0
    lost: int = 0
    unreadable: int = 0
    verify_failures: int = 0
    child_errors: int = 0
    temp_files_cleaned: int = 0
    stale_journals: int = 0
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    def add(self, other: CrashStats) -> None:
        """Add another loop's figures to these."""
        for name in self.__dataclass_fields__:
            value = getattr(other, name)
            if isinstance(value, int | float) and name != "seconds":
                setattr(self, name, getattr(self, name) + value)
        self.details += other.details

    def line(self) -> str:
        """One-line summary."""
        return (
            f"{self.kills} kills ({self.killed_during_open} during open/recovery), "
            f"{self.acked_events} acknowledged events, {self.acked_submits} submits, "
            f"lost {self.lost}, unreadable {self.unreadable}, verify failures "
            f"{self.verify_failures}, child errors {self.child_errors}, temp files cleaned "
            f"{self.temp_files_cleaned}, {self.seconds:.1f} s"
        )


def _trial(data_dir: Path, rng: random.Random, stats: CrashStats, max_delay: float) -> None:
    seed = rng.randrange(1 << 30)
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), "crash", str(data_dir), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[bytes] = []
    first = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.append(raw)
            first.set()
        first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if rng.random() < 0.1:
        stats.killed_during_open += 1
        time.sleep(rng.uniform(0.0, 0.3))
    else:
        first.wait(timeout=60)
        time.sleep(rng.uniform(0.0, max_delay))
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join(timeout=10)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.stdout.close()
    stats.kills += 1
    if not alive or proc.returncode != -signal.SIGKILL:
        stats.child_errors += 1
        stats.details.append(f"child exited by itself ({proc.returncode}): {err[-800:]}")

    events: set[str] = set()
    submits: set[str] = set()
    starts: set[str] = set()
    for raw in lines:
        if not raw.endswith(b"\n"):
            continue  # cut mid-line by the kill: not an acknowledgement
        parts = raw.decode().split()
        if parts[:2] == ["ACK", "EVENT"]:
            events.add(parts[2])
        elif parts[:2] == ["ACK", "SUBMIT"]:
            submits.add(parts[2])
        elif parts[:2] == ["ACK", "START"]:
            starts.add(parts[2])
    stats.acked_events += len(events)
    stats.acked_submits += len(submits)
    stats.acked_starts += len(starts)

    temps = [n for n in os.listdir(data_dir) if ".tmp-" in n]
    try:
        with Ledger.open(data_dir, wait=30) as ledger:
            stats.temp_files_cleaned += len(ledger.cleaned_temp)
            have = {e.event_id for e in ledger.events()}
            proj = ledger.projection
            missing = events - have
            missing |= {i for i in submits if proj.inspections[i].status != "submitted"}
            missing |= {i for i in starts if i not in proj.inspections}
    except LedgerError as error:
        stats.unreadable += 1
        stats.details.append(f"unreadable after kill: {error.message}")
        return
    if missing:
        stats.lost += len(missing)
        stats.details.append(f"lost {len(missing)} acknowledged changes (temps {temps})")
    report = verify_data_dir(data_dir)
    if not report.ok:
        stats.verify_failures += 1
        stats.details.append(f"verify: {report.problems[0].render()}")


def crash_loop(
    root: Path,
    kills: int,
    *,
    seed: int = 2020,
    workers: int = 2,
    reset_every: int = 25,
    max_delay: float = 0.25,
) -> CrashStats:
    """Run ``kills`` trials over ``workers`` parallel data directories under ``root``."""
    started = time.monotonic()
    results = [CrashStats() for _ in range(workers)]

    def work(w: int) -> None:
        rng = random.Random(seed * 1000 + w)
        share = kills // workers + (1 if w < kills % workers else 0)
        for i in range(share):
            data_dir = root / f"w{w}-{i // reset_every}"
            if i % reset_every == 0:
                shutil.rmtree(data_dir, ignore_errors=True)
                data_dir.mkdir(parents=True)
            _trial(data_dir, rng, results[w], max_delay)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = CrashStats()
    for r in results:
        total.add(r)
    total.seconds = time.monotonic() - started
    return total
