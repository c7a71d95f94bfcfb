"""T10: attacks on the verifier. Any single change to a signed manifest, to the signature or to
one field of one event is refused; a frozen known-answer vector pins the manifest encoding.

Regenerate the vector only for a deliberate format change (and bump the format version):
``python -m tests.test_sync_properties > tests/data/sync/bundle-v1-vector.json``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_engine.events import event_hash
from inspect_engine.sync import keys
from inspect_engine.sync.bundle import (
    SIGN_DOMAIN,
    BundleDraft,
    ChainRange,
    Have,
    build,
    canonical,
    open_bundle,
)
from inspect_engine.sync.protocol import open_endpoint, verify_bundle
from inspect_engine.sync.reasons import Refused
from tests.reliability.sync_kit import World, inspect, make_world

VECTOR = Path(__file__).parent / "data" / "sync" / "bundle-v1-vector.json"
A = "张三"


def _vector_key() -> keys.DeviceKey:
    seed = hashlib.sha256(b"inspect-engine bundle v1 test vector").digest()
    return keys.DeviceKey(Ed25519PrivateKey.from_private_bytes(seed))


def _vector_draft() -> BundleDraft:
    lines = b'{"seq":1,"x":"\xe9\x98\xb3\xe6\xb3\x89"}\n{"seq":2}\n'
    return BundleDraft(
        device="d" * 32,
        recipient="h" * 32,
        events_jsonl=lines,
        event_count=2,
        chains=[ChainRange(device="d" * 32, first=1, last=2, prev=None, head="a" * 64)],
        have={"d" * 32: Have(seq=2, head="a" * 64), "h" * 32: Have(seq=5, head="b" * 64)},
        evidence={hashlib.sha256(b"photo").hexdigest(): b"photo"},
        created="2020-09-01T09:00:00+08:00",
        bundle_id="0" * 32,
    )


def compute_vector() -> dict[str, Any]:
    """The vector's inputs and outputs, from the current code."""
    key = _vector_key()
    bundle = open_bundle(build(_vector_draft(), key))
    m = bundle.manifest
    return {
        "public_key": key.public_hex,
        "key_id": key.key_id,
        "signed_bytes_sha256": hashlib.sha256(m.signed_bytes()).hexdigest(),
        "signed_bytes": m.signed_bytes().decode("utf-8"),
        "signature": m.signature,
    }


def test_known_answer_vector() -> None:
    """The canonical manifest, its hash and its (deterministic) Ed25519 signature are frozen."""
    frozen = json.loads(VECTOR.read_text(encoding="utf-8"))
    assert compute_vector() == frozen, f"bundle format drifted; see {__doc__}"
    assert keys.verify(
        frozen["public_key"],
        bytes.fromhex(frozen["signature"]),
        SIGN_DOMAIN,
        frozen["signed_bytes"].encode("utf-8"),
    )


# --------------------------------------------------------------------------- manifest and signature


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, (*path, i))]
    return [path]


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        obj = obj[step]
    obj[path[-1]] = value


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        obj = obj[step]
    return obj


def _other(value: Any, salt: int) -> Any:
    if isinstance(value, bool) or value is None:
        return salt if value is None else not value
    if isinstance(value, int):
        return value + 1 + salt
    if isinstance(value, str):
        if not value:
            return "x"
        i = salt % len(value)  # change one character, at a position chosen by the salt
        return value[:i] + ("0" if value[i] != "0" else "1") + value[i + 1 :]
    return None


SIGNED = build(_vector_draft(), _vector_key())
BODY = json.loads(open_bundle(SIGNED).manifest.signed_bytes())
PATHS = _leaves(BODY)


@settings(max_examples=4000, deadline=None)
@given(st.sampled_from(PATHS), st.integers(0, 31))
def test_any_manifest_field_change_breaks_the_signature(path: tuple[Any, ...], salt: int) -> None:
    """Changing any one field of the signed manifest invalidates the signature."""
    body = copy.deepcopy(BODY)
    _set(body, path, _other(_get(body, path), salt))
    signature = bytes.fromhex(open_bundle(SIGNED).manifest.signature)
    assert not keys.verify(_vector_key().public_hex, signature, SIGN_DOMAIN, canonical(body))


@settings(max_examples=1000, deadline=None)
@given(st.integers(0, 511))
def test_any_signature_bit_flip_is_refused(bit: int) -> None:
    """Flipping any one of the signature's 512 bits invalidates it."""
    m = open_bundle(SIGNED).manifest
    sig = bytearray(bytes.fromhex(m.signature))
    sig[bit // 8] ^= 1 << (bit % 8)
    assert not keys.verify(_vector_key().public_hex, bytes(sig), SIGN_DOMAIN, m.signed_bytes())


# --------------------------------------------------------------------------- events, end to end


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    world = make_world(tmp_path_factory.mktemp("props") / "w", [A])
    inspect(world, A, "S0001", findings=2)
    return world


@pytest.fixture(scope="module")
def genuine(world: World) -> list[dict[str, Any]]:
    """A's four events as documents."""
    with open_endpoint(world.laptops[A]) as ep:
        return [e.to_doc() for e in ep.ledger.events() if e.device_id == world.device(A)][:4]


def _resigned(world: World, docs: list[dict[str, Any]], head: str) -> bytes:
    """A's bundle with these event documents, re-signed with A's real key (a rogue laptop)."""
    me = world.device(A)
    draft = BundleDraft(
        device=me,
        recipient=world.device(),
        events_jsonl=b"".join(canonical(d) + b"\n" for d in docs),
        event_count=4,
        chains=[ChainRange(device=me, first=1, last=4, prev=None, head=head)],
        have={me: Have(seq=4, head=head)},
        created="2020-09-01T09:00:00+08:00",
    )
    return build(draft, keys.load_key(world.laptops[A]))


EVENT_FIELDS = ["event_id", "device_id", "seq", "lamport", "time", "actor", "kind", "prev", "hash"]


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    index=st.integers(0, 3),
    field=st.sampled_from([*EVENT_FIELDS, "payload"]),
    salt=st.integers(0, 3),
    rehash=st.booleans(),
)
def test_any_event_field_change_is_refused(
    world: World, genuine: list[dict[str, Any]], index: int, field: str, salt: int, rehash: bool
) -> None:
    """One field of one event changed (hash recomputed or not), re-signed by the real key:
    refused, whatever the field."""
    docs = list(genuine)
    doc = dict(docs[index])
    if field == "payload":
        payload = dict(doc["payload"])
        key = sorted(payload)[salt % len(payload)]
        payload[key] = _other(payload[key], salt) if not isinstance(payload[key], list) else []
        doc["payload"] = payload
    else:
        doc[field] = _other(doc[field], salt)
    if rehash and field != "hash":
        doc["hash"] = event_hash(doc)
    if doc == docs[index]:
        return  # the change happened to be a no-op (e.g. an empty list emptied)
    docs[index] = doc
    with open_endpoint(world.hub) as hub, pytest.raises(Refused):
        verify_bundle(hub, _resigned(world, docs, str(genuine[-1]["hash"])))


def test_untampered_events_verify(world: World, genuine: list[dict[str, Any]]) -> None:
    """The control for the property above: the same construction without a change verifies."""
    with open_endpoint(world.hub) as hub:
        v = verify_bundle(hub, _resigned(world, list(genuine), str(genuine[-1]["hash"])))
        assert len(v.new) == 4


if __name__ == "__main__":
    print(json.dumps(compute_vector(), ensure_ascii=False, indent=2))
