"""Crash driver for the sync kill tests: SIGKILL a sync command at every point, re-run, compare.

Run as ``python -m tests.reliability.sync_crash SPEC.json``; prints one JSON result. The driver
imports everything once, then for each crash point forks a child that runs the CLI command with a
hook installed, and the hook ``SIGKILL``\\ s the child at the chosen point:

* ``step``: the k-th named step of the protocol (``inspect_engine.sync.protocol.STEPS``);
* ``io``: the k-th file-system call that changes something (``write`` — which writes half its
  bytes first, a torn write —, ``fsync``, ``replace``, ``fsync_dir``, ``unlink``), through
  :class:`inspect_engine.fsio.FileOps`, which every ledger, evidence, state and bundle write uses;
* ``random``: no hook; the parent kills the child after a random delay (up to the duration of
  the uninterrupted run).

k advances from 1 until the command completes without reaching it (SQLite's loop). After each kill
the same command is run again without a hook (it must succeed), and the data directories are
compared with a reference run that was never interrupted.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspect_engine.cli.main import build_parser
from inspect_engine.cli.main import main as cli_main
from inspect_engine.fsio import FileOps
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir
from inspect_engine.sync import protocol
from inspect_engine.sync.bundle import open_bundle
from inspect_engine.sync.packs import hub_packs
from inspect_engine.sync.reasons import Refused
from inspect_engine.sync.state import load_state
from tests.reliability.sync_kit import installed_packs

MUTATING = ("write", "fsync", "replace", "fsync_dir", "unlink")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _install_step_hook(k: int) -> None:
    count = 0

    def hook(name: str) -> None:
        nonlocal count
        count += 1
        if count == k:
            _die()

    protocol.STEP_HOOK = hook


def _install_io_hook(k: int) -> None:
    count = 0

    def wrap(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: FileOps, *args: Any, **kwargs: Any) -> Any:
            nonlocal count
            count += 1
            if count == k:
                if name == "write":  # a torn write: half the bytes reach the file, then death
                    fd, data = args[0], args[1]
                    os.write(fd, bytes(data[: max(1, len(data) // 2)]))
                _die()
            return original(self, *args, **kwargs)

        return wrapper

    for name in MUTATING:
        setattr(FileOps, name, wrap(name, getattr(FileOps, name)))


def _fork_run(argv: list[str], mode: str, k: int, delay: float = 0.0) -> int | str:
    """Run the CLI in a forked child; its exit code, or ``"killed"``."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 70
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            if mode == "step":
                _install_step_hook(k)
            elif mode == "io":
                _install_io_hook(k)
            code = cli_main(argv)
        finally:
            os._exit(code)
    if delay:
        time.sleep(delay)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return "killed"
    return os.WEXITSTATUS(status)


def _bundle_facts(path: Path) -> dict[str, Any]:
    try:
        bundle = open_bundle(path)
        bundle.verify_contents()
    except Refused as err:
        return {"bundle_ok": False, "bundle_reason": err.reason.value}
    m = bundle.manifest
    return {"bundle_ok": True, "bundle_events": m.event_count, "bundle_chains": len(m.chains)}


def snapshot(dirs: dict[str, Path], bundle: Path | None = None) -> dict[str, Any]:
    """What must match the reference: digests, duplicates, damage, checkpoints, registry size."""
    out: dict[str, Any] = {}
    if bundle is not None:
        out["bundle"] = _bundle_facts(bundle)
    for name, path in dirs.items():
        if not (path / "ledger.db").exists():
            out[name] = None
            continue
        with Ledger.open(path, readonly=True) as led:
            events = led.events()
            ids = Counter(e.event_id for e in events)
            out[name] = {
                "digest": led.digest(),
                "state_digest": led.projection.digest(),
                "events": len(events),
                "ids": sorted(ids),
                "duplicates": sum(n - 1 for n in ids.values()),
                "enrollments": sum(1 for e in events if e.kind == "device.enrolled"),
                "checkpoints": {d: c.seq for d, c in load_state(path).checkpoints.items()},
                "pinned": load_state(path).hub is not None,
                "verifies": verify_data_dir(path).ok,
                "packs": installed_packs(path),
            }
    return out


def _fresh(template: Path, work: Path) -> None:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work, symlinks=True)


def drive(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario through every crash point (see the module docstring)."""
    template, work = Path(spec["template"]), Path(spec["work"])
    argv: list[str] = spec["argv"]
    dirs = {name: work / rel for name, rel in spec["dirs"].items()}
    bundle = work / spec["bundle"] if spec.get("bundle") else None
    compare: list[str] = spec["compare"]
    _fresh(template, work)
    started = time.monotonic()
    assert _fork_run(argv, "none", 0) == 0, "the reference run failed"
    duration = time.monotonic() - started  # random kills land within this
    reference = snapshot(dirs, bundle)
    result: dict[str, Any] = {"points": 0, "killed": 0, "reruns_ok": 0, "mismatches": []}
    rng = random.Random(spec.get("seed", 1))
    k = 0
    while True:
        k += 1
        if spec["mode"] == "random":
            if k > spec["kills"]:
                break
            _fresh(template, work)
            got = _fork_run(argv, "random", 0, delay=rng.uniform(0.0, duration * 1.1))
        else:
            _fresh(template, work)
            got = _fork_run(argv, spec["mode"], k)
            if got != "killed":
                assert got == 0, f"point {k}: the command failed with exit {got}"
                break
        result["points"] += 1
        if got == "killed":
            result["killed"] += 1
        rerun = _fork_run(argv, "none", 0)
        if rerun != 0:
            result["mismatches"].append(f"point {k}: the re-run exited {rerun}")
            continue
        result["reruns_ok"] += 1
        now = snapshot(dirs, bundle)
        if bundle is not None and now["bundle"] != reference["bundle"]:
            result["mismatches"].append(f"point {k}: bundle {now['bundle']}")
        for name in dirs:
            mine, ref = now[name], reference[name]
            for key in compare:
                if (mine or {}).get(key) != (ref or {}).get(key):
                    result["mismatches"].append(
                        f"point {k}: {name}.{key} differs: "
                        f"{(mine or {}).get(key)} != {(ref or {}).get(key)}"[:300]
                    )
    result["reference"] = {
        n: {key: v for key, v in (snap or {}).items() if key != "ids"}
        for n, snap in reference.items()
    }
    return result


def main() -> int:
    """Read the spec file named on the command line; print the result as JSON."""
    build_parser()  # import every command module once, before forking
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    # Validate the hub's rule packs once, before forking: validation is memoised by content, so
    # each child starts warm instead of spending most of its run re-checking the same packs.
    hub_packs(Path(spec["template"]) / "hub")
    print(json.dumps(drive(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
