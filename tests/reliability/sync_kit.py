"""Shared material for the sync tests: a hub with enrolled laptops, work on them, bundles.

Also imported by the crash-test child processes, so it depends on nothing but
``inspect_engine`` and ``tests.reliability.kit``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from inspect_engine.events import Event
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir
from inspect_engine.packs import checklists_root, data_dir_sources
from inspect_engine.packstore import (
    STAGING,
    check_pack,
    folder_fingerprint,
    install_pack,
    read_pack_files,
)
from inspect_engine.sync.devices import enroll_laptop, init_hub
from inspect_engine.sync.protocol import (
    Summary,
    export_bundle,
    import_bundle,
    open_endpoint,
    run_direct,
)
from inspect_engine.sync.state import load_state
from tests.reliability import kit

OFFICE = "阳泉市帮扶督导组办公室"
PACK = "building-safety"
OLD_Q = "该建筑（工程）目前的建设状态"
NEW_Q = "该建筑（工程）目前的建设状态（2020年10月修订）"
SECTION = "sections/01-illegal-land-and-building.yaml"


@dataclass
class World:
    """A hub and its laptops, each a data directory under ``root``."""

    root: Path
    hub: Path
    laptops: dict[str, Path] = field(default_factory=dict)
    """inspector -> data directory."""
    minute: int = 0

    def clock(self) -> kit.FixedClock:
        """A clock a minute later than the last one handed out (events get distinct times)."""
        self.minute += 1
        return kit.clock(kit.T0 + dt.timedelta(minutes=self.minute))

    def ledger(self, who: str | None = None) -> Ledger:
        """Open the hub's (``who`` None) or a laptop's ledger for writing."""
        path = self.hub if who is None else self.laptops[who]
        return Ledger.open(path, clock=self.clock(), actor=who or OFFICE, wait=30)

    def device(self, who: str | None = None) -> str:
        """The device id of the hub or a laptop."""
        with Ledger.open(self.hub if who is None else self.laptops[who], readonly=True) as led:
            assert led.device_id is not None
            return led.device_id

    def export(self, who: str | None = None, *, to: str | None = None) -> bytes:
        """A bundle from a laptop to the hub, or (``who`` None) from the hub to laptop ``to``."""
        path = self.hub if who is None else self.laptops[who]
        recipient = None if to is None else self.device(to)
        with open_endpoint(path, clock=self.clock(), wait=30) as ep:
            data, _ = export_bundle(ep, recipient=recipient)
        return data

    def import_(self, data: bytes | Path, who: str | None = None) -> Summary:
        """Import a bundle into the hub (``who`` None) or a laptop."""
        path = self.hub if who is None else self.laptops[who]
        with open_endpoint(path, clock=self.clock(), wait=30) as ep:
            return import_bundle(ep, data)

    def run(self, who: str) -> tuple[Summary, Summary]:
        """Direct sync of one laptop with the hub."""
        with (
            open_endpoint(self.hub, clock=self.clock(), wait=30) as hub,
            open_endpoint(self.laptops[who], clock=self.clock(), wait=30) as lap,
        ):
            result = run_direct(lap, hub)
        return result.push, result.pull

    def copy(self, root: Path) -> World:
        """A copy of every data directory under ``root`` (to replay a scenario)."""
        shutil.copytree(self.root, root, symlinks=True)
        return World(
            root,
            root / self.hub.relative_to(self.root),
            {w: root / p.relative_to(self.root) for w, p in self.laptops.items()},
            self.minute,
        )


def make_world(root: Path, inspectors: list[str], *, sites: int = 6) -> World:
    """A hub with ``sites`` sites and one enrolled laptop per inspector, each synced once."""
    world = World(root, root / "hub")
    with world.ledger() as hub:
        init_hub(hub, office=OFFICE)
        hub.register_sites(
            [kit.site(i).model_copy(update={"inspector": inspectors[i % len(inspectors)]})
             for i in range(1, sites + 1)]
        )  # fmt: skip
    for who in inspectors:
        world.laptops[who] = root / f"laptop-{len(world.laptops) + 1}"
        with world.ledger() as hub, world.ledger(who) as lap:
            enroll_laptop(hub, lap, inspector=who)
        world.run(who)
    return world


def pack_version(dest: Path, version: str, *, question: str = NEW_Q) -> Path:
    """A copy of the program's building-safety pack as ``version``, one question reworded."""
    folder = dest / f"{PACK}-{version}"
    shutil.copytree(checklists_root() / PACK, folder)
    manifest = folder / "pack.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("version: 1.0.0", f"version: {version}", 1), "utf-8")
    section = folder / SECTION
    section.write_text(section.read_text(encoding="utf-8").replace(OLD_Q, question, 1), "utf-8")
    return folder


def install_into(data_dir: Path, folder: Path) -> str:
    """Check and install a pack folder into a data directory, as ``packs install`` does; what
    the check decided."""
    shipped = read_pack_files(folder)
    with Ledger.open(data_dir, clock=kit.clock(), wait=30) as led:
        verdict = check_pack(shipped, led.data_dir)
        if verdict.action == "install":
            install_pack(led.data_dir, shipped, led.ops)
    return verdict.action


def installed_packs(data_dir: Path) -> dict[str, str | None]:
    """``id version`` -> fingerprint of each pack a data directory received, plus a count of
    staging folders left behind (always expected to be 0 once a sync completed)."""
    out: dict[str, str | None] = {
        f"{s.id} {s.version}": folder_fingerprint(s.folder) for s in data_dir_sources(data_dir)
    }
    packs = data_dir / "packs"
    staging = [p for p in packs.glob("*/*") if p.name.startswith(STAGING)]
    out["staging"] = str(len(staging))
    return out


def inspect(world: World, who: str, site_id: str, *, findings: int = 1) -> list[str]:
    """Inspect a site on a laptop (two answers, ``findings`` findings); the finding ids."""
    with world.ledger(who) as led:
        insp = led.start_inspection(
            site_id,
            pack_id="building-safety",
            pack_version="1.0.0",
            method="open",
            inspectors=[who],
        )
        led.record_answer(insp.id, "BS.LAND.01", "yes")
        led.record_answer(insp.id, "BS.PLAN.01", "no", note="现场核实")
        states = led.submit_inspection(insp.id, [kit.finding(f"R{n}") for n in range(findings)])
        return [s.id for s in states]


def events_of(path: Path) -> list[Event]:
    """Every event of a data directory (read-only)."""
    with Ledger.open(path, readonly=True) as led:
        return led.events()


def digest(path: Path) -> str:
    """The ledger digest of a data directory."""
    with Ledger.open(path, readonly=True) as led:
        return led.digest()


def state_digest(path: Path) -> str:
    """The projection digest of a data directory."""
    with Ledger.open(path, readonly=True) as led:
        return led.projection.digest()


def duplicates(path: Path) -> int:
    """Events stored more than once (by id): must always be 0."""
    counts = Counter(e.event_id for e in events_of(path))
    return sum(n - 1 for n in counts.values())


def verifies(path: Path) -> bool:
    """Whether ``ledger verify`` finds no damage."""
    return verify_data_dir(path).ok


def checkpoints(path: Path) -> dict[str, int]:
    """The recorded checkpoint seq per device."""
    return {d: c.seq for d, c in load_state(path).checkpoints.items()}
