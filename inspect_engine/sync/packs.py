"""Rule packs in bundles: the hub sends the packs in force on it; a laptop checks, then installs.

Members are ``packs/<pack id>/<version>/<path in the pack folder>``
(:data:`~inspect_engine.sync.bundle.PACK_NAME`), one version per pack id, each file hashed in
the signed manifest like every other member. What a pack's files are, how an arriving pack is
checked and how it is installed is :mod:`inspect_engine.packstore`; this module maps that onto
bundles and refusal reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inspect_engine.errors import InspectError
from inspect_engine.fsio import FileOps
from inspect_engine.packs import MANIFEST, pack_sources
from inspect_engine.packstore import (
    PackFiles,
    PackRejected,
    Verdict,
    check_pack,
    install_pack,
    read_pack_files,
)
from inspect_engine.sync.bundle import PACK_NAME, PACKS_DIR, Bundle
from inspect_engine.sync.reasons import Reason, Refused

_REASONS = {
    "invalid": Reason.PACK_INVALID,
    "downgrade": Reason.PACK_DOWNGRADE,
    "conflict": Reason.PACK_CONFLICT,
}


@dataclass
class HubPacks:
    """The packs a hub sends: their members, and the packs it could not send (broken)."""

    members: dict[str, bytes] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    """``id version`` of each pack carried."""
    skipped: list[str] = field(default_factory=list)
    """``id: why`` of each pack in force on the hub that does not load (never sent)."""


def hub_packs(data_dir: Path) -> HubPacks:
    """The members for every pack in force on the hub (the program's and its data directory's,
    the highest version of each id); a pack that does not load is skipped and named."""
    out = HubPacks()
    for source in pack_sources(data_dir):
        try:
            pack = read_pack_files(source.folder)
        except InspectError as err:
            out.skipped.append(f"{source.id}: {err.message}")
            continue
        if not PACK_NAME.fullmatch(f"{PACKS_DIR}{pack.id}/{pack.version}/{MANIFEST}"):
            out.skipped.append(f"{source.id}: {pack.label} cannot be a bundle member name")
            continue
        out.members.update(members_of(pack))
        out.sent.append(pack.label)
    return out


def members_of(pack: PackFiles) -> dict[str, bytes]:
    """A pack's bundle members."""
    return {f"{PACKS_DIR}{pack.id}/{pack.version}/{rel}": data for rel, data in pack.files.items()}


def shipped_packs(bundle: Bundle) -> list[PackFiles]:
    """The packs a bundle carries, each file read and checked against its manifest hash."""
    grouped: dict[tuple[str, str], dict[str, bytes]] = {}
    for name in bundle.pack_members:
        m = PACK_NAME.fullmatch(name)
        if m is None:  # the reader admits no other name under packs/
            raise Refused(Reason.UNEXPECTED_MEMBER, f"{name} is not a rule-pack file name")
        grouped.setdefault((m["id"], m["version"]), {})[m["path"]] = bundle.read(name)
    versions: dict[str, str] = {}
    for pack_id, version in sorted(grouped):
        if pack_id in versions:
            raise Refused(
                Reason.PACK_INVALID,
                f"two versions of rule pack {pack_id} ({versions[pack_id]}, {version})",
            )
        versions[pack_id] = version
    return [PackFiles(i, v, files) for (i, v), files in sorted(grouped.items())]


def refuse_laptop_packs(bundle: Bundle) -> None:
    """A laptop's bundle carries no rule packs: packs flow from the hub only."""
    names = bundle.pack_members
    if names:
        raise Refused(
            Reason.PACK_FROM_LAPTOP,
            f"a laptop's bundle carries {len(names)} rule-pack file(s) ({names[0]}); rule packs "
            "come from the hub only",
        )


def verify_packs(data_dir: Path, bundle: Bundle) -> list[Verdict]:
    """Check every pack a hub's bundle carries against this data directory; writes nothing."""
    verdicts = []
    for shipped in shipped_packs(bundle):
        prefix = f"{PACKS_DIR}{shipped.id}/{shipped.version}"
        try:
            verdicts.append(check_pack(shipped, data_dir, display=prefix))
        except PackRejected as err:
            raise Refused(_REASONS[err.kind], err.message) from None
    return verdicts


def install_packs(data_dir: Path, verdicts: list[Verdict], ops: FileOps) -> list[str]:
    """Install the checked packs that are new here (after the events are durable); their
    ``id version``. Hold the writer lock."""
    installed = []
    for verdict in verdicts:
        if verdict.action == "install":
            install_pack(data_dir, verdict.pack, ops)
            installed.append(verdict.pack.label)
    return installed
