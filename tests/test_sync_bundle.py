"""The bundle container: the writer's layout and the reader's checks before anything is read.

Each malformed archive is refused with its own reason code; none of these tests touches a ledger
(the protocol-level refusals are in tests/reliability/test_sync_refusals.py).
"""

from __future__ import annotations

import io
import json
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from inspect_engine.errors import ExitCode, RefusedError
from inspect_engine.sync import keys
from inspect_engine.sync.bundle import (
    EVENTS,
    MANIFEST,
    SIGN_DOMAIN,
    BundleDraft,
    ChainRange,
    Have,
    Limits,
    build,
    canonical,
    open_bundle,
    sha256_hex,
    write_bundle,
)
from inspect_engine.sync.reasons import ZH, Reason, Refused

EVENT_LINES = b'{"seq":1}\n{"seq":2}\n'
PHOTO = b"\xff\xd8 not really a jpeg"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> keys.DeviceKey:
    return keys.create_key(tmp_path_factory.mktemp("dev"))


def _draft() -> BundleDraft:
    return BundleDraft(
        device="dev-a",
        recipient="hub",
        events_jsonl=EVENT_LINES,
        event_count=2,
        chains=[ChainRange(device="dev-a", first=1, last=2, prev=None, head="h2")],
        have={"dev-a": Have(seq=2, head="h2")},
        evidence={sha256_hex(PHOTO): PHOTO},
        created="2020-10-09T10:00:00+08:00",
    )


@pytest.fixture(scope="module")
def good(key: keys.DeviceKey) -> bytes:
    return build(_draft(), key)


def _entries(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def _rezip(entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are what some tests want
        with zipfile.ZipFile(buf, "w") as zf:
            for info, data in entries:
                zf.writestr(info, data)
    return buf.getvalue()


def _info(name: str, mode: int = stat.S_IFREG | 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def _reason(data: bytes, limits: Limits | None = None) -> Reason:
    with pytest.raises(Refused) as caught:
        open_bundle(data, limits).verify_contents()
    return caught.value.reason


def test_good_bundle_round_trips(good: bytes, key: keys.DeviceKey, tmp_path: Path) -> None:
    """A written bundle opens, its members verify, the manifest is last and the signature holds."""
    path = tmp_path / "a.bundle"
    write_bundle(path, good)
    bundle = open_bundle(path)
    bundle.verify_contents()
    assert bundle.read(EVENTS) == EVENT_LINES
    assert list(bundle.evidence()) == [(sha256_hex(PHOTO), PHOTO)]
    assert [i.filename for i, _ in _entries(good)][-1] == MANIFEST
    m = bundle.manifest
    assert (m.device, m.recipient, m.event_count, m.key_id) == ("dev-a", "hub", 2, key.key_id)
    assert m.chains[0].head == "h2"
    assert keys.verify(key.public_hex, bytes.fromhex(m.signature), SIGN_DOMAIN, m.signed_bytes())
    assert not list(tmp_path.glob(".*tmp*")), "no temp file left behind"


def test_same_content_same_bytes(key: keys.DeviceKey) -> None:
    """Entry timestamps are fixed, so a bundle's bytes depend only on its content and key."""
    d1, d2 = _draft(), _draft()
    d2.bundle_id = d1.bundle_id
    assert build(d1, key) == build(d2, key)


def test_refusal_is_exit_5_with_code_and_chinese(good: bytes) -> None:
    """A refusal is a RefusedError (exit 5) naming its code and saying nothing was imported."""
    with pytest.raises(RefusedError) as caught:
        open_bundle(good[:-30])
    err = caught.value
    assert err.exit_code == ExitCode.REFUSED
    assert "[truncated]" in err.message and "未导入任何内容" in err.message
    assert set(ZH) == set(Reason)


@pytest.mark.parametrize("cut", [0, 4, 100, 0.5, -22, -1])
def test_truncated_anywhere_is_refused(good: bytes, cut: float) -> None:
    """A bundle cut at any point is refused as truncated (or not a bundle when nothing is left)."""
    n = int(len(good) * cut) if isinstance(cut, float) else cut
    reason = _reason(good[:n])
    assert reason in (Reason.TRUNCATED, Reason.NOT_A_BUNDLE)
    if n >= 4:
        assert reason is Reason.TRUNCATED


def test_every_cut_is_refused(good: bytes) -> None:
    """Cut at every byte offset: never accepted."""
    accepted = [n for n in range(len(good)) if _try(good[:n]) is None]
    assert accepted == []


def _try(data: bytes, limits: Limits | None = None) -> Reason | None:
    try:
        open_bundle(data, limits).verify_contents()
    except Refused as err:
        return err.reason
    return None


def test_not_a_zip() -> None:
    """Random bytes are not a bundle."""
    assert _reason(b"hello, this is not a zip file at all") is Reason.NOT_A_BUNDLE


def test_missing_manifest(good: bytes) -> None:
    """An archive whose manifest was never written is incomplete."""
    entries = [(i, d) for i, d in _entries(good) if i.filename != MANIFEST]
    assert _reason(_rezip(entries)) is Reason.MANIFEST_MISSING


def test_manifest_not_last(good: bytes) -> None:
    """The manifest must be the last member (it is written last)."""
    entries = _entries(good)
    assert _reason(_rezip([entries[-1], *entries[:-1]])) is Reason.MANIFEST_INVALID


def _with_manifest(good: bytes, edit: Callable[[dict[str, object]], object]) -> bytes:
    entries = _entries(good)
    info, raw = entries[-1]
    manifest = json.loads(raw)
    edit(manifest)
    return _rezip([*entries[:-1], (info, canonical(manifest))])


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda m: m.update(version=2), Reason.UNKNOWN_VERSION),
        (lambda m: m.update(version="1"), Reason.UNKNOWN_VERSION),
        (lambda m: m.pop("version"), Reason.UNKNOWN_VERSION),
        (lambda m: m.update(format="other"), Reason.MANIFEST_INVALID),
        (lambda m: m.update(extra_field=1), Reason.MANIFEST_INVALID),
        (lambda m: m.pop("signature"), Reason.MANIFEST_INVALID),
        (lambda m: m.update(event_count=-1), Reason.MANIFEST_INVALID),
        (lambda m: m["members"].pop(EVENTS), Reason.MISSING_MEMBER),
    ],
)
def test_manifest_checks(
    good: bytes, edit: Callable[[dict[str, object]], object], reason: Reason
) -> None:
    """A manifest of another version, shape or format is refused before its contents are used."""
    assert _reason(_with_manifest(good, edit)) is reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", Reason.MANIFEST_INVALID),
        (b"\xff\xfe", Reason.MANIFEST_INVALID),
        (b"[]", Reason.MANIFEST_INVALID),
        (b'{"format":"inspect-engine-bundle","format":"x","version":1}', Reason.MANIFEST_INVALID),
        (b'{"format":"inspect-engine-bundle","version":NaN}', Reason.MANIFEST_INVALID),
    ],
)
def test_unparseable_manifest(good: bytes, raw: bytes, reason: Reason) -> None:
    """Bytes that are not one JSON object without duplicate keys are refused."""
    entries = _entries(good)
    assert _reason(_rezip([*entries[:-1], (entries[-1][0], raw)])) is reason


def test_content_hash_mismatch(good: bytes) -> None:
    """One byte changed in events.jsonl (manifest untouched) is a hash mismatch."""
    entries = _entries(good)
    info, data = entries[0]
    assert info.filename == EVENTS
    forged = data.replace(b'"seq":2', b'"seq":3')
    assert _reason(_rezip([(info, forged), *entries[1:]])) is Reason.HASH_MISMATCH


def test_evidence_swapped(good: bytes) -> None:
    """An evidence blob replaced by other bytes no longer matches the manifest."""
    entries = [
        (i, b"other" if i.filename.startswith("evidence/") else d) for i, d in _entries(good)
    ]
    assert _reason(_rezip(entries)) is Reason.HASH_MISMATCH


def test_unlisted_member(good: bytes) -> None:
    """An evidence blob the manifest does not list is refused (nothing rides along unsigned)."""
    entries = _entries(good)
    extra = (_info("evidence/" + sha256_hex(b"x")), b"x")
    assert _reason(_rezip([*entries[:-1], extra, entries[-1]])) is Reason.UNLISTED_MEMBER


def test_listed_member_missing(good: bytes) -> None:
    """A listed evidence blob that is absent is refused."""
    entries = [(i, d) for i, d in _entries(good) if not i.filename.startswith("evidence/")]
    assert _reason(_rezip(entries)) is Reason.MISSING_MEMBER


@pytest.mark.parametrize(
    "name",
    ["../../x", "/etc/passwd", "evidence/../manifest.json", "a\\..\\b", "C:/x", "./events.jsonl"],
)
def test_path_traversal(good: bytes, name: str) -> None:
    """An entry naming a path outside the bundle is refused before anything is read."""
    entries = _entries(good)
    assert _reason(_rezip([(_info(name), b"x"), *entries])) is Reason.PATH_TRAVERSAL


@pytest.mark.parametrize(
    "mode", [stat.S_IFLNK | 0o777, stat.S_IFCHR | 0o644, stat.S_IFIFO | 0o644, stat.S_IFDIR | 0o755]
)
def test_symlink_and_special_entries(good: bytes, mode: int) -> None:
    """A symlink, device, fifo or directory entry is refused, even under an allowed name."""
    entries = _entries(good)
    name = "evidence/" + sha256_hex(b"/etc/passwd")
    assert _reason(_rezip([(_info(name, mode), b"/etc/passwd"), *entries])) is Reason.BAD_ENTRY_TYPE


def test_directory_entry(good: bytes) -> None:
    """A directory entry is refused."""
    entries = _entries(good)
    assert _reason(_rezip([(_info("evidence/"), b""), *entries])) is Reason.BAD_ENTRY_TYPE


def test_unexpected_and_duplicate_members(good: bytes) -> None:
    """Only the allowed names may appear, each once."""
    entries = _entries(good)
    assert _reason(_rezip([(_info("run.sh"), b"x"), *entries])) is Reason.UNEXPECTED_MEMBER
    assert _reason(_rezip([entries[0], *entries])) is Reason.DUPLICATE_MEMBER


def test_zip_bomb_ratio(good: bytes) -> None:
    """A member that expands far beyond its compressed size is refused before decompression."""
    entries = _entries(good)
    info = _info(EVENTS)
    info.compress_type = zipfile.ZIP_DEFLATED
    bomb = _rezip([(info, b"\x00" * (4 << 20)), *entries[1:]])
    assert _reason(bomb) is Reason.ZIP_BOMB


def test_oversized_archive_and_member(good: bytes, tmp_path: Path) -> None:
    """Over the file cap, a member's cap or the total cap: refused, from a path or from bytes."""
    assert _reason(good, Limits(max_bundle_bytes=len(good) - 1)) is Reason.OVERSIZED
    path = tmp_path / "big.bundle"
    path.write_bytes(good)
    with pytest.raises(Refused) as caught:
        open_bundle(path, Limits(max_bundle_bytes=100))
    assert caught.value.reason is Reason.OVERSIZED
    assert _reason(good, Limits(max_events_bytes=5)) is Reason.OVERSIZED
    assert _reason(good, Limits(max_total_bytes=10)) is Reason.OVERSIZED
    assert _reason(good, Limits(max_members=2)) is Reason.OVERSIZED


def test_lying_size_header(good: bytes) -> None:
    """A directory that understates a member's size is caught by the bounded read."""
    data = bytearray(good)
    cd = data.find(b"PK\x01\x02")  # the first central-directory record: events.jsonl
    (size,) = struct.unpack_from("<I", data, cd + 24)
    struct.pack_into("<I", data, cd + 24, size - 5)
    assert _try(bytes(data)) in (Reason.ZIP_BOMB, Reason.TRUNCATED, Reason.HASH_MISMATCH)


def test_overlapping_entries(good: bytes) -> None:
    """Two directory records pointing at the same bytes (an overlap bomb) are refused."""
    data = bytearray(good)
    first = data.find(b"PK\x01\x02")
    second = data.find(b"PK\x01\x02", first + 4)
    struct.pack_into("<I", data, second + 42, struct.unpack_from("<I", data, first + 42)[0])
    assert _reason(bytes(data)) is Reason.ZIP_BOMB


def test_data_before_first_entry(good: bytes) -> None:
    """Bytes prepended to the archive (a self-extractor stub) are refused."""
    assert _try(b"MZ" + b"\x00" * 64 + good) in (Reason.NOT_A_BUNDLE, Reason.TRUNCATED)


def test_not_a_regular_file(tmp_path: Path) -> None:
    """A directory or a missing path given as a bundle is refused as not a bundle."""
    with pytest.raises(Refused) as caught:
        open_bundle(tmp_path)
    assert caught.value.reason is Reason.NOT_A_BUNDLE
    with pytest.raises(Refused) as caught:
        open_bundle(tmp_path / "nope.bundle")
    assert caught.value.reason is Reason.NOT_A_BUNDLE


def test_evidence_cap_matches_the_ledger() -> None:
    """Any evidence file the ledger stores fits in a bundle (the reader's cap is the ledger's)."""
    from inspect_engine.ledger import MAX_EVIDENCE_BYTES

    assert Limits().max_evidence_bytes == MAX_EVIDENCE_BYTES
    assert Limits().max_bundle_bytes > MAX_EVIDENCE_BYTES


def test_encrypted_entry(good: bytes) -> None:
    """An entry flagged as encrypted is refused."""
    data = bytearray(good)
    cd = data.find(b"PK\x01\x02")
    (flags,) = struct.unpack_from("<H", data, cd + 8)
    struct.pack_into("<H", data, cd + 8, flags | 0x1)
    assert _reason(bytes(data)) is Reason.BAD_ENTRY_TYPE
