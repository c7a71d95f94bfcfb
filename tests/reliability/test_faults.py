"""T3: an I/O error (ENOSPC, EIO) at every write step in turn, once and from then on.

For each operation, each error and each mode, the k-th file-system call fails for k = 1, 2, ...
until the operation completes without reaching it. After each failure the user saw a
:class:`LedgerError`; reopening shows the ledger exactly as before the operation or exactly as
after it (never a part), every file verifies, and no temporary file survives the reopen. The
ledger object that saw the error re-reads and agrees with the reopened one.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspect_engine import ledger as ledger_mod
from inspect_engine.errors import LedgerError
from inspect_engine.events import Event
from inspect_engine.fsio import FileOps
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir
from tests.reliability import kit


class FaultyOps(FileOps):
    """File operations that raise ``OSError(code)`` at the ``fail_at``-th mutating call.

    ``persistent``: every call from then on fails too. A failing ``write`` first writes half
    its bytes (a short write, then the error), the way a filling disk behaves.
    """

    def __init__(self) -> None:
        self.armed = False
        self.fail_at: int | None = None
        self.persistent = False
        self.code = errno.ENOSPC
        self.calls = 0
        self.hit = False

    def _step(self) -> bool:
        if not self.armed:
            return False
        self.calls += 1
        if self.fail_at is None:
            return False
        due = self.calls == self.fail_at or (self.persistent and self.calls > self.fail_at)
        self.hit = self.hit or due
        return due

    def _raise(self) -> None:
        raise OSError(self.code, os.strerror(self.code))

    def makedirs(self, path: Path) -> None:
        if self._step():
            self._raise()
        super().makedirs(path)

    def mkstemp(self, directory: Path, prefix: str) -> tuple[int, str]:
        if self._step():
            self._raise()
        return super().mkstemp(directory, prefix)

    def fchmod(self, fd: int, mode: int) -> None:
        if self._step():
            self._raise()
        super().fchmod(fd, mode)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        if self._step():
            if len(data) > 1:
                super().write(fd, data[: len(data) // 2])
            self._raise()
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        if self._step():
            self._raise()
        super().fsync(fd)

    def close(self, fd: int) -> None:
        if self._step():
            super().close(fd)  # the descriptor is gone even when close reports an error
            self._raise()
        super().close(fd)

    def replace(self, src: str, dst: Path) -> None:
        if self._step():
            self._raise()
        super().replace(src, dst)

    def fsync_dir(self, directory: Path) -> None:
        if self._step():
            self._raise()
        super().fsync_dir(directory)

    def unlink(self, path: str | Path) -> None:
        if self._step():
            self._raise()
        super().unlink(path)


@dataclass
class Scenario:
    """One operation, and the kinds of the events it adds when it succeeds."""

    name: str
    run: Callable[[Ledger, dict[str, str]], object]
    kinds: list[str]


def _foreign_events(tmp: Path) -> list[Event]:
    other = tmp / "other-device"
    with Ledger.open(other, clock=kit.clock(), actor="office") as led:
        led.register_sites([kit.site(10), kit.site(11)])
        return led.events()


def _template(root: Path) -> tuple[Path, dict[str, str]]:
    """A ledger with sites, a submitted inspection with findings, and an open inspection."""
    base = root / "template"
    ids: dict[str, str] = {}
    with Ledger.open(base, clock=kit.clock(), actor="张三") as led:
        led.register_sites([kit.site(i) for i in range(4)])
        done = led.start_inspection(
            "S0001",
            pack_id="building-safety",
            pack_version="1.0.0",
            method="明查",
            inspectors=["张三"],
        )
        led.record_answer(done.id, "q1", "no")
        found = led.submit_inspection(done.id, [kit.finding("R1"), kit.finding("R2")])
        ids["finding"] = found[0].id
        insp = led.start_inspection(
            "S0002",
            pack_id="building-safety",
            pack_version="1.0.0",
            method="暗访",
            inspectors=["张三"],
        )
        led.record_answer(insp.id, "q1", "yes")
        led.record_answer(insp.id, "q2", 3.5)
        ids["open"] = insp.id
    return base, ids


def _scenarios(tmp: Path) -> list[Scenario]:
    foreign = _foreign_events(tmp)
    return [
        Scenario(
            "answer",
            lambda led, ids: led.record_answer(ids["open"], "q3", "yes"),
            ["inspection.answered"],
        ),
        Scenario(
            "submit",
            lambda led, ids: led.submit_inspection(ids["open"], [kit.finding("R3")]),
            ["inspection.submitted"],
        ),
        Scenario(
            "register_sites",
            lambda led, ids: led.register_sites(
                [kit.site(20), kit.site(21), kit.site(1, county=3)]
            ),
            ["site.registered", "site.registered", "site.updated"],
        ),
        Scenario(
            "import_events",
            lambda led, ids: led.import_events(foreign),
            ["site.registered", "site.registered"],
        ),
        Scenario(
            "rectify",
            lambda led, ids: led.start_rectification(ids["finding"]),
            ["finding.rectification_started"],
        ),
        Scenario(
            "evidence",
            lambda led, ids: led.attach_evidence(
                ids["open"], "q1", led.add_evidence(b"\x89PNG photo", name="a.png")
            ),
            ["inspection.answered"],
        ),
        Scenario("checkpoint", lambda led, ids: led.checkpoint(), []),
    ]


def _classify(before: list[str], reopened: Ledger, kinds: list[str]) -> str:
    events = reopened.events()
    got = [e.event_id for e in events]
    if got[: len(before)] != before:
        return "between: earlier events changed"
    added = [e.kind for e in events[len(before) :]]
    if not added:
        return "before"
    if added == kinds:
        return "after"
    return f"between: added {added}"


def _run_points(tmp: Path, scenario: Scenario, code: int, persistent: bool) -> dict[str, int]:
    base, ids = _template(tmp / f"{scenario.name}-{code}-{persistent}")
    figures = {"points": 0, "before": 0, "after": 0, "state": 0}
    k = 1
    while True:
        work = tmp / f"work-{scenario.name}"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(base, work)
        ops = FaultyOps()
        led = Ledger.open(work, clock=kit.clock(), actor="张三", ops=ops)
        before = [e.event_id for e in led.events()]
        ops.fail_at, ops.persistent, ops.code, ops.armed = k, persistent, code, True
        error: LedgerError | None = None
        try:
            scenario.run(led, ids)
        except LedgerError as err:
            error = err
        ops.armed = False
        if not ops.hit:
            assert error is None
            led.close()
            break
        figures["points"] += 1
        if error is None:
            # The one step allowed to fail quietly: saving the projection after the change was
            # made (a cache, docs/ledger.md "The saved state"); the change itself must stand.
            assert led.state_note.startswith("could not save the state"), (
                f"{scenario.name} k={k}: the I/O error was swallowed"
            )
            figures["state"] += 1
        else:
            assert os.strerror(code) in error.message, error.message
        survivor = [e.event_id for e in led.events()]  # re-reads after the failure
        led.close()
        with Ledger.open(work, clock=kit.clock()) as again:
            state = _classify(before, again, scenario.kinds)
            assert [e.event_id for e in again.events()] == survivor
        assert state in ("before", "after"), f"{scenario.name} k={k}: {state}"
        assert error is not None or state == "after" or not scenario.kinds, (
            f"{scenario.name} k={k}: lost quietly"
        )
        figures[state] += 1
        assert verify_data_dir(work).ok
        assert not [n for n in os.listdir(work) if ".tmp-" in n], "temp file left after reopen"
        k += 1
    return figures


SCENARIO_NAMES = [
    "answer",
    "submit",
    "register_sites",
    "import_events",
    "rectify",
    "evidence",
    "checkpoint",
]


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "persistent"])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO], ids=["ENOSPC", "EIO"])
@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_io_error_at_every_step_leaves_before_or_after(
    tmp_path: Path, name: str, code: int, persistent: bool
) -> None:
    """Every injection point: the error reaches the caller; the ledger is old or new."""
    scenario = next(s for s in _scenarios(tmp_path) if s.name == name)
    figures = _run_points(tmp_path, scenario, code, persistent)
    print(
        f"\nT3 {name} {errno.errorcode[code]} {'persistent' if persistent else 'once'}: "
        f"{figures['points']} injection points, {figures['before']} left before, "
        f"{figures['after']} left after ({figures['state']} of them with the state not saved), "
        "0 between"
    )
    assert figures["points"] >= 1


def test_fault_when_the_fold_threshold_is_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer that triggers an automatic fold fails cleanly at every step too."""

    def answer_and_fold(led: Ledger, ids: dict[str, str]) -> object:
        monkeypatch.setattr(ledger_mod, "FOLD_AT", 2)  # the journal holds 2: this one folds
        return led.record_answer(ids["open"], "q9", "no")

    scenario = Scenario("fold", answer_and_fold, ["inspection.answered"])
    figures = _run_points(tmp_path, scenario, errno.EIO, False)
    assert figures["points"] >= 8  # two file replacements' worth of steps


def test_fault_while_creating_the_ledger(tmp_path: Path) -> None:
    """The first open writes the device identity: a failure leaves no ledger or a whole one."""
    k = 1
    while True:
        work = tmp_path / f"new-{k}"
        ops = FaultyOps()
        ops.fail_at, ops.armed = k, True
        try:
            Ledger.open(work, clock=kit.clock(), ops=ops).close()
        except LedgerError:
            assert ops.hit
            report = verify_data_dir(work)
            assert report.ok  # no ledger, or a complete one
            with Ledger.open(work, clock=kit.clock()) as again:
                assert again.device_id is not None
            k += 1
            continue
        assert not ops.hit, "an I/O error was swallowed"
        break
    assert k > 5


def test_fault_while_writing_a_backup(tmp_path: Path) -> None:
    """A failed backup raises and leaves no backup file (and the ledger untouched)."""
    base, _ = _template(tmp_path)
    before = kit.files_digest(base)
    k = 1
    while True:
        ops = FaultyOps()
        with Ledger.open(base, clock=kit.clock(), ops=ops, readonly=True) as led:
            ops.fail_at, ops.armed = k, True
            dest = tmp_path / "backups" / f"b{k}.db"
            try:
                led.backup(dest)
            except LedgerError:
                assert ops.hit
                assert not dest.exists() or ops.calls >= k  # fsync of the folder failed last
                k += 1
                continue
        break
    assert kit.files_digest(base) == before
    assert k > 5
