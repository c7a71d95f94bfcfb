"""The child process of the crash and contention tests. Run as a script::

    python tests/reliability/child_writer.py crash DATA_DIR SEED
    python tests/reliability/child_writer.py write DATA_DIR SEED COUNT
    python tests/reliability/child_writer.py read DATA_DIR

``crash``: opens the ledger (waiting for the lock), resumes or starts an inspection, records
answers, submits now and then, moves findings through the loop, and prints one ``ACK`` line after
each call returns (that is, after the change is durable), until it is killed.

``write``: COUNT times, opens the ledger (waiting for the lock), records one answer in this
writer's inspection, prints ``ACK``, closes: two of these contend for the lock.

``read``: opens read-only in a loop and prints ``READ <events>`` or ``ERROR <exception>`` until
``DATA_DIR/stop`` exists.
"""

from __future__ import annotations

import random
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from inspect_engine.clock import SystemClock  # noqa: E402
from inspect_engine.ledger import Ledger  # noqa: E402
from tests.reliability import kit  # noqa: E402

PACK = ("building-safety", "1.0.0")


def _ack(*parts: str) -> None:
    sys.stdout.write("ACK " + " ".join(parts) + "\n")
    sys.stdout.flush()


def crash(data_dir: Path, seed: int) -> None:
    """Write until killed, acknowledging each durable change."""
    rng = random.Random(seed)
    ledger = Ledger.open(data_dir, clock=SystemClock(), actor="child", wait=60)
    if not ledger.projection.sites:
        ledger.register_sites([kit.site(i) for i in range(5)])
        _ack("SITES")
    n = 0
    while True:
        mine = ledger.open_inspections()
        if mine:
            insp = mine[0]
        else:
            insp = ledger.start_inspection(
                f"S{rng.randrange(5):04d}",
                pack_id=PACK[0],
                pack_version=PACK[1],
                method=rng.choice(["明查", "暗访", "突击检查", "随机抽查"]),
                inspectors=["child"],
            )
            _ack("START", insp.id)
        for _ in range(rng.randint(2, 12)):
            value = f"{seed}-{n}"
            n += 1
            event = ledger.record_answer(insp.id, f"q{rng.randrange(40)}", value)
            _ack("EVENT", event.event_id)
        if rng.random() < 0.4:
            raised = [kit.finding(f"R{i}") for i in range(rng.randint(0, 2))]
            found = ledger.submit_inspection(insp.id, raised)
            _ack("SUBMIT", insp.id, *(f.id for f in found))
        proj = ledger.projection
        movable = [f for f in proj.findings.values() if f.is_open]
        if movable and rng.random() < 0.5:
            f = rng.choice(movable)
            status = f.status.value if f.status else ""
            if status == "open":
                ledger.start_rectification(f.id)
            elif status == "in_rectification":
                ledger.report_rectified(f.id, note="已整改")
            elif status == "reported":
                ledger.close_finding(f.id, verifier="复查组")
            _ack("EVENT", ledger.events()[-1].event_id)


def write(data_dir: Path, seed: int, count: int) -> None:
    """``count`` short sessions, each one answer under the lock."""
    inspection = None
    for n in range(count):
        with Ledger.open(data_dir, clock=SystemClock(), actor=f"w{seed}", wait=120) as ledger:
            if inspection is None:
                insp = ledger.start_inspection(
                    "S0000",
                    pack_id=PACK[0],
                    pack_version=PACK[1],
                    method="明查",
                    inspectors=[f"w{seed}"],
                )
                inspection = insp.id
            event = ledger.record_answer(inspection, f"q{n}", f"w{seed}-{n}")
            _ack(event.event_id)


def read(data_dir: Path) -> None:
    """Read-only opens in a loop until told to stop."""
    stop = data_dir / "stop"
    while not stop.exists():
        try:
            with Ledger.open(data_dir, readonly=True) as ledger:
                n = len(ledger.events())
                ledger.projection.digest()
            sys.stdout.write(f"READ {n}\n")
        except Exception as err:  # noqa: BLE001 - every failure is a finding of the test
            line = traceback.format_exception_only(err)[-1].strip()
            sys.stdout.write(f"ERROR {line}\n")
        sys.stdout.flush()


def main(argv: list[str]) -> None:
    """Dispatch on the mode (see the module docstring)."""
    mode, data_dir = argv[0], Path(argv[1])
    if mode == "crash":
        crash(data_dir, int(argv[2]))
    elif mode == "write":
        write(data_dir, int(argv[2]), int(argv[3]))
    elif mode == "read":
        read(data_dir)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
