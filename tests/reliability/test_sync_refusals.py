"""T6 and T9: malformed and tampered bundles are refused with their reason, importing nothing.

Every variant is imported into the same hub; each must raise :class:`Refused` with the expected
code and leave the hub's ledger files, sync state and evidence store byte-for-byte unchanged.
Variants that need a valid signature to reach the deeper checks are re-signed with the laptop's
real key (a compromised or buggy laptop), or with another key (a forger).
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inspect_engine.events import DeviceEnrolled, Event, event_hash
from inspect_engine.ledger import Ledger
from inspect_engine.sync import keys
from inspect_engine.sync.bundle import (
    EVENTS,
    MANIFEST,
    BundleDraft,
    ChainRange,
    Have,
    Limits,
    build,
    canonical,
    sha256_hex,
)
from inspect_engine.sync.protocol import import_bundle, open_endpoint
from inspect_engine.sync.reasons import Reason, Refused
from inspect_engine.sync.state import state_path
from tests.reliability import kit
from tests.reliability.sync_kit import World, events_of, inspect, make_world

A, B = "张三", "李四"


@dataclass
class Scene:
    """The hub holds A's seq 1-4 (checkpoint 4); A has 8 events; old is A's bundle at seq 2."""

    world: World
    hub_id: str
    a_id: str
    b_id: str
    key_a: keys.DeviceKey
    key_b: keys.DeviceKey
    events: list[Event]
    """A's seq 5..8: what a fresh bundle would carry."""
    all_a: list[Event]
    old: bytes
    good: bytes
    """A's genuine, untampered bundle of seq 5..8."""
    stranger: bytes
    """A signed bundle from a laptop enrolled with another hub."""


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    root = tmp_path_factory.mktemp("refusals")
    world = make_world(root / "w", [A, B])
    with world.ledger(A) as lap:
        insp = lap.start_inspection(
            "S0001", pack_id="building-safety", pack_version="1.0.0", method="open",
            inspectors=[A],
        )  # fmt: skip
        lap.record_answer(insp.id, "BS.LAND.01", "yes")
    old = world.export(A)
    with world.ledger(A) as lap:
        lap.record_answer(insp.id, "BS.PLAN.01", "no")
        lap.submit_inspection(insp.id, [kit.finding()])
    world.import_(world.export(A))
    inspect(world, A, "S0003")
    good = world.export(A)
    all_a = [e for e in events_of(world.laptops[A]) if e.device_id == world.device(A)]
    other = make_world(root / "other", ["赵六"])
    inspect(other, "赵六", "S0001")
    return Scene(
        world=world,
        hub_id=world.device(),
        a_id=world.device(A),
        b_id=world.device(B),
        key_a=keys.load_key(world.laptops[A]),
        key_b=keys.load_key(world.laptops[B]),
        events=all_a[4:],
        all_a=all_a,
        old=old,
        good=good,
        stranger=other.export("赵六"),
    )


# --------------------------------------------------------------------------- forging helpers


def _jsonl(events: list[dict[str, object]]) -> bytes:
    return b"".join(canonical(e) + b"\n" for e in events)


def _chains(docs: list[dict[str, object]]) -> list[ChainRange]:
    out: list[ChainRange] = []
    for d in docs:
        if out and out[-1].device == d["device_id"]:
            out[-1] = out[-1].model_copy(update={"last": d["seq"], "head": d["hash"]})
        else:
            out.append(
                ChainRange(
                    device=str(d["device_id"]),
                    first=int(str(d["seq"])),
                    last=int(str(d["seq"])),
                    prev=d["prev"],  # type: ignore[arg-type]
                    head=str(d["hash"]),
                )
            )
    return out


def signed(
    s: Scene,
    docs: list[dict[str, object]] | None = None,
    *,
    key: keys.DeviceKey | None = None,
    device: str | None = None,
    recipient: str | None = None,
    have_seq: int = 8,
    chains: list[ChainRange] | None = None,
    raw: bytes | None = None,
    count: int | None = None,
    evidence: dict[str, bytes] | None = None,
) -> bytes:
    """A bundle signed by ``key`` (default A's) carrying ``docs`` (default A's seq 5..8)."""
    docs = docs if docs is not None else [e.to_doc() for e in s.events]
    device = device or s.a_id
    head = next((d["hash"] for d in reversed(docs) if d["device_id"] == device), None)
    draft = BundleDraft(
        device=device,
        recipient=recipient or s.hub_id,
        events_jsonl=raw if raw is not None else _jsonl(docs),
        event_count=len(docs) if count is None else count,
        chains=chains if chains is not None else _chains(docs),
        have={device: Have(seq=have_seq, head=head if isinstance(head, str) else None)},
        evidence=evidence or {},
        created="2020-09-02T10:00:00+08:00",
    )
    return build(draft, key or s.key_a)


def rehash(doc: dict[str, object]) -> dict[str, object]:
    """The same document with its hash recomputed (a forger who knows the hash rule)."""
    out = dict(doc)
    out["hash"] = event_hash(out)
    return out


def entries(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i, zf.read(i)) for i in zf.infolist()]


def rezip(items: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w") as zf:
            for info, data in items:
                zf.writestr(info, data)
    return buf.getvalue()


def edit_manifest(data: bytes, edit: Callable[[dict[str, object]], None]) -> bytes:
    """Change the manifest without re-signing it (what anyone can do to a file)."""
    items = entries(data)
    manifest = json.loads(items[-1][1])
    edit(manifest)
    return rezip([*items[:-1], (items[-1][0], canonical(manifest))])


def entry(name: str, mode: int = stat.S_IFREG | 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    return info


# --------------------------------------------------------------------------- the variants


def _flip_event_byte(s: Scene) -> bytes:
    items = entries(s.good)
    info, raw = items[0]
    assert info.filename == EVENTS
    return rezip([(info, raw.replace(b'"seq":6', b'"seq":7', 1)), *items[1:]])


def _forged_payload(s: Scene) -> bytes:
    docs = [e.to_doc() for e in s.events]
    docs[1] = {**docs[1], "actor": "伪造者"}
    return signed(s, docs)


def _forged_rehashed(s: Scene) -> bytes:
    docs = [e.to_doc() for e in s.events]
    docs[1] = rehash({**docs[1], "actor": "伪造者"})
    return signed(s, docs)


def _reordered(s: Scene) -> bytes:
    docs = [e.to_doc() for e in s.events]
    docs[1], docs[2] = docs[2], docs[1]
    return signed(s, docs, chains=_chains([e.to_doc() for e in s.events]))


def _deleted(s: Scene) -> bytes:
    docs = [e.to_doc() for e in s.events]
    del docs[1]
    return signed(s, docs, chains=_chains([e.to_doc() for e in s.events]))


def _appended_unlisted(s: Scene) -> bytes:
    docs = [e.to_doc() for e in s.events]
    extra = rehash({**docs[-1], "seq": 9, "prev": docs[-1]["hash"], "event_id": "f" * 32})
    return signed(s, [*docs, extra], chains=_chains(docs), count=len(docs))


def _appended_bad_link(s: Scene) -> bytes:
    docs = [e.to_doc() for e in s.events]
    extra = rehash({**docs[-1], "seq": 9, "event_id": "f" * 32})  # prev still points at seq 7
    return signed(s, [*docs, extra], have_seq=9)


def _rewritten_history(s: Scene) -> bytes:
    """A's seq 2..8 rewritten consistently (a fork of what the hub already holds)."""
    docs = [e.to_doc() for e in s.all_a]
    prev = docs[0]["hash"]
    out = [docs[0]]
    for d in docs[1:]:
        changed = rehash({**d, "prev": prev, "actor": "改写" if d["seq"] == 2 else d["actor"]})
        out.append(changed)
        prev = changed["hash"]
    return signed(s, out)


def _gap(s: Scene) -> bytes:
    docs = [e.to_doc() for e in s.events][2:]  # seq 7..8; the hub holds up to 4
    return signed(s, docs)


def _foreign(s: Scene) -> bytes:
    with open_endpoint(s.world.laptops[A]) as ep:
        hub_events = [e.to_doc() for e in ep.ledger.events() if e.device_id == s.hub_id][:2]
    return signed(s, [*hub_events, *(e.to_doc() for e in s.events)])


def _self_enrollment(s: Scene, tmp: Path) -> bytes:
    """A laptop that wrote a device.enrolled event into its own chain (a forged registry)."""
    w = s.world.copy(tmp / "rogue")
    with w.ledger(A) as lap, Ledger.open(tmp / "x", clock=kit.clock()) as victim:
        assert victim.device_id is not None
        lap.enroll_device(
            DeviceEnrolled(
                device_id=victim.device_id,
                role="hub",
                inspector="rogue",
                public_key=keys.create_key(tmp / "x").public_hex,
            )
        )
        docs = [e.to_doc() for e in lap.events() if e.device_id == s.a_id][4:]
    return signed(s, docs, have_seq=len(docs) + 4)


def _bad_event_json(s: Scene) -> bytes:
    raw = _jsonl([e.to_doc() for e in s.events]).replace(b"{", b"[", 1)
    return signed(s, raw=raw, chains=_chains([e.to_doc() for e in s.events]))


def _unreferenced_evidence(s: Scene) -> bytes:
    blob = b"a photo nobody refers to"
    return signed(s, evidence={sha256_hex(blob): blob})


def _unlisted_member(s: Scene) -> bytes:
    items = entries(s.good)
    blob = b"smuggled"
    return rezip([*items[:-1], (entry("evidence/" + sha256_hex(blob)), blob), items[-1]])


def _zip_bomb(s: Scene) -> bytes:
    items = entries(s.good)
    info = entry(EVENTS)
    info.compress_type = zipfile.ZIP_DEFLATED
    return rezip([(info, b" " * (8 << 20)), *items[1:]])


VARIANTS: dict[str, tuple[Callable[[Scene], bytes], Reason]] = {
    "empty file": (lambda s: b"", Reason.NOT_A_BUNDLE),
    "not a zip": (lambda s: b"inspect-engine bundle, honest", Reason.NOT_A_BUNDLE),
    "truncated at 10%": (lambda s: s.good[: len(s.good) // 10], Reason.TRUNCATED),
    "truncated at 50%": (lambda s: s.good[: len(s.good) // 2], Reason.TRUNCATED),
    "truncated by 1 byte": (lambda s: s.good[:-1], Reason.TRUNCATED),
    "manifest missing": (
        lambda s: rezip([x for x in entries(s.good) if x[0].filename != MANIFEST]),
        Reason.MANIFEST_MISSING,
    ),
    "manifest unparseable": (
        lambda s: rezip([*entries(s.good)[:-1], (entries(s.good)[-1][0], b"{nope")]),
        Reason.MANIFEST_INVALID,
    ),
    "unknown format version": (
        lambda s: edit_manifest(s.good, lambda m: m.update(version=2)),
        Reason.UNKNOWN_VERSION,
    ),
    "manifest member hash altered": (
        lambda s: edit_manifest(
            s.good,
            lambda m: m["members"][EVENTS].update(sha256="0" * 64),  # type: ignore[index]
        ),
        Reason.BAD_SIGNATURE,
    ),
    "manifest event count altered": (
        lambda s: edit_manifest(s.good, lambda m: m.update(event_count=3)),
        Reason.BAD_SIGNATURE,
    ),
    "manifest chain head altered": (
        lambda s: edit_manifest(
            s.good,
            lambda m: m["chains"][0].update(head="0" * 64),  # type: ignore[index]
        ),
        Reason.BAD_SIGNATURE,
    ),
    "content byte flipped": (_flip_event_byte, Reason.HASH_MISMATCH),
    "path traversal entry": (
        lambda s: rezip([(entry("../../evil.sh"), b"rm -rf ~"), *entries(s.good)]),
        Reason.PATH_TRAVERSAL,
    ),
    "absolute path entry": (
        lambda s: rezip([(entry("/etc/cron.d/x"), b"x"), *entries(s.good)]),
        Reason.PATH_TRAVERSAL,
    ),
    "symlink entry": (
        lambda s: rezip(
            [
                (entry("evidence/" + "a" * 64, stat.S_IFLNK | 0o777), b"/etc/passwd"),
                *entries(s.good),
            ]
        ),  # fmt: skip
        Reason.BAD_ENTRY_TYPE,
    ),
    "duplicate entry": (
        lambda s: rezip([entries(s.good)[0], *entries(s.good)]),
        Reason.DUPLICATE_MEMBER,
    ),
    "unexpected entry": (
        lambda s: rezip([(entry("run.py"), b"print()"), *entries(s.good)]),
        Reason.UNEXPECTED_MEMBER,
    ),
    "zip bomb": (_zip_bomb, Reason.ZIP_BOMB),
    "unlisted member": (_unlisted_member, Reason.UNLISTED_MEMBER),
    "unreferenced evidence": (_unreferenced_evidence, Reason.UNEXPECTED_MEMBER),
    "signed by an unknown key": (
        lambda s: signed(s, key=keys.DeviceKey(Ed25519PrivateKey.generate())),
        Reason.UNKNOWN_KEY,
    ),
    "signed by another device's key": (
        lambda s: edit_manifest(signed(s, key=s.key_b), lambda m: m.update(key_id=s.key_a.key_id)),
        Reason.BAD_SIGNATURE,
    ),
    "device id swapped": (lambda s: signed(s, device=s.b_id), Reason.UNKNOWN_KEY),
    "device id swapped, key id too": (
        lambda s: edit_manifest(
            signed(s, device=s.b_id), lambda m: m.update(key_id=s.key_b.key_id)
        ),
        Reason.BAD_SIGNATURE,
    ),
    "unknown device": (lambda s: s.stranger, Reason.UNKNOWN_DEVICE),
    "addressed to another ledger": (
        lambda s: signed(s, recipient=s.b_id),
        Reason.WRONG_RECIPIENT,
    ),
    "malformed event line": (_bad_event_json, Reason.MALFORMED_EVENT),
    "forged record (hash kept)": (_forged_payload, Reason.BAD_EVENT_HASH),
    "forged record (hash recomputed)": (_forged_rehashed, Reason.BROKEN_CHAIN),
    "records re-ordered": (_reordered, Reason.BROKEN_CHAIN),
    "record deleted": (_deleted, Reason.BROKEN_CHAIN),
    "record appended, not in manifest": (_appended_unlisted, Reason.CHAIN_MISMATCH),
    "record appended, bad link": (_appended_bad_link, Reason.BROKEN_CHAIN),
    "another device's events": (_foreign, Reason.FOREIGN_EVENTS),
    "replay of an older bundle": (lambda s: s.old, Reason.REPLAY),
    "gap before the bundle": (_gap, Reason.GAP),
    "rewritten history": (_rewritten_history, Reason.FORK),
}


def _hub_bytes(world: World) -> dict[str, str]:
    out = {}
    for path in sorted(world.hub.rglob("*")):
        if path.is_file() and path.name != "ledger.lock":
            out[str(path.relative_to(world.hub))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


TALLY: Counter[str] = Counter()


def _refuse(s: Scene, data: bytes, expected: Reason, limits: Limits | None = None) -> None:
    before = _hub_bytes(s.world)
    with open_endpoint(s.world.hub, clock=kit.clock()) as ep, pytest.raises(Refused) as caught:
        import_bundle(ep, data, limits=limits)
    TALLY[caught.value.reason.value] += 1
    assert caught.value.reason is expected, caught.value.message
    assert f"[{expected.value}]" in caught.value.message
    assert _hub_bytes(s.world) == before, "nothing may be written"


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_refused(scene: Scene, name: str) -> None:
    """Each tampered or malformed bundle is refused with its own code; the hub is untouched."""
    make, reason = VARIANTS[name]
    _refuse(scene, make(scene), reason)


def test_rogue_enrollment_refused(scene: Scene, tmp_path: Path) -> None:
    """A laptop cannot enroll devices: its bundle carrying an enrollment is refused."""
    _refuse(scene, _self_enrollment(scene, tmp_path), Reason.FOREIGN_EVENTS)


def test_oversized_refused(scene: Scene) -> None:
    """A bundle over the configured size is refused before it is read."""
    _refuse(scene, scene.good, Reason.OVERSIZED, Limits(max_bundle_bytes=len(scene.good) - 1))


def test_every_truncation_refused(scene: Scene) -> None:
    """The genuine bundle cut at every byte offset: never imported."""
    step = max(1, len(scene.good) // 200)
    before = _hub_bytes(scene.world)
    reasons: Counter[str] = Counter()
    for cut in range(0, len(scene.good), step):
        with open_endpoint(scene.world.hub, clock=kit.clock()) as ep, pytest.raises(Refused) as e:
            import_bundle(ep, scene.good[:cut])
        reasons[e.value.reason.value] += 1
    assert sum(reasons.values()) >= 200 or step == 1
    assert set(reasons) <= {"truncated", "not-a-bundle"}
    assert _hub_bytes(scene.world) == before
    print(f"\nT6 truncations: {sum(reasons.values())} cut points refused: {dict(reasons)}")


def test_genuine_bundle_still_imports_after_all_refusals(scene: Scene) -> None:
    """The control: the untampered bundle imports (so the refusals were about the tampering)."""
    with open_endpoint(scene.world.hub, clock=kit.clock()) as ep:
        summary = import_bundle(ep, scene.good)
    assert (summary.new, summary.already_present) == (4, 4)
    assert state_path(scene.world.hub).exists()
    print(f"\nT6/T9 refusals by reason: {dict(sorted(TALLY.items()))}; total {sum(TALLY.values())}")
