"""T11: two writer processes taking turns under the lock, two readers reading all the while.

Each writer opens the ledger (waiting for the lock), records one answer, closes, and repeats.
At the end every acknowledged answer is in the ledger, the count is exact, every chain verifies,
and no reader ever failed to read (no decode error, no damage report).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir
from tests.reliability import kit
from tests.reliability.harness import CHILD, ROOT

WRITES = 100


def test_two_writers_two_readers(tmp_path: Path) -> None:
    """0 lost writes, 0 decode errors, exact count."""
    data = tmp_path / "ledger"
    with Ledger.open(data, clock=kit.clock()) as led:
        led.register_sites([kit.site(0)])
    py = sys.executable
    readers = [
        subprocess.Popen([py, str(CHILD), "read", str(data)], stdout=subprocess.PIPE, cwd=ROOT)
        for _ in range(2)
    ]
    writers = [
        subprocess.Popen(
            [py, str(CHILD), "write", str(data), str(w), str(WRITES)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        for w in range(2)
    ]
    outs = [w.communicate(timeout=600) for w in writers]
    (data / "stop").touch()
    reads = [r.communicate(timeout=120)[0].decode().splitlines() for r in readers]
    for w, (_, err) in zip(writers, outs, strict=True):
        assert w.returncode == 0, err.decode()[-2000:]
    acked = {line.split()[1] for out, _ in outs for line in out.decode().splitlines()}
    errors = [line for lines in reads for line in lines if line.startswith("ERROR")]
    read_ok = sum(1 for lines in reads for line in lines if line.startswith("READ"))
    with Ledger.open(data, readonly=True) as led:
        answers = [e for e in led.events() if e.kind == "inspection.answered"]
        have = {e.event_id for e in answers}
    lost = acked - have
    print(
        f"\nT11 contention: 2 writers x {WRITES} writes, {len(acked)} acknowledged, "
        f"{len(answers)} in the ledger, lost {len(lost)}; 2 readers: {read_ok} reads, "
        f"{len(errors)} errors"
    )
    assert len(acked) == 2 * WRITES
    assert not lost
    assert len(answers) == 2 * WRITES
    assert not errors, errors[:3]
    assert read_ok > 0
    assert verify_data_dir(data).ok
