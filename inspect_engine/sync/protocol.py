"""The sync protocol: export a signed bundle, import one after verifying everything, direct sync.

One protocol, two transports. ``sync export``/``sync import`` carry a bundle file (sneakernet);
``sync run`` moves the very same bundle bytes between two data directories reachable as paths
(a shared folder, a USB disk holding the hub), through the very same checks.

Export (read-only on the ledger)
--------------------------------
A laptop exports its own chain to its hub, from the seq the hub last said it holds (the ``have``
vector of the hub's last bundle imported here). The hub exports to one enrolled laptop every
other device's chain from where that laptop last said it was: site registrations, other
inspectors' work, enrollments; and the rule packs in force on the hub (:mod:`.packs`). The
manifest carries the exporter's own ``have`` vector, which is
the acknowledgement the other side uses next time. Re-exporting what was already sent is
harmless: the importer finds it already present.

Import (nothing is written until everything is verified)
--------------------------------------------------------
1. the archive: size, entries, zip-bomb and path checks, manifest and version
   (:func:`~inspect_engine.sync.bundle.open_bundle`);
2. the signer: enrolled in this ledger's registry, with the key the manifest names, the
   signature valid, the bundle addressed to this ledger, a laptop only to its hub and a hub only
   to its laptops;
3. the contents: every member's size and SHA-256 against the manifest;
4. the events: each one well-formed with a valid hash, chains contiguous and linked and exactly
   as the manifest declares, a laptop's bundle carrying only its own events and no rule pack;
5. against this ledger: no replay (the signer's position is not older than its checkpoint here),
   no gap, no fork (overlapping events identical);
6. the rule packs a hub's bundle carries: each one valid (checked in a temporary folder), not
   older than the version installed here, not a changed copy of a version held here
   (:func:`inspect_engine.packstore.check_pack`);
7. then: evidence blobs stored by content hash, the new events appended in one durable write
   (:meth:`~inspect_engine.ledger.Ledger.import_events`), the new packs installed (each in one
   rename), and only after that the checkpoints and the peer's ``have`` vector
   (:mod:`inspect_engine.sync.state`).

A kill at any step leaves either nothing or a durable prefix of this sequence; re-running the
same import completes it (already-present events are skipped by id and hash).

What an import reads of the ledger
----------------------------------
Never the event log: a city ledger keeps its sealed events on disk until something needs
them all. The registry comes from the projection's enrollments (:func:`.devices.registry`),
the checks against the ledger from :meth:`~inspect_engine.ledger.Ledger.heads` and the
stored hashes of the bundle's own event ids (:meth:`~inspect_engine.ledger.Ledger.event_hashes`),
and the summary's conflict counts from the projection plus the events of the findings that can
be in conflict (:func:`.conflicts.list_conflicts`). An export reads the chains the recipient
lacks (:meth:`~inspect_engine.ledger.Ledger.events_since`), and only for devices it lacks events of.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inspect_engine.clock import Clock
from inspect_engine.errors import InputError, RefusedError
from inspect_engine.events import Event, Head, canonical, document_problem, link_problem
from inspect_engine.ledger import Ledger
from inspect_engine.packstore import Verdict
from inspect_engine.sync import keys
from inspect_engine.sync.bundle import (
    EVENTS,
    SIGN_DOMAIN,
    Bundle,
    BundleDraft,
    ChainRange,
    Have,
    Limits,
    build,
    open_bundle,
)
from inspect_engine.sync.conflicts import list_conflicts
from inspect_engine.sync.devices import ENROLL_KIND, Device, registry, role_of
from inspect_engine.sync.packs import hub_packs, install_packs, refuse_laptop_packs, verify_packs
from inspect_engine.sync.reasons import Reason, Refused
from inspect_engine.sync.state import Checkpoint, Peer, Position, SyncState, load_state, save_state

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as work advances (the CLI prints it to stderr)."""

STEP_HOOK: Callable[[str], None] | None = None
"""Test hook: called with the name of each step (see :data:`STEPS`) as it is reached; the
crash tests kill the process there. ``None`` in normal use."""

STEPS = (
    "import:verified",
    "import:evidence",
    "import:appended",
    "import:packs",
    "import:checkpointed",
    "export:built",
    "run:pushed",
)
"""The named steps :data:`STEP_HOOK` sees, in the order an import/export/run reaches them."""


def _step(name: str) -> None:
    if STEP_HOOK is not None:
        STEP_HOOK(name)


def _no_progress(stage: str, done: int, total: int) -> None:
    """The default progress callback: silent."""


@dataclass
class Summary:
    """What one export or import did (``sync`` prints it; ``--format json`` emits it)."""

    action: str
    """``export`` or ``import``; ``push`` and ``pull`` for the two halves of a direct sync."""
    bundle_id: str = ""
    signer: str = ""
    recipient: str = ""
    events: int = 0
    """Events in the bundle: sent (export) or received (import)."""
    new: int = 0
    """Events this ledger did not have (import)."""
    already_present: int = 0
    evidence: int = 0
    """Evidence files carried."""
    conflicts: int = 0
    """Conflicts that exist after this import and did not before."""
    conflicts_total: int = 0
    refused: str | None = None
    """The reason code when the bundle was refused (then nothing was imported)."""
    detail: str = ""
    chains: dict[str, list[int]] = field(default_factory=dict)
    """device -> [first seq, last seq] carried."""
    packs: list[str] = field(default_factory=list)
    """``id version`` of each rule pack carried (hub to laptop)."""
    packs_installed: list[str] = field(default_factory=list)
    """``id version`` of each pack this import installed (the others were here already)."""
    packs_skipped: list[str] = field(default_factory=list)
    """Export: ``id: why`` of each pack the hub could not send (it does not load there)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


# --------------------------------------------------------------------------- endpoints


@dataclass
class Endpoint:
    """One data directory taking part in sync: its ledger (open for writing) and sync state."""

    ledger: Ledger
    state: SyncState

    @property
    def data_dir(self) -> Path:
        """The data directory."""
        return self.ledger.data_dir

    @property
    def device_id(self) -> str:
        """This ledger's device id."""
        assert self.ledger.device_id is not None
        return self.ledger.device_id

    @property
    def hub_id(self) -> str | None:
        """The hub this ledger trusts (itself on the hub)."""
        return self.state.hub.device_id if self.state.hub else None

    def registry(self) -> dict[str, Device]:
        """The enrolled devices this ledger trusts: the hub's enrollments, and the pinned hub.

        The pin is the trust anchor: a laptop knows its hub's key from enrollment, before it
        holds any of the hub's events, and the pinned key is the one that counts.
        """
        devices = registry(self.ledger, self.hub_id)
        pin = self.state.hub
        if pin is not None:
            known = devices.get(pin.device_id)
            devices[pin.device_id] = Device(
                pin.device_id,
                "hub",
                known.inspector if known else "",
                pin.public_key,
                known.event_id if known else "",
                known.time if known else "",
            )
        return devices

    def require_enrolled(self) -> str:
        """This ledger's role; :class:`InputError` when it is not enrolled."""
        role = role_of(self.ledger, self.state)
        if role is None:
            raise InputError(
                f"{self.data_dir} is not enrolled for sync",
                hint="inspect-engine sync enroll --as-hub (the office) or "
                "sync enroll --hub HUB_DIR --inspector NAME (a laptop)",
            )
        return role


@contextlib.contextmanager
def open_endpoint(
    data_dir: Path | str | None,
    *,
    clock: Clock | None = None,
    actor: str = "",
    wait: float = 0.0,
    readonly: bool = False,
) -> Iterator[Endpoint]:
    """Open a data directory for sync: its ledger (for writing: the lock), then its state.

    ``readonly`` is enough to export (a consistent snapshot, no lock: the app may be running).
    """
    with Ledger.open(data_dir, clock=clock, actor=actor, wait=wait, readonly=readonly) as ledger:
        if ledger.device_id is None:
            raise InputError(f"no ledger at {ledger.data_dir}")
        yield Endpoint(ledger, load_state(ledger.data_dir))


# --------------------------------------------------------------------------- export


def _have(ledger: Ledger) -> dict[str, Have]:
    """The exporter's holdings per device; always names the exporter itself (seq 0 if empty)."""
    have = {d: Have(seq=h.seq, head=h.hash) for d, h in sorted(ledger.heads().items())}
    assert ledger.device_id is not None
    have.setdefault(ledger.device_id, Have(seq=0, head=None))
    return have


def _evidence_refs(event: Event) -> list[str]:
    refs = event.payload.get("evidence")
    if not isinstance(refs, list):
        return []
    return [r["sha256"] for r in refs if isinstance(r, dict) and isinstance(r.get("sha256"), str)]


def _read_evidence(ledger: Ledger, digest: str) -> bytes | None:
    got = ledger.ops.read(ledger.evidence_path(digest))
    if got is None or hashlib.sha256(got[0]).hexdigest() != digest:
        return None  # absent here (only its hash travels) or damaged (never sent)
    return got[0]


def export_bundle(
    ep: Endpoint,
    *,
    recipient: str | None = None,
    since: dict[str, int] | None = None,
    progress: Progress = _no_progress,
) -> tuple[bytes, Summary]:
    """Build a signed bundle for ``recipient`` (default: this laptop's hub). Writes nothing.

    ``since`` (device -> seq) overrides what the recipient is assumed to hold; the default is
    the ``have`` vector of the recipient's last bundle imported here, else nothing (send all).
    """
    role = ep.require_enrolled()
    me = ep.device_id
    if role == "laptop":
        target = recipient or ep.hub_id
        if target != ep.hub_id:
            raise InputError("a laptop exports to its hub only")
    else:
        if recipient is None:
            raise InputError("the hub exports to one laptop: name it with --for DEVICE")
        target = resolve_device(ep, recipient)
        if target == me:
            raise InputError("the hub cannot export to itself")
    assert target is not None
    if since is None:
        peer = ep.state.peers.get(target)
        since = {d: p.seq for d, p in peer.have.items()} if peer else {}
    heads = ep.ledger.heads()
    devices = [me] if role == "laptop" else sorted(d for d in heads if d != target)
    chains: list[ChainRange] = []
    events: list[Event] = []
    for device in devices:
        head = heads.get(device)
        if head is None or head.seq <= since.get(device, 0):
            continue  # nothing the recipient lacks: the chain is not read at all
        chain = ep.ledger.events_since(device, since.get(device, 0))
        if not chain:
            continue
        chains.append(
            ChainRange(
                device=device,
                first=chain[0].seq,
                last=chain[-1].seq,
                prev=chain[0].prev,
                head=chain[-1].hash,
            )
        )
        events += chain
    evidence: dict[str, bytes] = {}
    for event in events:
        for digest in _evidence_refs(event):
            if digest not in evidence and (blob := _read_evidence(ep.ledger, digest)) is not None:
                evidence[digest] = blob
    packs = hub_packs(ep.data_dir) if role == "hub" else None
    draft = BundleDraft(
        device=me,
        recipient=target,
        events_jsonl=b"".join(canonical(e.to_doc()) + b"\n" for e in events),
        event_count=len(events),
        chains=chains,
        have=_have(ep.ledger),
        evidence=evidence,
        packs=packs.members if packs else {},
        created=ep.ledger.clock.now().isoformat(),
    )
    data = build(draft, keys.load_key(ep.data_dir))
    limit = Limits().max_bundle_bytes
    if len(data) > limit:
        raise InputError(
            f"the bundle would be {len(data)} bytes, over the {limit}-byte limit an importer "
            "accepts (mostly evidence files)",
            hint="a bundle carries the evidence files of the events it sends; these are more "
            "than one bundle may hold (docs/sync.md, 'Limits')",
        )
    progress("export", len(events), len(events))
    _step("export:built")
    summary = Summary(
        action="export",
        bundle_id=draft.bundle_id,
        signer=me,
        recipient=target,
        events=len(events),
        evidence=len(evidence),
        chains={c.device: [c.first, c.last] for c in chains},
        packs=packs.sent if packs else [],
        packs_skipped=packs.skipped if packs else [],
    )
    return data, summary


def resolve_device(ep: Endpoint, name: str) -> str:
    """An enrolled device by id, unique id prefix (>= 4 characters) or unique inspector name."""
    devices = ep.registry()
    if name in devices:
        return name
    matches = [d for d in devices.values() if len(name) >= 4 and d.device_id.startswith(name)]
    matches = matches or [d for d in devices.values() if d.inspector == name]
    if len(matches) == 1:
        return matches[0].device_id
    if not matches:
        raise InputError(f"no enrolled device {name!r}", hint="inspect-engine sync status")
    raise InputError(f"{name!r} names {len(matches)} devices; give the device id")


# --------------------------------------------------------------------------- import


@dataclass
class _Verified:
    """A bundle that passed every check, with what importing it will write."""

    bundle: Bundle
    signer: Device
    events: list[Event]
    new: list[Event]
    present: int
    packs: list[Verdict]


def _verify_signer(ep: Endpoint, bundle: Bundle, role: str) -> Device:
    m = bundle.manifest
    devices = ep.registry()
    signer = devices.get(m.device)
    if signer is None:
        raise Refused(Reason.UNKNOWN_DEVICE, f"device {m.device[:12]} is not enrolled here")
    if m.key_id != signer.key_id:
        raise Refused(
            Reason.UNKNOWN_KEY,
            f"signed with key {m.key_id[:12]}, but {m.device[:12]} is enrolled with "
            f"{signer.key_id[:12]}",
        )
    if not keys.verify(
        signer.public_key, bytes.fromhex(m.signature), SIGN_DOMAIN, m.signed_bytes()
    ):
        raise Refused(Reason.BAD_SIGNATURE, "the manifest's signature does not verify")
    if m.recipient != ep.device_id:
        raise Refused(
            Reason.WRONG_RECIPIENT,
            f"made for device {m.recipient[:12]}, this ledger is {ep.device_id[:12]}",
        )
    if {role, signer.role} != {"hub", "laptop"}:
        raise Refused(
            Reason.WRONG_RECIPIENT, f"a {signer.role} bundle cannot be imported by a {role}"
        )
    return signer


def _parse_events(bundle: Bundle) -> list[Event]:
    raw = bundle.read(EVENTS)
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    events: list[Event] = []
    for number, line in enumerate(lines, start=1):
        try:
            doc = _loads(line)
        except ValueError as err:
            raise Refused(Reason.MALFORMED_EVENT, f"{EVENTS} line {number}: {err}") from None
        why = document_problem(doc)
        if why is not None:
            reason = Reason.BAD_EVENT_HASH if "hash does not match" in why else None
            raise Refused(reason or Reason.MALFORMED_EVENT, f"{EVENTS} line {number}: {why}")
        events.append(Event.from_doc(doc, trusted=True))
    return events


def _loads(line: bytes) -> dict[str, Any]:
    import json

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise ValueError(f"duplicate key {k!r}")
            out[k] = v
        return out

    try:
        doc = json.loads(line.decode("utf-8"), object_pairs_hook=pairs)
    except UnicodeDecodeError as err:
        raise ValueError(f"not UTF-8 ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"not JSON ({err.msg})") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc


def _verify_chains(bundle: Bundle, events: list[Event], signer: Device) -> None:
    m = bundle.manifest
    ids: set[str] = set()
    pos = 0
    seen_devices: set[str] = set()
    for chain in m.chains:
        if chain.device in seen_devices:
            raise Refused(Reason.CHAIN_MISMATCH, f"device {chain.device[:12]} listed twice")
        seen_devices.add(chain.device)
        if chain.last < chain.first:
            raise Refused(Reason.CHAIN_MISMATCH, f"chain {chain.device[:12]} has no events")
        n = chain.last - chain.first + 1
        part = events[pos : pos + n]
        pos += n
        head: Head | None = None
        for i, ev in enumerate(part):
            if ev.device_id != chain.device or ev.seq != chain.first + i:
                raise Refused(
                    Reason.BROKEN_CHAIN,
                    f"event {pos - n + i + 1} is {ev.device_id[:12]} seq {ev.seq}, expected "
                    f"{chain.device[:12]} seq {chain.first + i} (records missing or re-ordered)",
                )
            if head is not None and (why := link_problem(head, ev)) is not None:
                raise Refused(Reason.BROKEN_CHAIN, f"device {ev.device_id[:12]}: {why}")
            if ev.event_id in ids:
                raise Refused(Reason.BROKEN_CHAIN, f"event id {ev.event_id} appears twice")
            ids.add(ev.event_id)
            head = Head(ev.seq, ev.hash, ev.lamport)
        if len(part) != n:
            raise Refused(Reason.CHAIN_MISMATCH, "fewer events than the chains declare")
        if part[0].prev != chain.prev or part[-1].hash != chain.head:
            raise Refused(
                Reason.CHAIN_MISMATCH,
                f"chain {chain.device[:12]} does not start or end where the manifest says",
            )
        if chain.first == 1 and chain.prev is not None:
            raise Refused(Reason.BROKEN_CHAIN, f"chain {chain.device[:12]} seq 1 has a prev")
    if pos != len(events) or len(events) != m.event_count:
        raise Refused(
            Reason.CHAIN_MISMATCH,
            f"{len(events)} events; the manifest declares {m.event_count} in its chains",
        )
    own = m.have.get(m.device)
    if own is None:
        raise Refused(Reason.MANIFEST_INVALID, "the manifest omits the signer's own position")
    for chain in m.chains:
        if chain.device == m.device and (chain.last, chain.head) != (own.seq, own.head):
            raise Refused(
                Reason.CHAIN_MISMATCH, "the signer's chain does not end at its declared position"
            )
    if signer.role == "laptop":
        refuse_laptop_packs(bundle)
        others = sorted({e.device_id for e in events} - {signer.device_id})
        if others:
            raise Refused(
                Reason.FOREIGN_EVENTS,
                f"a laptop's bundle carries events of {len(others)} other device(s)",
            )
        if any(e.kind == ENROLL_KIND for e in events):
            raise Refused(Reason.FOREIGN_EVENTS, "a laptop's bundle carries a device enrollment")
    referenced = {d for e in events for d in _evidence_refs(e)}
    for name in bundle.member_names:
        if name.startswith("evidence/") and name.removeprefix("evidence/") not in referenced:
            raise Refused(Reason.UNEXPECTED_MEMBER, f"{name} is not referenced by any event")


def _verify_against_ledger(ep: Endpoint, bundle: Bundle, events: list[Event]) -> list[Event]:
    """Replay, gap and fork checks; the bundle's events this ledger lacks, in bundle order.

    Reads the heads and the stored hashes of the bundle's own event ids
    (:meth:`~inspect_engine.ledger.Ledger.event_hashes`), never the event log.
    """
    m = bundle.manifest
    cp = ep.state.checkpoints.get(m.device)
    own = m.have[m.device]
    if cp is not None and own.seq < cp.seq:
        raise Refused(
            Reason.REPLAY,
            f"the bundle was made when {m.device[:12]} was at seq {own.seq}; this ledger "
            f"recorded seq {cp.seq} from it already (an older bundle)",
        )
    heads = ep.ledger.heads()
    known = ep.ledger.event_hashes(ev.event_id for ev in events)
    new: list[Event] = []
    for chain in m.chains:
        head = heads.get(chain.device)
        have = head.seq if head else 0
        if chain.first > have + 1:
            raise Refused(
                Reason.GAP,
                f"device {chain.device[:12]}: the bundle starts at seq {chain.first}, this "
                f"ledger holds up to {have}; import the earlier bundle first",
            )
        if chain.device == ep.device_id and chain.last > have:
            raise Refused(
                Reason.FORK, "the bundle carries events of this device that it does not have"
            )
    for ev in events:
        mine = known.get(ev.event_id)
        if mine is not None:
            if mine != ev.hash:
                raise Refused(
                    Reason.FORK, f"event {ev.event_id} is here already with different content"
                )
            continue
        head = heads.get(ev.device_id)
        if head is not None and ev.seq <= head.seq:
            raise Refused(
                Reason.FORK,
                f"device {ev.device_id[:12]} seq {ev.seq}: this ledger holds another event there",
            )
        if (why := link_problem(head, ev)) is not None:
            raise Refused(Reason.FORK, f"device {ev.device_id[:12]}: {why}")
        heads[ev.device_id] = Head(ev.seq, ev.hash, ev.lamport)
        new.append(ev)
    return new


def verify_bundle(
    ep: Endpoint,
    source: Path | bytes,
    *,
    limits: Limits | None = None,
    progress: Progress = _no_progress,
) -> _Verified:
    """Every check of an import, in order; raises :class:`Refused`. Writes nothing."""
    role = ep.require_enrolled()
    bundle = open_bundle(source, limits)
    progress("verify", 1, 5)
    signer = _verify_signer(ep, bundle, role)
    progress("verify", 2, 5)
    bundle.verify_contents()
    progress("verify", 3, 5)
    events = _parse_events(bundle)
    _verify_chains(bundle, events, signer)
    progress("verify", 4, 5)
    new = _verify_against_ledger(ep, bundle, events)
    progress("verify", 5, 5)
    packs: list[Verdict] = []
    if bundle.pack_members:  # a hub's (a laptop's were refused with the events)
        packs = verify_packs(ep.data_dir, bundle)
        progress("packs", len(packs), len(packs))
    return _Verified(bundle, signer, events, new, len(events) - len(new), packs)


def import_bundle(
    ep: Endpoint,
    source: Path | bytes,
    *,
    limits: Limits | None = None,
    progress: Progress = _no_progress,
) -> Summary:
    """Verify a bundle completely, then write it (see the module docstring). Idempotent.

    Raises :class:`Refused` (nothing written) when any check fails.
    """
    v = verify_bundle(ep, source, limits=limits, progress=progress)
    before = len(list_conflicts(ep.ledger))  # verifying wrote nothing: the state before
    _step("import:verified")
    m = v.bundle.manifest
    stored = 0
    for digest, blob in v.bundle.evidence():
        if not ep.ledger.has_evidence(digest):
            ep.ledger.add_evidence(blob)
        stored += 1
        progress("evidence", stored, len(m.members) - 1)
        _step("import:evidence")
    if v.new:
        progress("write", 0, len(v.new))
        try:
            result = ep.ledger.import_events(v.new)
        except RefusedError as err:  # the ledger's own checks: a backstop behind ours
            raise Refused(Reason.FORK, err.message) from None
        assert result.new == len(v.new)
        progress("write", len(v.new), len(v.new))
    _step("import:appended")
    installed = install_packs(ep.data_dir, v.packs, ep.ledger.ops)
    _step("import:packs")
    _record(ep, v)
    _step("import:checkpointed")
    after = len(list_conflicts(ep.ledger))
    return Summary(
        action="import",
        bundle_id=m.bundle_id,
        signer=m.device,
        recipient=m.recipient,
        events=len(v.events),
        new=len(v.new),
        already_present=v.present,
        evidence=stored,
        conflicts=max(0, after - before),
        conflicts_total=after,
        chains={c.device: [c.first, c.last] for c in m.chains},
        packs=[verdict.pack.label for verdict in v.packs],
        packs_installed=installed,
    )


def _record(ep: Endpoint, v: _Verified) -> None:
    """Checkpoints and the peer's have vector, after the events are durable (CouchDB's rule)."""
    m = v.bundle.manifest
    now = ep.ledger.clock.now().isoformat()
    heads = ep.ledger.heads()
    state = load_state(ep.data_dir)  # re-read under the lock: never write back a stale copy
    # Every device the bundle speaks of (its chains, the signer's have vector), at what this
    # ledger now durably holds of it: the same whether this import added the events or an
    # interrupted earlier run of it did.
    for device in sorted(({c.device for c in m.chains} | set(m.have)) - {ep.device_id}):
        head = heads.get(device)
        old = state.checkpoints.get(device)
        if head is not None and (old is None or old.seq <= head.seq):
            state.checkpoints[device] = Checkpoint(
                seq=head.seq, head=head.hash, bundle_id=m.bundle_id, at=now
            )
    state.peers[m.device] = Peer(
        have={d: Position(seq=h.seq, head=h.head) for d, h in m.have.items()},
        bundle_id=m.bundle_id,
        at=now,
    )
    save_state(ep.data_dir, state)
    ep.state = state


def refusal_summary(err: Refused, source: str) -> Summary:
    """The summary of a refused import."""
    return Summary(action="import", refused=err.reason.value, detail=f"{source}: {err.detail}")


# --------------------------------------------------------------------------- direct sync


@dataclass
class RunResult:
    """What ``sync run`` did in each direction."""

    push: Summary
    pull: Summary


def run_direct(laptop: Endpoint, hub: Endpoint, *, progress: Progress = _no_progress) -> RunResult:
    """Sync a laptop and its hub, both open: push the laptop's events, then pull the hub's.

    The bundles are built and verified exactly as files would be; only the transport differs.
    Each side's exact holdings are read from its ledger, so nothing already there is sent.
    """
    if laptop.require_enrolled() != "laptop" or hub.require_enrolled() != "hub":
        raise InputError("sync run needs a laptop's data directory and its hub's")
    if laptop.hub_id != hub.device_id:
        raise InputError(f"{laptop.data_dir} is enrolled with another hub")
    since = {d: h.seq for d, h in hub.ledger.heads().items()}
    data, _ = export_bundle(laptop, since=since, progress=progress)
    push = import_bundle(hub, data, progress=progress)
    push.action = "push"
    _step("run:pushed")
    since = {d: h.seq for d, h in laptop.ledger.heads().items()}
    data, _ = export_bundle(hub, recipient=laptop.device_id, since=since, progress=progress)
    pull = import_bundle(laptop, data, progress=progress)
    pull.action = "pull"
    return RunResult(push, pull)


__all__ = [
    "STEPS",
    "Endpoint",
    "Progress",
    "RunResult",
    "Summary",
    "export_bundle",
    "import_bundle",
    "open_endpoint",
    "refusal_summary",
    "run_direct",
    "verify_bundle",
]
